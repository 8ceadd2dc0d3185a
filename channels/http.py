"""JSON responses of the project's HTTP endpoints: Chinese text kept readable (not \\u-escaped),
errors as {"error": "<clear Chinese message>"}."""

from __future__ import annotations

import functools
import json
from typing import Any, Dict, Optional

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

_dumps = functools.partial(json.dumps, ensure_ascii=False)


def json_response(body: Any, status: int = 200) -> HTTPResponse:
    return response.json(body, status=status, dumps=_dumps)


def error_response(status: int, message: str) -> HTTPResponse:
    return json_response({"error": message}, status=status)


def json_body(request: Request) -> Optional[Dict[str, Any]]:
    """The request's JSON object, or None when the body is missing, malformed or not an object."""
    try:
        body = request.json
    except Exception:  # Sanic refuses malformed JSON with an English error
        return None
    return body if isinstance(body, dict) else None


async def limited_body(request: Request, limit: int) -> Optional[bytes]:
    """The body of a `stream=True` route, or None as soon as it is known to exceed `limit`
    bytes (by its Content-Length, or while reading a body sent without one)."""
    if request.stream is None:
        return request.body
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > limit:
        return None
    chunks, received = [], 0
    while True:
        chunk = await request.stream.read()
        if chunk is None:
            return b"".join(chunks)
        received += len(chunk)
        if received > limit:
            return None
        chunks.append(chunk)
