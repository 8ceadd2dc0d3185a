"""The assistant behind its messaging-app channels: the session's shared pair of servers
(tests/shared_assistant.py: the Rasa server loading a credentials file that names the WeChat
and Telegram channels and the agent relay, and the real action server), talking to local
fakes of WeChat's and Telegram's HTTP APIs. Inbound requests are built here independently of the project's code:
WeChat signatures with hashlib and AES payloads with wechatpy's own WeChatCrypto, Telegram
updates as the Bot API documents them."""

from __future__ import annotations

import hashlib
import itertools
import secrets
import time
import uuid
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import requests
import xmltodict
from sqlalchemy import select
from wechatpy.crypto import WeChatCrypto

from bot.db.engine import make_engine, session_scope
from bot.db.tables import Evidence, Ticket
from tests.fakes.telegram_api import FakeTelegramBotApi
from tests.fakes.wechat_api import FakeWeChatApi
from tests.shared_assistant import (  # noqa: F401  (the platform constants: used by the tests here)
    HEADPHONES_PHONE_LAST4,
    RELAY_TOKEN,
    TELEGRAM_HEADPHONES_ORDER,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    WECHAT_AES_KEY,
    WECHAT_APPID,
    WECHAT_HEADPHONES_ORDER,
    WECHAT_SECRET,
    WECHAT_TOKEN,
    SharedAssistant,
    SharedView,
)

WECHAT_ACCOUNT = "gh_aftersales0001"


def jpeg_photo(seed: int) -> bytes:
    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (64, 48), ((seed * 53) % 256, (seed * 97) % 256, 120)).save(buffer, "JPEG")
    return buffer.getvalue()


def mp4_video(seed: int) -> bytes:
    """An ISO base media file: ftyp box (brand isom) and an mdat box."""
    payload = secrets.token_bytes(256) + bytes([seed % 256])
    ftyp = (24).to_bytes(4, "big") + b"ftypisom" + (512).to_bytes(4, "big") + b"isommp41"
    mdat = (8 + len(payload)).to_bytes(4, "big") + b"mdat" + payload
    return ftyp + mdat


class Servers(SharedView):
    """The session's shared servers (tests/shared_assistant.py) and the fakes of WeChat's and
    Telegram's APIs they talk to."""

    def __init__(self, shared: SharedAssistant) -> None:
        super().__init__(shared)
        self.wechat: FakeWeChatApi = shared.wechat
        self.telegram: FakeTelegramBotApi = shared.telegram
        self.rasa_log: Path = shared.rasa_log

    @property
    def rasa_url(self) -> str:
        return self.shared.api_url

    def user_turns(self, conversation_id: str) -> List[Dict[str, Any]]:
        return [e for e in self.tracker(conversation_id)["events"] if e["event"] == "user"]

    def wait_until_answered(self, conversation_id: str, user_turns: int, timeout: float = 90.0) -> Dict[str, Any]:
        """Waits until the conversation holds `user_turns` user messages and the bot finished
        the last one (the tracker is saved after all replies went out)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            tracker = self.tracker(conversation_id)
            events = tracker["events"]
            turns = [e for e in events if e["event"] == "user"]
            if len(turns) >= user_turns and (
                tracker.get("paused") or (events[-1]["event"] == "action" and events[-1]["name"] == "action_listen")
            ):
                return tracker
            time.sleep(0.2)
        raise AssertionError(f"{timeout:.0f} 秒内会话 {conversation_id} 没有处理完第 {user_turns} 条消息")

    def relay(self, action: str, body: Dict[str, Any]) -> requests.Response:
        return requests.post(
            f"{self.rasa_url}/webhooks/agent_relay/{action}",
            json=body,
            headers={"Authorization": f"Bearer {RELAY_TOKEN}"},
            timeout=60,
        )

    def tickets_of(self, conversation_id: str) -> List[Dict[str, Any]]:
        engine = make_engine(self.database_url)
        with session_scope(engine) as session:
            tickets = session.execute(select(Ticket).where(Ticket.conversation_id == conversation_id)).scalars().all()
            return [
                {
                    "number": t.ticket_number,
                    "rule_id": t.rule_id,
                    "channel": t.channel,
                    "chosen_remedy": t.chosen_remedy,
                    "evidence": session.execute(
                        select(Evidence.sha256).where(Evidence.ticket_id == t.id).order_by(Evidence.id)
                    )
                    .scalars()
                    .all(),
                }
                for t in tickets
            ]


@pytest.fixture(scope="session")
def servers(shared_assistant: SharedAssistant) -> Servers:
    return Servers(shared_assistant)


# ---------------------------------------------------------------- WeChat's side of the wire


def plain_signature(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's server signature: SHA-1 of token, timestamp and nonce sorted and joined."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode("utf-8")).hexdigest()


_msg_ids = itertools.count(int(time.time()) * 1000)


@dataclass
class WeChatUser:
    """One follower of the Official Account, posting what WeChat's server would post."""

    servers: Servers
    safe_mode: bool = True  # the channel has an EncodingAESKey, so WeChat sends every message encrypted
    openid: str = field(default_factory=lambda: "o" + uuid.uuid4().hex[:27])
    turns: int = 0

    @property
    def conversation_id(self) -> str:
        return f"wechat:{self.openid}"

    @property
    def webhook(self) -> str:
        return f"{self.servers.rasa_url}/webhooks/wechat/webhook"

    def message_xml(self, msg_type: str, fields: Dict[str, str], msg_id: Optional[int] = None) -> str:
        body = {
            "ToUserName": WECHAT_ACCOUNT,
            "FromUserName": self.openid,
            "CreateTime": str(int(time.time())),
            "MsgType": msg_type,
            **fields,
        }
        if msg_type != "event":
            body["MsgId"] = str(msg_id if msg_id is not None else next(_msg_ids))
        return xmltodict.unparse({"xml": body}, full_document=False)

    def post_xml(
        self,
        xml: str,
        token: str = WECHAT_TOKEN,
        aes_key: str = WECHAT_AES_KEY,
        timestamp: Optional[str] = None,
        nonce: Optional[str] = None,
    ) -> requests.Response:
        timestamp, nonce = timestamp or str(int(time.time())), nonce or secrets.token_hex(5)
        params = {
            "signature": plain_signature(token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": self.openid,
        }
        if self.safe_mode:
            envelope = xmltodict.parse(
                WeChatCrypto(token, aes_key, WECHAT_APPID).encrypt_message(xml, nonce, timestamp)
            )["xml"]
            params.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
            xml = xmltodict.unparse(
                {"xml": {"ToUserName": WECHAT_ACCOUNT, "Encrypt": envelope["Encrypt"]}}, full_document=False
            )
        return requests.post(
            self.webhook, params=params, data=xml.encode("utf-8"), headers={"Content-Type": "text/xml"}, timeout=10
        )

    def send(self, msg_type: str, fields: Dict[str, str], msg_id: Optional[int] = None) -> requests.Response:
        response = self.post_xml(self.message_xml(msg_type, fields, msg_id))
        assert response.status_code == 200 and response.text == "success", response.text
        return response

    def say(self, text: str) -> List[str]:
        """Sends a text message and returns the texts the bot sent back for it."""
        return self.exchange("text", {"Content": text})

    def exchange(self, msg_type: str, fields: Dict[str, str]) -> List[str]:
        before = len(self.servers.wechat.texts_to(self.openid))
        self.send(msg_type, fields)
        self.turns += 1
        self.servers.wait_until_answered(self.conversation_id, self.turns)
        return self.servers.wechat.texts_to(self.openid)[before:]


@pytest.fixture
def wechat_user(servers) -> WeChatUser:
    return WeChatUser(servers)


# -------------------------------------------------------------- Telegram's side of the wire

_update_ids = itertools.count(500000)
_message_ids = itertools.count(1)


@dataclass
class TelegramUser:
    """A private chat with the bot, posting updates as the Bot API documents them."""

    servers: Servers
    chat_id: int = field(default_factory=lambda: 100000000 + secrets.randbelow(800000000))
    turns: int = 0

    @property
    def conversation_id(self) -> str:
        return f"telegram:{self.chat_id}"

    def _message(self, chat: Optional[Dict[str, Any]] = None, **content: Any) -> Dict[str, Any]:
        user = {"id": self.chat_id, "is_bot": False, "first_name": "买家", "language_code": "zh-hans"}
        return {
            "message_id": next(_message_ids),
            "from": user,
            "chat": chat or {"id": self.chat_id, "first_name": "买家", "type": "private"},
            "date": int(time.time()),
            **content,
        }

    def post(self, update: Dict[str, Any], secret: Optional[str] = TELEGRAM_SECRET) -> requests.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return requests.post(
            f"{self.servers.rasa_url}/webhooks/telegram/webhook", json=update, headers=headers, timeout=120
        )

    def update(self, **content: Any) -> Dict[str, Any]:
        return {"update_id": next(_update_ids), "message": self._message(**content)}

    def exchange(self, update: Dict[str, Any]) -> List[Dict[str, Any]]:
        """Posts an update and returns the messages the bot sent for it."""
        before = len(self.servers.telegram.sent_to(self.chat_id))
        response = self.post(update)
        assert response.status_code == 200, response.text
        self.turns += 1
        self.servers.wait_until_answered(self.conversation_id, self.turns)
        return self.servers.telegram.sent_to(self.chat_id)[before:]

    def say(self, text: str) -> List[Dict[str, Any]]:
        return self.exchange(self.update(text=text))

    def press(self, sent_message: Dict[str, Any], callback_data: str) -> List[Dict[str, Any]]:
        """Presses an inline-keyboard button of a message the bot sent."""
        bot_message = {
            "message_id": 9000 + self.turns,
            "from": {"id": 700000001, "is_bot": True, "first_name": "售后助手"},
            "chat": {"id": self.chat_id, "type": "private"},
            "date": int(time.time()),
            "text": sent_message["text"],
        }
        update = {
            "update_id": next(_update_ids),
            "callback_query": {
                "id": str(secrets.randbelow(10**18)),
                "from": {"id": self.chat_id, "is_bot": False, "first_name": "买家"},
                "message": bot_message,
                "chat_instance": "-12345",
                "data": callback_data,
            },
        }
        return self.exchange(update)


@pytest.fixture
def telegram_user(servers) -> TelegramUser:
    return TelegramUser(servers)


def user_texts_after_a_genuine_message(user: "WeChatUser | TelegramUser", text: str = "你好") -> List[str]:
    """The conversation's user turns once a genuine message from the same account, sent now,
    has been answered. Rasa handles one conversation's messages in the order they came, so a
    message taken in the background before it would be among them: no fixed wait is needed."""
    if isinstance(user, WeChatUser):
        user = WeChatUser(user.servers, openid=user.openid)  # signed and encrypted as WeChat would
    else:
        user = TelegramUser(user.servers, chat_id=user.chat_id)
    user.turns = len(user.servers.user_turns(user.conversation_id))
    user.say(text)
    return [turn["text"] for turn in user.servers.user_turns(user.conversation_id)]


def joined(texts: List[str]) -> str:
    return "\n".join(texts)
