"""The buyers' web chat: Rasa's socket.io channel with what a shop's website needs.

On top of `SocketIOInput` (same events `user_uttered` / `bot_uttered`; channel name `webchat`,
which tickets record and which `Settings.identity_channels` trusts for `customer_id`):
- session persistence: the widget keeps its session id; the sender id is that id, and the
  socket joins the room of that id, so agent replies reach every open tab of the buyer;
- signed identity: a shop-signed JWT (bot/services/identity.py) sent at connect time puts
  `customer_id` into every message's metadata; any customer_id the browser sends is dropped;
- evidence upload  POST /webhooks/webchat/upload  (multipart field `file`): type judged by
  content, size limits from Settings (GET /webhooks/webchat/limits), stored by hash
  (bot/services/evidence_store.py); a body over the video limit + 1 MB is refused unread (413);
- history          GET  /webhooks/webchat/history?session_id=...  (transcript from the tracker);
- evidence files   GET  /evidence/<sha256>.<ext>  for signed-in agents, or for the buyer of a
  conversation that contains the file (?session_id=...);
- the widget and the demo shop page: GET /chat/ (demo), /chat/widget.js, ... from web/.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.config import PROJECT_ROOT, get_settings
from bot.console.accounts import SESSION_COOKIE, agent_for_token
from bot.console.transcript import transcript
from bot.nlu.normalization import clean_inbound_text
from bot.services.evidence_store import (
    EvidenceLimits,
    EvidenceRejected,
    media_type_of,
    megabytes,
    open_evidence,
    record_uploader,
    store_evidence,
    was_uploaded_by,
)
from bot.services.identity import verified_identity
from bot.throttles import Throttle
from channels.database import in_database
from channels.http import error_response, json_response, limited_body
from bot.throttles import message_throttle
from channels.messaging_support import answering_outages, client_address, too_long_reply, too_many_messages_reply
from channels import agent_relay
from channels import console_live
from channels.agent_relay import answering_pings

logger = logging.getLogger(__name__)

WEB_ROOT = PROJECT_ROOT / "web"
MAX_NAME_LENGTH = 120
MULTIPART_ALLOWANCE = 1024 * 1024  # form boundaries and headers around the file itself
SESSION_INVALID = "session_invalid"  # chat_error code; the widget shows its own Chinese text
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
_EVIDENCE_NAME = re.compile(r"([0-9a-f]{64})\.([a-z0-9]{2,5})")


def _valid_session_id(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and _SESSION_ID.fullmatch(value) else None


# engine.io packet types a client may POST over long polling (protocol 4): close, pong, message,
# upgrade, and base64 binary. python-engineio 4 answers any other (open 0, ping 2, noop 6) by
# closing the socket and waiting for the next poll before it answers: the POST hung up to 60 s.
# A POST to a session that closed a moment before raised KeyError in engine.io: a 500.
_CLIENT_PACKET_TYPES = frozenset("1345b")


def refusing_foreign_packets(eio: Any) -> None:
    """Wrap the engine.io server's request handler (before socket.io attaches it to Sanic):
    a polling POST with a packet no client sends gets 400 at once."""
    original = eio.handle_request

    async def handle_request(request: Request, *args: Any, **kwargs: Any) -> Any:
        if request.method != "POST":
            return await original(request, *args, **kwargs)
        packets = (request.body or b"").decode("utf-8", errors="replace").split("\x1e")
        if any(not packet or packet[0] not in _CLIENT_PACKET_TYPES for packet in packets):
            return response.text("无效的 socket.io 数据包。", status=400)
        try:
            return await original(request, *args, **kwargs)
        except KeyError:  # the session closed after engine.io looked it up ("Session is disconnected")
            return response.text("socket.io 会话已断开，请重新连接。", status=400)

    eio.handle_request = handle_request


def socketio_manager():
    """With AFTERSALES_REDIS_URL, socket.io rooms span every Rasa replica (python-socketio's
    Redis manager): an agent reply handled by replica B reaches the buyer connected to A."""
    url = get_settings().redis_url
    if not url:
        return None
    from socketio import AsyncRedisManager

    return AsyncRedisManager(url, channel="aftersales-webchat")


class WebChatOutput(SocketIOOutput):
    """Socket.io output that also marks messages written by a human agent."""

    async def send_agent_message(self, recipient_id: Text, text: Text, agent: Text) -> None:
        await self._send_message(recipient_id, {"text": text, "from_agent": True})

    async def send_agent_image(self, recipient_id: Text, path: Path, attachment: Dict[str, Any], agent: Text) -> None:
        """The widget fetches the image from /evidence/ with its session id (`_may_view`)."""
        shown = {key: attachment[key] for key in ("type", "url", "sha256", "name")}
        await self._send_message(recipient_id, {"attachments": [shown], "from_agent": True})


class WebChatInput(SocketIOInput):
    @classmethod
    def name(cls) -> Text:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            cors_allowed_origins=credentials.get("cors_allowed_origins") or list(get_settings().cors_origins) or None,
        )

    def __init__(
        self,
        user_message_evt: Text = "user_uttered",
        bot_message_evt: Text = "bot_uttered",
        socketio_path: Text = "/socket.io",
        cors_allowed_origins: Any = None,
    ) -> None:
        super().__init__(
            user_message_evt=user_message_evt,
            bot_message_evt=bot_message_evt,
            namespace=None,
            session_persistence=True,
            socketio_path=socketio_path,
        )
        self.cors_allowed_origins = cors_allowed_origins
        settings = get_settings()
        self.shop_jwt_secret = settings.shop_jwt_secret
        self.evidence_dir = Path(settings.evidence_dir)
        self.limits = EvidenceLimits.from_settings(settings)
        self.console_session_hours = settings.console_session_hours
        self.max_chars = settings.max_message_chars
        self.upload_throttle = Throttle(
            "upload-client", settings.uploads_per_client, settings.redis_url, settings.database_url
        )
        self.message_throttle = message_throttle(settings)

    def url_prefix(self) -> Text:
        return "/"  # the routes below carry their full paths (/chat/, /evidence/, /webhooks/webchat/)

    def get_output_channel(self) -> Optional[OutputChannel]:
        return WebChatOutput(self.sio, self.bot_message_evt) if self.sio is not None else None

    # ---- socket.io ----------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = answering_outages(answering_pings(on_new_message))  # 「在吗」 while waiting for a person
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.cors_allowed_origins,
            client_manager=socketio_manager(),
        )
        self.sio = sio
        refusing_foreign_packets(sio.eio)
        web = SocketBlueprint(sio, self.socketio_path, "webchat", __name__)

        console_live.serve_on(sio)

        @sio.on("connect")
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            if not isinstance(environ, dict):  # a client's own "connect" event, not engine.io's
                return False
            if isinstance(auth, dict) and auth.get("console"):  # the agent console's live updates
                return await console_live.join_if_agent(sio, sid, environ)
            token = auth.get("identity") if isinstance(auth, dict) else None
            identity = verified_identity(token, self.shop_jwt_secret)
            if token and identity is None:
                logger.info("web chat %s: identity token refused (bad signature, expired or malformed)", sid)
            await sio.save_session(
                sid,
                {
                    "customer_id": identity.customer_id if identity else None,
                    "identity_expires_at": identity.expires_at if identity else None,
                    "session_id": None,
                    "client": client_address(environ.get("sanic.request")),
                },
            )
            return True

        @sio.on("session_request")
        async def session_request(sid: Text, data: Optional[Dict] = None) -> None:
            session_id = _valid_session_id((data or {}).get("session_id")) or uuid.uuid4().hex
            state = await sio.get_session(sid)
            if state.get("session_id") and state["session_id"] != session_id:
                await sio.leave_room(sid, state["session_id"])
            await sio.save_session(sid, {**state, "session_id": session_id})
            await sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on(self.user_message_evt)
        async def handle_message(sid: Text, data: Any) -> None:
            if not isinstance(data, dict):
                return
            state = await sio.get_session(sid)
            session_id = state.get("session_id")
            if session_id is None or data.get("session_id") != session_id:  # only the session this socket joined
                await sio.emit("chat_error", {"code": SESSION_INVALID}, room=sid)
                return
            client = state.get("client") or "unknown"
            if not self.message_throttle.hit(client):  # counted before any work on the message
                reply = too_many_messages_reply(Sanic.get_app(), self.message_throttle.retry_after_seconds(client))
                await sio.emit(self.bot_message_evt, {"text": reply}, room=sid)
                await sio.emit("bot_idle", room=sid)
                return
            text = data.get("message")
            text = clean_inbound_text(text) if isinstance(text, str) else ""
            if len(text) > self.max_chars:  # told, not processed: the NLU never sees it
                reply = too_long_reply(Sanic.get_app(), self.max_chars)
                await sio.emit(self.bot_message_evt, {"text": reply}, room=sid)
                await sio.emit("bot_idle", room=sid)
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            metadata = trusted_metadata(metadata if isinstance(metadata, dict) else {}, self.evidence_dir, session_id)
            customer_id = _unexpired_customer_id(state)
            if customer_id:
                metadata["customer_id"] = customer_id
            if not text and not metadata.get("attachments"):
                return
            message = UserMessage(
                text,
                WebChatOutput(sio, self.bot_message_evt),
                session_id,
                input_channel=self.name(),
                metadata=metadata,
            )
            await on_new_message(message)
            # the turn is over (also when the bot stays silent because a person has the chat)
            await sio.emit("bot_idle", room=sid)

        self._add_http_routes(web)
        return web

    # ---- HTTP ---------------------------------------------------------------------------

    def _add_http_routes(self, web: Blueprint) -> None:
        @web.route("/webhooks/webchat/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return json_response({"status": "ok"})

        @web.route("/webhooks/webchat/limits", methods=["GET"])
        async def limits(_: Request) -> HTTPResponse:
            """What the widget checks before uploading."""
            return json_response(
                {"max_image_bytes": self.limits.max_image_bytes, "max_video_bytes": self.limits.max_video_bytes}
            )

        @web.route("/webhooks/webchat/upload", methods=["POST"], stream=True)
        async def upload(request: Request) -> HTTPResponse:
            client = (request.remote_addr or request.ip or "unknown")[:64]
            if not self.upload_throttle.hit(client):
                result = error_response(429, "上传太频繁了，请稍后再试；如需补充很多凭证，可以转人工客服。")
                result.headers["Retry-After"] = str(self.upload_throttle.retry_after_seconds(client))
                return result
            # streamed, so that an oversized upload is refused before it is read into memory
            body = await self._upload_body(request)
            if body is None:
                return error_response(413, self._too_large_message())
            request.body = body
            uploaded = request.files.get("file") if request.files else None
            if uploaded is None:
                return error_response(400, "没有收到文件，请选择一张照片或一段视频再上传。")
            session_id = _valid_session_id(request.args.get("session_id") or request.form.get("session_id"))
            if session_id is None:
                return error_response(400, "上传需要当前聊天的会话编号，请刷新页面后重新上传。")
            try:
                stored = await asyncio.to_thread(
                    store_evidence,
                    uploaded.body,
                    evidence_dir=self.evidence_dir,
                    declared_name=uploaded.name,
                    limits=self.limits,
                )
            except EvidenceRejected as refused:
                return error_response(413 if refused.too_large else 415, refused.message)
            await asyncio.to_thread(record_uploader, self.evidence_dir, stored.sha256, session_id)
            return json_response({"attachment": stored.attachment(_display_name(uploaded.name, stored))})

        @web.route("/webhooks/webchat/greeting", methods=["GET"])
        async def greeting(request: Request) -> HTTPResponse:
            """What the widget shows when a new chat opens (domain.yml utter_widget_greeting)."""
            shown = agent_relay.response_variant(request.app, agent_relay.RESPONSE_WIDGET_GREETING)
            if shown is None:
                return error_response(404, "没有配置欢迎语。")
            buttons = [{"title": b.get("title"), "payload": b.get("payload")} for b in shown.get("buttons") or []]
            return json_response({"text": shown.get("text") or "", "buttons": buttons})

        @web.route("/webhooks/webchat/history", methods=["GET"])
        async def history(request: Request) -> HTTPResponse:
            session_id = _valid_session_id(request.args.get("session_id"))
            if session_id is None:
                return error_response(400, "会话编号无效。")
            tracker = await request.app.ctx.agent.tracker_store.retrieve(session_id)
            if tracker is not None and tracker.get_latest_input_channel() not in (None, self.name()):
                tracker = None  # a conversation of another channel (e.g. REST) is not a web chat's history
            events = [event.as_dict() for event in tracker.events] if tracker is not None else []
            lines = [_buyer_view(line) for line in transcript(events, include_system=False)]
            return json_response({"session_id": session_id, "messages": lines})

        @web.route("/evidence/<name>", methods=["GET"])
        async def evidence(request: Request, name: str) -> HTTPResponse:
            match = _EVIDENCE_NAME.fullmatch(name)
            path = open_evidence(self.evidence_dir, match.group(1)) if match else None
            if path is None:
                return error_response(404, "找不到这个凭证文件。")
            if not await self._may_view(request, match.group(1)):
                return error_response(403, "无权查看这个凭证文件。")
            return await response.file(
                path,
                mime_type=media_type_of(path),
                headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
            )

        web.static("/chat/", str(WEB_ROOT / "demo" / "index.html"), name="demo_page")
        web.static("/chat/widget", str(WEB_ROOT / "widget"), name="widget_files")
        web.static("/chat/vendor", str(WEB_ROOT / "vendor"), name="vendor_files")

    def _max_upload_bytes(self) -> int:
        return self.limits.largest + MULTIPART_ALLOWANCE

    def _too_large_message(self) -> str:
        return (
            f"文件太大了，无法上传：照片最大 {megabytes(self.limits.max_image_bytes)}，"
            f"视频最大 {megabytes(self.limits.max_video_bytes)}。请压缩或截取后重新上传。"
        )

    async def _upload_body(self, request: Request) -> Optional[bytes]:
        """The request body, or None as soon as it is known to exceed the upload limit."""
        return await limited_body(request, self._max_upload_bytes())

    async def _may_view(self, request: Request, sha256: str) -> bool:
        token = request.cookies.get(SESSION_COOKIE)
        if token and await in_database(lambda session: agent_for_token(session, token)) is not None:
            return True
        session_id = _valid_session_id(request.args.get("session_id"))
        if session_id is None:
            return False
        tracker = await request.app.ctx.agent.tracker_store.retrieve(session_id)
        if tracker is None:
            return False
        web_chat = tracker.get_latest_input_channel() == self.name()
        for event in tracker.events:
            metadata = getattr(event, "metadata", None) or {}
            # a web chat message names a file its buyer uploaded (not REST); an agent's message one
            # sent to this web chat's buyer
            from_buyer = getattr(event, "input_channel", None) == self.name()
            from_agent = web_chat and isinstance(event, BotUttered) and bool(metadata.get("agent"))
            if not (from_buyer or from_agent):
                continue
            attachments = metadata.get("attachments") or []
            if any(isinstance(item, dict) and item.get("sha256") == sha256 for item in attachments):
                return True
        return False


def _unexpired_customer_id(state: Dict[str, Any]) -> Optional[str]:
    """The signed customer id of the socket, while its token has not expired."""
    expires_at = state.get("identity_expires_at")
    if not state.get("customer_id") or expires_at is None or time.time() >= expires_at:
        return None
    return state["customer_id"]


def trusted_metadata(
    metadata: Dict[str, Any],
    evidence_dir: Path,
    session_id: Optional[str] = None,
    *,
    uploader_checked: bool = True,
) -> Dict[str, Any]:
    """Only what a browser may say about its own message: the attachments this chat session
    uploaded (really in the evidence store; size and type read from the stored file, not from
    the browser) and the title of a clicked button. Identity never. `uploader_checked=False` for
    the REST channel (CLI, tests, benchmarks; off or authenticated in production), whose files
    are stored by the caller itself and never served back to it."""
    trusted: Dict[str, Any] = {}
    attachments = []
    for item in metadata.get("attachments") or []:
        if not isinstance(item, dict):
            continue
        match = _EVIDENCE_NAME.fullmatch(str(item.get("url") or "").removeprefix("/evidence/"))
        path = open_evidence(evidence_dir, match.group(1)) if match else None  # uploaded here
        if path is None or match.group(1) != item.get("sha256"):
            continue
        if uploader_checked and not was_uploaded_by(evidence_dir, match.group(1), session_id):
            continue  # another chat's file: knowing its hash is not enough
        media_type = media_type_of(path)
        kind = media_type.split("/")[0]
        if kind not in ("image", "video"):
            continue
        name = clean_inbound_text(item["name"]) if isinstance(item.get("name"), str) else None
        attachments.append(
            {
                "type": kind,
                "url": f"/evidence/{path.name}",
                "sha256": match.group(1),
                "size": path.stat().st_size,
                "media_type": media_type,
                "name": name.strip()[:MAX_NAME_LENGTH] if isinstance(name, str) and name.strip() else path.name,
            }
        )
    if attachments:
        trusted["attachments"] = attachments[:10]
    shown = metadata.get("shown_text")
    shown = clean_inbound_text(shown) if isinstance(shown, str) else ""
    if shown:
        trusted["shown_text"] = shown[:200]
    return trusted


def _display_name(declared: Optional[str], stored) -> str:
    name = Path(declared or "").name.strip()[:MAX_NAME_LENGTH]
    return name or f"{stored.sha256[:12]}.{stored.extension}"


def _buyer_view(line: Dict[str, Any]) -> Dict[str, Any]:
    shown = {key: value for key, value in line.items() if key not in ("intent", "agent")}
    if line.get("from") == "agent":
        shown["from_agent"] = True
    return shown
