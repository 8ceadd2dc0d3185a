"""Live console updates over the socket.io server the web chat already runs.

A console page connects with `auth: {"console": true}`; its session cookie is checked like
any console request and the socket joins the room `console`. Whenever a buyer's message has
been handled (every channel wrapped by `agent_relay.answering_pings`: web chat, WeChat,
Telegram) or an agent changed something, the room gets `console_update`
`{"conversation_id", "kind"}` and the page reloads what it shows, instead of polling every
few seconds. With AFTERSALES_REDIS_URL the room spans every Rasa replica (the web chat's
socket.io manager)."""

from __future__ import annotations

import logging
from http.cookies import SimpleCookie
from typing import Any, Dict, Optional

from socketio import AsyncServer

from bot.console import accounts
from channels.database import in_database

logger = logging.getLogger(__name__)

ROOM = "console"
EVENT = "console_update"
_server: Optional[AsyncServer] = None


def serve_on(sio: AsyncServer) -> None:
    """Called by the web chat channel with its socket.io server."""
    global _server
    _server = sio


async def join_if_agent(sio: AsyncServer, sid: str, environ: Dict[str, Any]) -> bool:
    """A console socket: True (and in the room) when its cookie is a live console login."""
    cookie = SimpleCookie()
    try:
        cookie.load(environ.get("HTTP_COOKIE", ""))
    except Exception:  # a malformed cookie header is no login
        return False
    morsel = cookie.get(accounts.SESSION_COOKIE)
    if morsel is None:
        return False
    agent = await in_database(lambda session: accounts.agent_for_token(session, morsel.value))
    if agent is None:
        return False
    await sio.save_session(sid, {"console_agent": agent.username})
    await sio.enter_room(sid, ROOM)
    return True


async def announce(conversation_id: Optional[str], kind: str) -> None:
    """Tell every console page that a conversation changed (never breaks the caller)."""
    if _server is None:
        return
    try:
        await _server.emit(EVENT, {"conversation_id": conversation_id, "kind": kind}, room=ROOM)
    except Exception:
        logger.exception("console update for %s not sent", conversation_id)
