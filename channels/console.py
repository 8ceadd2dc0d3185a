"""The human agents' console, served by the Rasa server itself (`/console/`).

Running inside the Rasa server lets an agent's reply go out in-process through the agent
relay (channels/agent_relay.py) on the buyer's own channel, with no second server to run or
secure. Transcripts are read through Rasa's HTTP API (channels/dialogue_api.py), like every
other tracker access of the desk.

The page (web/console/) is static; everything it shows comes from the JSON API below and is
put on the page as text (never as HTML), so a buyer's `<script>` is shown, not run.

    POST /console/api/login {username, password}      sets the HttpOnly session cookie
    POST /console/api/logout                 GET /console/api/me
    GET  /console/api/queue?view=waiting|mine|all
    POST /console/api/handoffs/<id>/claim
    GET  /console/api/conversations/<id>?since=N      details + transcript lines from N on
    POST /console/api/conversations/<id>/reply   {text}
    POST /console/api/conversations/<id>/image   the image's bytes (JPEG/PNG/WebP), X-File-Name header
    POST /console/api/conversations/<id>/notes   {body}
    POST /console/api/conversations/<id>/return | /resolve
    POST /console/api/tickets/<number>  {status?, chosen_remedy?, priority?, note?}
    GET  /console/api/dashboard
    GET  /console/api/tickets?status=&category=&rule=&priority=&sla=&channel=&assignee=&q=
    GET  /console/api/tickets/<number>?since=N               the ticket page (+ its chat's transcript)
    POST /console/api/tickets/<number>/assign  {assignee}    (null: unassign)
    POST /console/api/tickets/<number>/notes   {body}
    POST /console/api/tickets/<number>/message {text}        to the buyer, on the buyer's channel
    POST /console/api/tickets/<number>/tracking {carrier, tracking_number}  the buyer is told
    GET  /console/api/canned                                 canned replies (domain.yml utter_canned_*)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Text
from urllib.parse import unquote

from rasa.core import jobs
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import bootstrap
from bot.config import PROJECT_ROOT, get_settings
from bot.console import accounts, commands, promises, views
from bot.console.accounts import SESSION_COOKIE, AccountError, SignedInAgent
from bot.console.transcript import transcript
from bot.messaging import inbound
from bot.services import security_audit
from bot.domain.vocabulary import label_zh
from bot.services import tickets
from bot.services.clock import shop_zone, to_shop_time
from bot.services.errors import ServiceError
from bot.services.handoffs import agent_actor
from bot.services.evidence_store import EvidenceLimits, EvidenceRejected, megabytes, open_evidence, store_agent_image
from channels import agent_relay, console_live, dialogue_api
from channels.database import in_database, in_database_handled, policy
from channels.http import error_response, json_body, json_response, limited_body

CONSOLE_ROOT = PROJECT_ROOT / "web" / "console"
MAX_ROW_ID = 2**63 - 1
SLA_CHECK_MINUTES = 5
MAX_FILE_NAME = 120
logger = logging.getLogger(__name__)


# what a cross-site HTML form can send without the browser asking the server first
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def signed_in(handler: Optional[Callable[..., Awaitable[HTTPResponse]]] = None, *, file_body: bool = False):
    """Only for a valid, unexpired login; POSTs must be JSON (a cross-site form cannot send it),
    or with `file_body` the file itself in any type a form cannot send."""
    if handler is None:
        return functools.partial(signed_in, file_body=file_body)

    @functools.wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        token = request.cookies.get(SESSION_COOKIE)
        agent = await in_database(lambda session: accounts.agent_for_token(session, token)) if token else None
        if agent is None:
            return error_response(401, "请先登录（登录已过期或尚未登录）。")
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if request.method == "POST" and file_body:
            if not content_type or content_type in FORM_CONTENT_TYPES:
                return error_response(415, "请直接上传图片文件本身（Content-Type 为图片类型），不能用表单提交。")
        elif request.method == "POST" and content_type != "application/json":
            return error_response(415, "请求必须是 JSON（Content-Type: application/json）。")
        if "conversation_id" in kwargs:
            try:
                # Sanic hands route parameters over still percent-encoded, and the page encodes the
                # id (encodeURIComponent): a WeChat id's colons arrive as %3A
                kwargs["conversation_id"] = inbound.conversation_id(unquote(kwargs["conversation_id"]), "会话编号")
            except inbound.InboundRefused as refused:
                return error_response(refused.status, refused.message)
        return await handler(request, agent, *args, **kwargs)

    return wrapper


class AgentConsoleInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "console"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()

    def url_prefix(self) -> Text:
        return "/console"

    def get_output_channel(self) -> Optional[OutputChannel]:
        return None  # agents do not chat with the bot; their replies go through the relay

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        console = Blueprint("agent_console", __name__)
        lifetime = timedelta(hours=get_settings().console_session_hours)
        login_throttles = accounts.LoginThrottles.from_settings(get_settings())
        evidence_dir = Path(get_settings().evidence_dir)
        image_limits = EvidenceLimits.from_settings(get_settings())

        @console.listener("after_server_start")
        async def tell_buyers_through_the_relay(app, loop) -> None:
            """From now on a status an agent sets, or a new tracking number, reaches the buyer
            through the relay in this process (the handlers of the ticket events, bot/bootstrap.py)."""
            bootstrap.install(bootstrap.current().telling_buyers(relay_teller(app, loop)))

        @console.listener("after_server_start")
        async def watch_sla(app, _loop) -> None:
            """Every SLA_CHECK_MINUTES (and once at start) flag tickets about to break, or past,
            a deadline the buyer was promised (commands.flag_sla), on Rasa's own APScheduler."""
            scheduler = await jobs.scheduler()
            scheduler.add_job(
                flag_sla_now,
                "interval",
                minutes=SLA_CHECK_MINUTES,
                id="aftersales_sla_watch",
                replace_existing=True,
                next_run_time=datetime.now(timezone.utc),
            )

        console.listener("after_server_stop")(agent_relay.close_dialogue_client)

        @console.middleware("response")
        async def tell_the_other_consoles(request: Request, response: HTTPResponse) -> None:
            """An agent changed something (claim, reply, hand-back, ticket...): every console
            page reloads what it shows (channels/console_live.py)."""
            if request.method == "POST" and response.status < 400 and not request.path.endswith(("/login", "/logout")):
                await console_live.announce(None, "desk")

        console.static("/", str(CONSOLE_ROOT / "index.html"), name="console_page")
        console.static("/static", str(CONSOLE_ROOT), name="console_files")

        @console.route("/api/login", methods=["POST"])
        async def login(request: Request) -> HTTPResponse:
            body = json_body(request)
            if body is None:
                return error_response(400, "请求必须是 JSON 对象。")
            username, password = str(body.get("username") or ""), str(body.get("password") or "")
            if not username or not password:
                return error_response(400, "请输入用户名和密码。")
            client = client_address(request)
            wait = login_throttles.wait_seconds(username, client)
            if wait:
                return _too_many_logins(wait)
            try:
                token, agent = await in_database(
                    lambda session: accounts.log_in(session, username, password, lifetime=lifetime)
                )
            except AccountError as refused:
                locked = login_throttles.failed(username, client)
                if locked:
                    await in_database(
                        lambda session: security_audit.record(
                            session,
                            security_audit.LOGIN_LOCKED,
                            locked,
                            details={"account": username[:64], "client": client},
                        )
                    )
                return error_response(401, refused.message)
            result = json_response({"agent": _agent_json(agent)})
            result.cookies[SESSION_COOKIE] = token
            cookie = result.cookies[SESSION_COOKIE]
            cookie["httponly"] = True
            cookie["samesite"] = "Strict"
            cookie["path"] = "/"
            cookie["max-age"] = int(lifetime.total_seconds())
            if request.scheme == "https":
                cookie["secure"] = True
            return result

        @console.route("/api/logout", methods=["POST"])
        async def logout(request: Request) -> HTTPResponse:
            token = request.cookies.get(SESSION_COOKIE)
            await in_database(lambda session: accounts.log_out(session, token))
            result = json_response({"ok": True})
            del result.cookies[SESSION_COOKIE]
            return result

        @console.route("/api/me", methods=["GET"])
        @signed_in
        async def me(request: Request, agent: SignedInAgent) -> HTTPResponse:
            return json_response(
                {
                    "agent": _agent_json(agent),
                    "timezone": get_settings().timezone,
                    "max_image_bytes": image_limits.max_image_bytes,
                }
            )

        @console.route("/api/queue", methods=["GET"])
        @signed_in
        async def queue(request: Request, agent: SignedInAgent) -> HTTPResponse:
            view = request.args.get("view", "waiting")
            try:
                rows = await in_database(lambda session: views.queue(session, view, agent, policy()))
            except ServiceError as refused:
                return error_response(400, refused.message)
            return json_response({"view": view, "handoffs": rows})

        @console.route("/api/handoffs/<handoff_id>/claim", methods=["POST"])
        @signed_in
        async def claim(request: Request, agent: SignedInAgent, handoff_id: str) -> HTTPResponse:
            if not (
                handoff_id.isascii()
                and handoff_id.isdigit()
                and len(handoff_id) <= 19
                and int(handoff_id) <= MAX_ROW_ID
            ):
                # the database's integers are 64-bit
                return error_response(404, "找不到这个转人工记录。")
            handoff_id = int(handoff_id)
            try:
                conversation_id = await in_database(
                    lambda session: commands.claim(session, handoff_id, agent).conversation_id
                )
            except ServiceError as refused:
                return error_response(409, refused.message)
            try:
                told = await agent_relay.tell_agent_joined(
                    request.app, conversation_id, agent.display_name or agent.username
                )
            except agent_relay.RelayError:
                told = False
            return json_response({"claimed": True, "conversation_id": conversation_id, "buyer_notified": told})

        @console.route("/api/conversations/<conversation_id>", methods=["GET"])
        @signed_in
        async def conversation(request: Request, agent: SignedInAgent, conversation_id: str) -> HTTPResponse:
            try:
                tracker = await dialogue_api.tracker(request.app, conversation_id)
            except agent_relay.RelayError as refused:
                return error_response(refused.status, refused.message)
            if tracker is None:
                return error_response(404, f"找不到会话 {conversation_id}。")
            since = _line_number(request.args.get("since", "0"))
            if since is None:
                return error_response(400, "参数 since 必须是不小于 0 的整数（已显示的记录条数）。")
            lines = transcript([event.as_dict() for event in tracker.events])
            details = await in_database(
                lambda session: views.conversation_details(
                    session,
                    conversation_id,
                    policy(),
                    verified_order_number=tracker.get_slot("verified_order_number"),
                    ticket_numbers=[tracker.get_slot("case_ticket_number") or ""],
                )
            )
            details.update(
                {
                    "paused": tracker.is_paused(),
                    "channel": tracker.get_latest_input_channel(),
                    "channel_label": label_zh("channel", tracker.get_latest_input_channel()),
                    "customer_id": tracker.get_slot("customer_id"),
                    "total_lines": len(lines),
                    "lines": lines[since:],
                    "since": since,
                }
            )
            return json_response(details)

        @console.route("/api/conversations/<conversation_id>/reply", methods=["POST"])
        @signed_in
        async def reply(request: Request, agent: SignedInAgent, conversation_id: str) -> HTTPResponse:
            text = str((json_body(request) or {}).get("text") or "")

            def send(app, conversation: str, who: str):
                return agent_relay.send_agent_message(app, conversation, text, who)

            return await on_owned_conversation(request, agent, conversation_id, send)

        @console.route("/api/conversations/<conversation_id>/image", methods=["POST"], stream=True)
        @signed_in(file_body=True)
        async def send_image(request: Request, agent: SignedInAgent, conversation_id: str) -> HTTPResponse:
            """The body is the image itself; X-File-Name its URL-encoded name. Only the agent
            who holds the chat (or a supervisor) may send, as with text replies."""
            try:
                await in_database(lambda session: commands.require_owned_handoff(session, conversation_id, agent))
            except ServiceError as refused:
                return error_response(409, refused.message)
            body = await limited_body(request, image_limits.max_image_bytes)
            if body is None:
                return error_response(
                    413, f"图片太大了，最大 {megabytes(image_limits.max_image_bytes)}。请压缩后重新发送。"
                )
            name = Path(unquote(request.headers.get("x-file-name", ""))).name.strip()[:MAX_FILE_NAME] or None
            try:
                stored = await asyncio.to_thread(
                    store_agent_image, body, evidence_dir=evidence_dir, declared_name=name, limits=image_limits
                )
                result = await agent_relay.send_agent_image(
                    request.app,
                    conversation_id,
                    open_evidence(evidence_dir, stored.sha256),
                    stored.attachment(name),
                    agent.username,
                )
            except EvidenceRejected as refused:
                return error_response(413 if refused.too_large else 415, refused.message)
            except agent_relay.RelayError as refused:
                return error_response(refused.status, refused.message)
            return json_response(result)

        @console.route("/api/conversations/<conversation_id>/notes", methods=["POST"])
        @signed_in
        async def note(request: Request, agent: SignedInAgent, conversation_id: str) -> HTTPResponse:
            body = json_body(request) or {}
            try:
                note_id = await in_database(
                    lambda session: commands.add_note(session, conversation_id, agent, str(body.get("body") or "")).id
                )
            except ServiceError as refused:
                return error_response(400, refused.message)
            return json_response({"id": note_id})

        async def on_owned_conversation(
            request: Request, agent: SignedInAgent, conversation_id: str, action
        ) -> HTTPResponse:
            """`action(app, conversation_id, agent)` on a conversation this agent (or a supervisor) holds."""
            try:
                await in_database(lambda session: commands.require_owned_handoff(session, conversation_id, agent))
                result = await action(request.app, conversation_id, agent.username)
            except commands.PendingRemedies:
                raise
            except agent_relay.RelayError as refused:
                return error_response(refused.status, refused.message)
            except ServiceError as refused:
                return error_response(409, refused.message)
            return json_response(result)

        @console.route("/api/conversations/<conversation_id>/return", methods=["POST"])
        @signed_in
        async def give_back(request: Request, agent: SignedInAgent, conversation_id: str) -> HTTPResponse:
            return await on_owned_conversation(request, agent, conversation_id, agent_relay.resume_conversation)

        @console.route("/api/conversations/<conversation_id>/resolve", methods=["POST"])
        @signed_in
        async def resolve(request: Request, agent: SignedInAgent, conversation_id: str) -> HTTPResponse:
            choice = (json_body(request) or {}).get("pending")

            def finish(app, conversation: str, who: str):
                return agent_relay.resolve_conversation(app, conversation, who, choice)

            try:
                return await on_owned_conversation(request, agent, conversation_id, finish)
            except commands.PendingRemedies as pending:
                return json_response({"error": pending.message, "pending": pending.pending}, status=409)

        @console.route("/api/tickets/<ticket_number>", methods=["POST"])
        @signed_in
        async def edit_ticket(request: Request, agent: SignedInAgent, ticket_number: str) -> HTTPResponse:
            body = json_body(request)
            if body is None:
                return error_response(400, "请求必须是 JSON 对象。")

            try:
                details, notices = await in_database_handled(
                    lambda session: views.ticket_details(commands.edit_ticket(session, ticket_number, agent, body))
                )
            except ServiceError as refused:
                return error_response(400, refused.message)
            answer = {"ticket": details}
            if notices:  # a new status: the buyer heard of it through their own channel, or not
                answer["notice"] = notices[0]
            return json_response(answer)

        @console.route("/api/tickets/<ticket_number>/tracking", methods=["POST"])
        @signed_in
        async def tracking(request: Request, agent: SignedInAgent, ticket_number: str) -> HTTPResponse:
            body = json_body(request) or {}
            try:
                _, notices = await in_database_handled(
                    lambda session: promises.set_tracking(
                        session,
                        ticket_number,
                        str(body.get("carrier") or ""),
                        str(body.get("tracking_number") or ""),
                        agent_actor(agent.username),
                    )
                )
            except ServiceError as refused:
                return error_response(400, refused.message)
            return json_response({"notice": notices[0] if notices else None})

        @console.route("/api/tickets", methods=["GET"])
        @signed_in
        async def ticket_list(request: Request, agent: SignedInAgent) -> HTTPResponse:
            filters = {name: request.args.get(name, "").strip() for name in request.args}
            try:
                result = await in_database(lambda session: views.ticket_list(session, filters, agent))
            except ServiceError as refused:
                return error_response(400, refused.message)
            return json_response(result)

        @console.route("/api/tickets/<ticket_number>", methods=["GET"])
        @signed_in
        async def ticket_page(request: Request, agent: SignedInAgent, ticket_number: str) -> HTTPResponse:
            since = _line_number(request.args.get("since", "0"))
            if since is None:
                return error_response(400, "参数 since 必须是不小于 0 的整数（已显示的记录条数）。")
            try:
                page = await in_database(lambda session: views.ticket_page(session, ticket_number))
            except ServiceError as refused:
                return error_response(404, refused.message)
            tracker = None
            if page["conversation_id"]:
                try:
                    tracker = await dialogue_api.tracker(request.app, page["conversation_id"])
                except agent_relay.RelayError as refused:
                    return error_response(refused.status, refused.message)
            lines = transcript([event.as_dict() for event in tracker.events]) if tracker is not None else []
            page.update(
                {
                    "has_conversation": tracker is not None and bool(tracker.events),
                    "buyer_channel": tracker.get_latest_input_channel() if tracker is not None else None,
                    "can_push": bool(
                        tracker is not None
                        and agent_relay.output_channel_for(request.app, tracker.get_latest_input_channel())
                    ),
                    "paused": bool(tracker is not None and tracker.is_paused()),
                    "total_lines": len(lines),
                    "lines": lines[since:],
                    "since": since,
                }
            )
            return json_response(page)

        @console.route("/api/tickets/<ticket_number>/assign", methods=["POST"])
        @signed_in
        async def assign(request: Request, agent: SignedInAgent, ticket_number: str) -> HTTPResponse:
            body = json_body(request)
            if body is None:
                return error_response(400, "请求必须是 JSON 对象。")
            try:
                assignee = await in_database(
                    lambda session: commands.assign_ticket(session, ticket_number, agent, body.get("assignee")).assignee
                )
            except ServiceError as refused:
                return error_response(400, refused.message)
            return json_response({"assignee": assignee})

        @console.route("/api/tickets/<ticket_number>/notes", methods=["POST"])
        @signed_in
        async def ticket_note(request: Request, agent: SignedInAgent, ticket_number: str) -> HTTPResponse:
            body = json_body(request) or {}
            try:
                note_id = await in_database(
                    lambda session: (
                        commands.add_ticket_note(session, ticket_number, agent, str(body.get("body") or "")).id
                    )
                )
            except ServiceError as refused:
                return error_response(400, refused.message)
            return json_response({"id": note_id})

        @console.route("/api/tickets/<ticket_number>/message", methods=["POST"])
        @signed_in
        async def ticket_message(request: Request, agent: SignedInAgent, ticket_number: str) -> HTTPResponse:
            text = str((json_body(request) or {}).get("text") or "")
            try:
                conversation_id = await in_database(
                    lambda session: tickets.require_ticket(session, ticket_number).conversation_id
                )
            except ServiceError as refused:
                return error_response(404, refused.message)
            if not conversation_id:
                return error_response(409, f"工单 {ticket_number} 没有关联的会话，无法在线联系买家，请改用电话或短信。")
            try:
                result = await agent_relay.message_buyer(
                    request.app, conversation_id, text, agent.username, ticket_number
                )
            except agent_relay.RelayError as refused:
                return error_response(refused.status, refused.message)
            return json_response(result)

        @console.route("/api/canned", methods=["GET"])
        @signed_in
        async def canned(request: Request, agent: SignedInAgent) -> HTTPResponse:
            return json_response({"replies": agent_relay.canned_replies()})

        @console.route("/api/dashboard", methods=["GET"])
        @signed_in
        async def dashboard(request: Request, agent: SignedInAgent) -> HTTPResponse:
            return json_response(await in_database(lambda session: views.dashboard(session, policy())))

        return console


def client_address(request: Request) -> str:
    """The client's address: Sanic's `remote_addr` when a trusted proxy header is configured
    (SANIC_REAL_IP_HEADER / SANIC_FORWARDED_SECRET), else the peer's IP."""
    return (request.remote_addr or request.ip or "unknown")[:64]


def _too_many_logins(seconds: int) -> HTTPResponse:
    minutes = max(1, (seconds + 59) // 60)
    result = error_response(429, f"登录失败次数太多，已暂时锁定，请 {minutes} 分钟后再试；如忘记密码请联系主管重置。")
    result.headers["Retry-After"] = str(seconds)
    return result


NOTICE_FAILED = "工单 {ticket_number} 的改动已保存，但进展通知没有发出（{reason}），请改用电话或短信联系买家。"


def relay_teller(app, loop: asyncio.AbstractEventLoop) -> promises.TellBuyer:
    """How this process tells a buyer of their ticket: the relay, on the server's event loop.
    The handler runs on the worker thread that committed the change, so it only starts the
    notice; the future it answers with is awaited by whoever waits for it (in_database_handled)."""

    def tell(ticket_number: str, update: str) -> "concurrent.futures.Future[Dict[str, Any]]":
        return asyncio.run_coroutine_threadsafe(_notice(app, ticket_number, update), loop)

    return tell


async def _notice(app, ticket_number: str, update: str) -> Dict[str, Any]:
    try:
        return await agent_relay.notify_ticket_update(app, ticket_number, update)
    except Exception as error:  # the change is saved; the agent is told the buyer was not
        logger.exception("notice %s of ticket %s failed", update, ticket_number)
        reason = error.message if isinstance(error, (agent_relay.RelayError, ServiceError)) else type(error).__name__
        return {
            "delivered": False,
            "ticket_number": ticket_number,
            "note": NOTICE_FAILED.format(ticket_number=ticket_number, reason=reason.rstrip("。")),
        }


async def flag_sla_now() -> None:
    zone = shop_zone()
    try:
        flags = await in_database(
            lambda session: commands.flag_sla(
                session, show_time=lambda moment: to_shop_time(moment, zone).strftime("%m月%d日 %H:%M")
            )
        )
    except Exception:  # a failed round is logged; the next one tries again
        logger.exception("SLA watch failed")
        return
    for flag in flags:
        logger.warning("SLA %s: ticket %s, %s due %s", flag["state"], flag["ticket_number"], flag["kind"], flag["due"])


def _line_number(value: str) -> Optional[int]:
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None


def _agent_json(agent: SignedInAgent) -> Dict[str, Any]:
    return {
        "username": agent.username,
        "display_name": agent.display_name,
        "role": agent.role,
        "role_label": accounts.ROLE_LABELS[agent.role],
    }
