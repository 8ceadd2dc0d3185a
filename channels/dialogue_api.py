"""The agent desk's only way into the dialogue: Rasa's HTTP API with its token (issue #16).

The desk (channels/agent_relay.py, channels/console.py) reads a conversation's tracker with
`GET /conversations/<id>/tracker` and records what it said or changed with
`POST /conversations/<id>/tracker/events`, never through Rasa's processor or tracker store, so
that the desk stays behind the same boundary as any other client of the dialogue. The server
takes the conversation's lock for each append: a buyer's message being handled finishes first
and the desk's events land after it, on whichever replica handles them.

The desk never holds the conversation's lock itself: it would wait for its own append.
`desk_lock` runs one desk operation at a time per conversation (a second click on
"return" finds the chat already with the bot) under a key of its own.

AFTERSALES_DIALOGUE_URL: where the API is (default: this Rasa server's own address);
AFTERSALES_API_TOKEN: its token (bot/secrets.py).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple

import aiohttp
import yarl
from rasa.core.lock_store import LOCK_LIFETIME
from rasa.shared.core.events import Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from bot.config import get_settings
from bot.secrets import api_token

logger = logging.getLogger(__name__)

# an append waits for the message being handled in the conversation, at most a lock's lifetime
TIMEOUT = aiohttp.ClientTimeout(total=LOCK_LIFETIME + 30, connect=10)
DESK_LOCK_SUFFIX = "\x1fdesk"  # a separate lock key: a buyer's conversation id cannot end so (control character)
# Rasa's routes do not unquote the conversation id, so it travels as it is; these cannot
UNADDRESSABLE = (" ", "?", "#")


class RelayError(Exception):
    """A refused desk request; `message` is Chinese, `status` the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


_session: Optional[Tuple[aiohttp.ClientSession, asyncio.AbstractEventLoop]] = None


def _client() -> aiohttp.ClientSession:
    """One session (connection pool) per process, made on the server's event loop."""
    global _session
    loop = asyncio.get_running_loop()
    if _session is None or _session[0].closed or _session[1] is not loop:
        _session = (aiohttp.ClientSession(timeout=TIMEOUT), loop)
    return _session[0]


async def close() -> None:
    """At server stop (registered by the relay and the console)."""
    global _session
    if _session is not None and not _session[0].closed:
        await _session[0].close()
    _session = None


def base_url(app: Sanic) -> str:
    configured = get_settings().dialogue_url
    if configured:
        return configured.rstrip("/")
    host = app.state.host or "127.0.0.1"
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    scheme = "https" if app.state.ssl else "http"
    return f"{scheme}://{host}:{app.state.port or get_settings().rasa_port}"


def _url(app: Sanic, conversation_id: str, tail: str, **query: str) -> yarl.URL:
    if any(character in conversation_id for character in UNADDRESSABLE) or not conversation_id.isascii():
        raise RelayError(
            400,
            f"会话编号「{conversation_id}」含有空格、?、# 或非 ASCII 字符，对话服务的接口无法处理这个会话，请联系管理员。",
        )
    url = yarl.URL(f"{base_url(app)}/conversations/{conversation_id}/{tail}", encoded=True)
    return url.update_query({"token": api_token(get_settings()), **query})


async def _call(method: str, url: yarl.URL, body: Any = None) -> Dict[str, Any]:
    try:
        async with _client().request(method, url, json=body) as response:
            if response.status in (401, 403):
                raise RelayError(500, "对话服务拒绝了访问令牌（AFTERSALES_API_TOKEN），请联系管理员检查配置。")
            if response.status == 404:  # not "no conversation": the API answers those with a new session
                raise RelayError(500, "对话服务没有开启 HTTP 接口（rasa run --enable-api），请联系管理员检查配置。")
            if response.status == 409:
                raise RelayError(503, "对话服务还没有加载模型，请稍后重试。")
            if response.status != 200:
                logger.error("dialogue API %s %s: HTTP %s %s", method, url.path, response.status, await response.text())
                raise RelayError(502, f"对话服务出错（HTTP {response.status}），请稍后重试。")
            return await response.json()
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        logger.error("dialogue API %s %s failed: %r", method, url.path, error)
        raise RelayError(503, f"暂时连不上对话服务（{type(error).__name__}），请稍后重试。") from error


async def tracker(app: Sanic, conversation_id: str) -> Optional[DialogueStateTracker]:
    """The conversation's latest session (as the tracker store's `retrieve` gives it), or None
    when the buyer never wrote in it."""
    state = await _call("GET", _url(app, conversation_id, "tracker"))
    events: List[Dict[str, Any]] = state.get("events") or []
    if not any(event.get("event") == UserUttered.type_name for event in events):
        return None  # the API answers an unknown conversation with a fresh session, unsaved
    starts = [i for i, event in enumerate(events) if event.get("event") == SessionStarted.type_name]
    latest = events[starts[-1] :] if starts else events
    return DialogueStateTracker.from_dict(conversation_id, latest, app.ctx.agent.domain.slots)


async def append(app: Sanic, conversation_id: str, events: List[Event]) -> None:
    """Record `events` after whatever the conversation holds by then (the server waits for
    the conversation's lock); they keep their timestamps and metadata."""
    if not events:
        return
    try:
        await _call("POST", _url(app, conversation_id, "tracker/events"), [event.as_dict() for event in events])
    except RelayError as error:
        raise RelayError(
            error.status,
            f"{error.message}（已发给买家的消息不会撤回，但这次操作没有记进会话记录；请刷新查看，不要重复发送）",
        ) from error


@asynccontextmanager
async def desk_lock(app: Sanic, conversation_id: str) -> AsyncIterator[None]:
    """One desk operation at a time on a conversation, across replicas with the Redis lock
    store. Never the conversation's own lock: the appends inside take that one."""
    async with app.ctx.agent.lock_store.lock(conversation_id + DESK_LOCK_SUFFIX):
        yield
