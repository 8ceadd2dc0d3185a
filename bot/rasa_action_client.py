"""Rasa's calls to the action server over kept connections (a documented patch of Rasa 3.6.21).

Why. Rasa 3.6's `EndpointConfig.request` opens a new `aiohttp.ClientSession` for every call,
so every action call of every turn builds a session and a connector, connects, and closes
again: about a tenth of the Rasa process's time under load here (py-spy, 16 buyers). A
complaint turn makes two to four such calls.

What changes. `EndpointConfig.session()`, which Rasa's `request` opens and closes around
every call, now hands out one kept session per event loop and per set of headers and
credentials, and leaves it open. `request` itself is Rasa's, unchanged: the URL, the query
parameters (the action server's token), the headers, the certificate file, the timeout, the
JSON answer, and `ClientResponseError` for a status of 400 or more.

The request bodies (the whole tracker, often the domain) are written with ujson, which Sanic
already brings, at about a third of the standard library's time; a value ujson refuses (a
NaN, say) is written by the standard library as before. The domain (42 KB of JSON here, a
quarter of a millisecond to write) is the same dict in every call of a loaded model
(`Domain.as_dict()` returns the domain's own data), so its JSON is written once per domain and
put into each body as it is.

The one new risk of kept connections is a request sent on a connection the server has just
closed for being idle: aiohttp reports it as a disconnection, and Rasa answers the buyer
with the technical-problem message. A retry is not safe (the action may have run, and
actions write tickets), so the client gives up an idle connection first: after
`IDLE_SECONDS`, below the keep-alive of the action server (Sanic: 5 s) and of HAProxy in
front of it (deploy/haproxy.cfg: 300 s). tests/perf/test_kept_action_connections.py calls
the action server again after it closed its side.

Pinned to Rasa 3.6.21 like bot/rasa_patches.py; installed with those patches.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from typing import Any, Dict, Optional, Tuple

import aiohttp
import ujson

logger = logging.getLogger(__name__)

MARKER = "_aftersales_kept_connections"
IDLE_SECONDS = 2.0
ORIGINAL_SESSION: Optional[Any] = None

_SessionKey = Tuple[Tuple[Tuple[str, str], ...], Tuple[str, str]]
_sessions: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Dict[_SessionKey, aiohttp.ClientSession]]" = (
    weakref.WeakKeyDictionary()
)


_written_domain: Optional[Tuple[Dict[str, Any], str]] = None  # the last domain sent, and its JSON


def request_body(value: Any) -> str:
    domain = value.get("domain") if isinstance(value, dict) else None
    if not isinstance(domain, dict) or len(value) < 2:
        return _json(value)
    global _written_domain
    written = _written_domain
    if written is None or written[0] is not domain:
        written = _written_domain = (domain, _json(domain))
    rest = _json({key: part for key, part in value.items() if key != "domain"})
    return f'{rest[:-1]},"domain":{written[1]}}}'


def _json(value: Any) -> str:
    try:
        return ujson.dumps(value)
    except (TypeError, OverflowError, ValueError):
        return json.dumps(value)


def kept_session(endpoint: Any) -> aiohttp.ClientSession:
    """The session of this event loop for the endpoint's headers and credentials."""
    loop = asyncio.get_running_loop()
    basic_auth = endpoint.basic_auth or {}
    key: _SessionKey = (
        tuple(sorted((endpoint.headers or {}).items())),
        (basic_auth.get("username", ""), basic_auth.get("password", "")),
    )
    sessions = _sessions.get(loop)
    if sessions is None:
        sessions = _sessions[loop] = {}
        weakref.finalize(loop, _close_connectors, sessions)
    session = sessions.get(key)
    if session is None or session.closed:
        from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

        auth = aiohttp.BasicAuth(basic_auth["username"], basic_auth["password"]) if basic_auth else None
        session = aiohttp.ClientSession(
            headers=endpoint.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_SECONDS),
            json_serialize=request_body,
        )
        sessions[key] = session
    return session


def _close_connectors(sessions: Dict[_SessionKey, aiohttp.ClientSession]) -> None:
    # the loop is gone (or the interpreter is exiting): close what is left without awaiting,
    # so no session is reported as unclosed
    for session in sessions.values():
        if not session.closed and session.connector is not None:
            session.connector.close()


async def close_kept_sessions() -> None:
    """Close this event loop's sessions now (a caller that ends its loop itself, the tests);
    otherwise they are closed when their loop is gone."""
    for session in _sessions.pop(asyncio.get_running_loop(), {}).values():
        await session.close()


class _KeptSession:
    """What `EndpointConfig.session()` returns now: Rasa's `request` enters it with
    `async with` as before, gets the kept session, and leaves it open on exit."""

    def __init__(self, endpoint: Any) -> None:
        self.endpoint = endpoint

    async def __aenter__(self) -> aiohttp.ClientSession:
        return kept_session(self.endpoint)

    async def __aexit__(self, *exc: Any) -> None:
        return None


def _session(self: Any) -> _KeptSession:
    return _KeptSession(self)


def install() -> bool:
    """Replace `EndpointConfig.session`; True when the patch is (already) active."""
    global ORIGINAL_SESSION
    from rasa.utils.endpoints import EndpointConfig

    from bot.rasa_patches import replace_pinned

    original = replace_pinned(
        EndpointConfig,
        "session",
        _session,
        marker=MARKER,
        without_patch="every action call opens a new HTTP session",
        installed="Calls to the action server keep their connections (bot/rasa_action_client.py).",
    )
    ORIGINAL_SESSION = original or ORIGINAL_SESSION
    return original is not None
