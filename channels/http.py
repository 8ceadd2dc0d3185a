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
