"""A threaded HTTP server on 127.0.0.1 with a free port, for the fakes."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Optional, Tuple
from urllib.parse import parse_qs, urlsplit


class Answer:
    def __init__(self, status: int, body: bytes, content_type: str, headers: Optional[Dict[str, str]] = None) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}

    @classmethod
    def json(cls, data: Any, status: int = 200, content_type: str = "application/json; charset=utf-8") -> "Answer":
        return cls(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), content_type)


class FakeServer:
    """Subclasses implement `answer(method, path, query, headers, body)`."""

    def __init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                fake.before_answer(self.command, parts.path, body)  # outside the lock: may wait
                with fake.lock:
                    answer = fake.answer(self.command, parts.path, query, dict(self.headers), body)
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, method: str, path: str, query: Dict[str, str], headers: Dict[str, str], body: bytes) -> Answer:
        raise NotImplementedError

    def before_answer(self, method: str, path: str, body: bytes) -> None:
        """A slow platform: a subclass may wait here (other requests are answered meanwhile)."""

    def __enter__(self) -> "FakeServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Tuple) -> None:
        self._server.shutdown()
        self._server.server_close()
