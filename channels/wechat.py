"""WeChat Official Account (微信公众号) as a Rasa input channel.

credentials.yml:

    channels.wechat.WeChatInput:
      appid: wx...               # 开发者ID(AppID)
      secret: ...                # 开发者密码(AppSecret)
      token: ...                 # 服务器配置 → 令牌(Token)
      encoding_aes_key: ...      # 消息加解密密钥, needed for 安全模式 / 兼容模式
      api_base_url: https://api.weixin.qq.com   # optional; tests point it at a local fake

WeChat's server calls https://<host>/webhooks/wechat/webhook: GET once to verify the server
(signature + echostr), then POST for every message. WeChat retries a message when it gets no
answer within 5 seconds, so every message is acknowledged at once with "success" and handled
in the background; the assistant's answers go out through the customer-service message API.
Retries are recognised by MsgId (events: FromUserName + CreateTime) in the state shared by all
processes. Signatures and AES (safe mode) use wechatpy. In plain mode the signature covers only
token, timestamp and nonce, not the body, so requests whose timestamp is more than
MAX_CLOCK_SKEW_SECONDS away from now are refused (a captured request cannot be replayed later).
The Rasa conversation id is `wechat:<openid>` (bot.messaging.conversation_ids).
"""

from __future__ import annotations

import asyncio
import binascii
import logging
import time
import weakref
from xml.parsers.expat import ExpatError
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import xmltodict
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from bot.nlu.normalization import clean_inbound_text
from bot.messaging.buttons import ButtonMemory, number_buttons, payload_for_reply, render_numbered
from bot.messaging.conversation_ids import WECHAT, conversation_id, platform_id
from bot.messaging.dedupe import first_delivery, wechat_delivery_key
from bot.messaging.replay import fresh_or_retry
from bot.services.evidence_store import EvidenceRejected
from channels.messaging_support import (
    ATTACHMENT_ONLY_TEXT,
    BackgroundTasks,
    answering_outages,
    domain_text,
    shared_state,
    store_attachment,
)
from channels.wechat_api import OFFICIAL_API, WeChatApi, WeChatApiError
from channels.agent_relay import answering_pings

logger = logging.getLogger(__name__)

GREETING = "/greet"
# buyer-facing texts, in domain.yml
SEND_TEXT_OR_PHOTO = "utter_send_text_or_photo"
EVIDENCE_NOT_SAVED = "utter_evidence_not_saved"
CHOOSE_BY_NUMBER = "utter_choose_by_number"
MAX_CLOCK_SKEW_SECONDS = 300
MAX_TEXT = 2048  # WeChat's own limit on a text message


class WeChatOutput(OutputChannel):
    """Sends through the customer-service message API. Buttons become numbered lines; the
    options are remembered so that a digit reply maps back to the button's payload. Recipients
    are conversation ids (`wechat:<openid>`) or openids.

    `strict`: raise when WeChat refuses a message (the agent relay reports it to the agent);
    otherwise log it, so that a refused message never loses the conversation's state."""

    @classmethod
    def name(cls) -> Text:
        return "wechat"

    def __init__(self, api: WeChatApi, memory: ButtonMemory, strict: bool = True, choose_hint: str = "") -> None:
        self._api = api
        self._memory = memory
        self._strict = strict
        self._choose_hint = choose_hint
        self._shown: List = []

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        openid = platform_id(WECHAT, recipient_id)
        try:
            await asyncio.to_thread(self._api.send_text, openid, text)
        except WeChatApiError as error:
            if self._strict:
                raise
            logger.error("没能把回复发给微信用户 %s：%s", openid, error)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        options = number_buttons(buttons, first_number=len(self._shown) + 1)
        self._shown += options
        key = conversation_key(self._api.appid, platform_id(WECHAT, recipient_id))
        await asyncio.to_thread(self._memory.remember, key, self._shown)
        await self.send_text_message(recipient_id, render_numbered(text, options, self._choose_hint))

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, image)

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, attachment)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        logger.warning("微信渠道不发送自定义 JSON 消息（发给 %s）：%s", recipient_id, json_message)


class WeChatInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        missing = [key for key in ("appid", "secret", "token") if not str(credentials.get(key) or "").strip()]
        if missing:
            raise RasaException(
                f"credentials.yml 中 channels.wechat.WeChatInput 缺少 {', '.join(missing)}"
                "（见 README「Messaging apps: WeChat and Telegram」）。"
            )
        return cls(
            appid=str(credentials["appid"]).strip(),
            secret=str(credentials["secret"]).strip(),
            token=str(credentials["token"]).strip(),
            encoding_aes_key=str(credentials.get("encoding_aes_key") or "").strip() or None,
            api_base_url=str(credentials.get("api_base_url") or OFFICIAL_API).strip(),
        )

    def __init__(
        self,
        appid: str,
        secret: str,
        token: str,
        encoding_aes_key: Optional[str] = None,
        api_base_url: str = OFFICIAL_API,
    ) -> None:
        self.appid = appid
        self.token = token
        self.crypto = _crypto(token, encoding_aes_key, appid) if encoding_aes_key else None
        self.state = shared_state()
        self.api = WeChatApi(appid, secret, self.state, api_base_url)
        self.buttons = ButtonMemory(self.state)
        self.tasks = BackgroundTasks()
        self._buyer_locks: "weakref.WeakValueDictionary[str, asyncio.Lock]" = weakref.WeakValueDictionary()

    def get_output_channel(self) -> WeChatOutput:
        """For sending outside a buyer's request (agent replies, hand-back messages)."""
        try:
            hint = domain_text(Sanic.get_app(), CHOOSE_BY_NUMBER) or ""
        except SanicException:  # no server running in this process
            hint = ""
        return WeChatOutput(self.api, self.buttons, strict=True, choose_hint=hint)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # 「在吗」 while waiting for a person; a turn that fails answers in Chinese and keeps the message
        on_new_message = answering_outages(answering_pings(on_new_message))
        webhook = Blueprint("wechat_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify_server(request: Request) -> HTTPResponse:
            if not self._signed_by_wechat(request):
                return response.text("签名校验失败：请检查公众号后台「服务器配置」的令牌(Token)。", status=403)
            return response.text(request.args.get("echostr", ""))

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not _recent(request.args.get("timestamp", "")):
                return response.text(
                    f"timestamp 缺失或与服务器时间相差超过 {MAX_CLOCK_SKEW_SECONDS} 秒，消息未处理"
                    "（请检查服务器时钟）。",
                    status=403,
                )
            encrypted = request.args.get("encrypt_type", "raw").lower() == "aes"
            if self.crypto is not None and not encrypted:
                return response.text(
                    "已配置安全模式（encoding_aes_key），明文消息一律不处理：请在公众号后台选择安全模式或兼容模式。",
                    status=403,
                )
            try:
                xml = self._verified_xml(request)
            except (InvalidSignatureException, InvalidAppIdException):
                return response.text("签名校验失败，消息未处理。", status=403)
            except MissingAesKey:
                return response.text("收到安全模式的加密消息，但未配置 encoding_aes_key。", status=400)
            except Exception:  # wechatpy on a bad envelope / ciphertext (ExpatError, KeyError, IndexError ...)
                return response.text("加密消息格式错误（不是有效的 XML，或缺少 Encrypt），消息未处理。", status=400)
            args = request.args
            signed = ":".join(
                args.get(name, "") for name in ("timestamp", "nonce", "msg_signature" if encrypted else "signature")
            )
            if not await asyncio.to_thread(
                fresh_or_retry, self.state, "wechat", signed, request.body or b"", 2 * MAX_CLOCK_SKEW_SECONDS
            ):
                return response.text("这个签名已经用过（重放的请求），消息未处理。", status=403)
            try:
                message = xmltodict.parse(xml)["xml"]
                if not isinstance(message, dict) or not message.get("FromUserName"):
                    raise ValueError("no sender")
            except (ExpatError, KeyError, TypeError, ValueError):
                return response.text("消息不是有效的微信 XML（或缺少 FromUserName），消息未处理。", status=400)
            key = wechat_delivery_key(self.appid, message)
            if await asyncio.to_thread(first_delivery, self.state, key):
                self.tasks.start(self._handle(message, on_new_message, request.app), f"处理微信消息 {key}")
            return response.text("success")

        return webhook

    def _signed_by_wechat(self, request: Request) -> bool:
        args = request.args
        try:
            check_signature(self.token, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
            return True
        except InvalidSignatureException:
            return False

    def _verified_xml(self, request: Request) -> str:
        """The message XML after checking the signature (and decrypting it in safe mode)."""
        args = request.args
        body = request.body.decode("utf-8", errors="replace")
        if args.get("encrypt_type", "raw").lower() == "aes":
            if self.crypto is None:
                raise MissingAesKey()
            return self.crypto.decrypt_message(
                body, args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", "")
            )
        if not self._signed_by_wechat(request):
            raise InvalidSignatureException()
        return body

    async def _handle(
        self, message: Dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]], app: Any
    ) -> None:
        openid = str(message["FromUserName"])
        # one buyer's messages are handled in arrival order (a photo still downloading must not
        # be overtaken by the text sent after it); the lock lives while anyone holds it
        lock = self._buyer_locks.setdefault(openid, asyncio.Lock())
        async with lock:
            await self._handle_in_order(openid, message, on_new_message, app)

    async def _handle_in_order(
        self, openid: str, message: Dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]], app: Any
    ) -> None:
        output = WeChatOutput(
            self.api, self.buttons, strict=False, choose_hint=domain_text(app, CHOOSE_BY_NUMBER) or ""
        )
        kind = str(message.get("MsgType", "")).lower()
        metadata: Dict[str, Any] = {}

        async def tell(response_name: str) -> None:
            text = domain_text(app, response_name)
            if text:
                await output.send_text_message(openid, text)

        if kind == "text":
            text = clean_inbound_text(str(message.get("Content") or ""))[:MAX_TEXT]
            text = await self._chosen_button(openid, text) or text
        elif kind == "voice" and str(message.get("Recognition") or "").strip():
            text = clean_inbound_text(str(message["Recognition"]))[:MAX_TEXT]
        elif kind in ("image", "video", "shortvideo"):
            try:
                media = await asyncio.to_thread(self.api.download_media, str(message.get("MediaId", "")))
                metadata["attachments"] = [await store_attachment(media.data, media.filename)]
            except (WeChatApiError, OSError, EvidenceRejected) as error:
                logger.warning("微信%s %s 没能保存为凭证：%s", kind, message.get("MediaId"), error)
                await tell(EVIDENCE_NOT_SAVED)
                return
            text = ATTACHMENT_ONLY_TEXT
        elif kind == "event":
            if str(message.get("Event", "")).lower() != "subscribe":
                return  # unsubscribe, menu clicks, template receipts...: nothing to answer
            text = GREETING
        else:  # voice without recognition, location, link ...
            await tell(SEND_TEXT_OR_PHOTO)
            return
        if not text:
            return
        await on_new_message(
            UserMessage(
                text, output, conversation_id(WECHAT, openid), input_channel=self.name(), metadata=metadata or None
            )
        )

    async def _chosen_button(self, openid: str, text: str) -> Optional[str]:
        """The payload of the numbered option the buyer answered with, if any; the options of
        the previous turn are forgotten either way (this turn may show new ones)."""
        key = conversation_key(self.appid, openid)
        options = await asyncio.to_thread(self.buttons.recall, key)
        if not options:
            return None
        await asyncio.to_thread(self.buttons.forget, key)
        return payload_for_reply(text, options)


class MissingAesKey(Exception):
    pass


def _recent(timestamp: str) -> bool:
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    return abs(time.time() - sent_at) <= MAX_CLOCK_SKEW_SECONDS


def _crypto(token: str, encoding_aes_key: str, appid: str) -> WeChatCrypto:
    try:
        return WeChatCrypto(token, encoding_aes_key, appid)
    except (AssertionError, ValueError, binascii.Error) as error:
        raise RasaException(
            "credentials.yml 中 channels.wechat.WeChatInput 的 encoding_aes_key 无效："
            "应为公众号后台「服务器配置」生成的 43 位消息加解密密钥(EncodingAESKey)。"
        ) from error


def conversation_key(appid: str, openid: str) -> str:
    return f"wechat:{appid}:{openid}"
