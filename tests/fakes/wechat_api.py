"""WeChat Official Account server API on loopback: /cgi-bin/token, /cgi-bin/media/get and
/cgi-bin/message/custom/send with the documented parameters, answers and error codes
(40001 invalid access_token, 40007 invalid media_id, 40013 invalid appid, 40125 invalid
appsecret, 44002 empty post data)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Tuple

from tests.fakes.http_server import Answer, FakeServer


class HeldSend:
    """A customer-service message WeChat is slow to take: answered once released."""

    def __init__(self, text: str, longest: float) -> None:
        self.text = text
        self.longest = longest
        self.reached = threading.Event()
        self.released = threading.Event()

    def release(self) -> None:
        self.released.set()


class FakeWeChatApi(FakeServer):
    def __init__(self, appid: str, secret: str) -> None:
        super().__init__()
        self.appid = appid
        self.secret = secret
        self._serial = itertools.count(1)
        self.valid_tokens: set = set()
        self.tokens_issued: List[str] = []
        self.media: Dict[str, Tuple[bytes, str, str]] = {}
        self.sent: List[Dict[str, Any]] = []
        self.unreachable: set = set()
        self.held: List[HeldSend] = []

    # test controls
    def add_media(self, media_id: str, data: bytes, content_type: str = "image/jpeg", filename: str = "") -> None:
        with self.lock:
            self.media[media_id] = (data, content_type, filename or f"{media_id}.jpg")

    def refuse_sending_to(self, openid: str) -> None:
        """As WeChat does 48 hours after the follower's last message (errcode 45015)."""
        with self.lock:
            self.unreachable.add(openid)

    @contextmanager
    def holding(self, text: str, longest: float = 12.0) -> Iterator[HeldSend]:
        """While inside, a message with `text` is answered only once released, or after
        `longest` seconds (under the channel's 15-second timeout): WeChat being slow."""
        held = HeldSend(text, longest)
        with self.lock:
            self.held.append(held)
        try:
            yield held
        finally:
            held.release()
            with self.lock:
                self.held.remove(held)

    def before_answer(self, method: str, path: str, body: bytes) -> None:
        if path != "/cgi-bin/message/custom/send" or not body:
            return
        with self.lock:
            held = [item for item in self.held if item.text.encode("utf-8") in body]
        for item in held:  # the channel sends UTF-8 JSON, not \u escapes
            item.reached.set()
            item.released.wait(item.longest)

    def revoke_tokens(self) -> None:
        with self.lock:
            self.valid_tokens.clear()

    def texts_to(self, openid: str) -> List[str]:
        with self.lock:
            return [m["text"]["content"] for m in self.sent if m["touser"] == openid and m["msgtype"] == "text"]

    def wait_for_texts(self, openid: str, count: int = 1, timeout: float = 60.0) -> List[str]:
        """The texts sent to `openid`, once at least `count` arrived (they come asynchronously)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = self.texts_to(openid)
            if len(texts) >= count:
                return texts
            time.sleep(0.1)
        raise AssertionError(f"{timeout:.0f} 秒内发给 {openid} 的客服消息不足 {count} 条：{self.texts_to(openid)}")

    # the API
    def answer(self, method, path, query, headers, body) -> Answer:
        if path == "/cgi-bin/token" and method == "GET":
            return self._token(query)
        if path == "/cgi-bin/media/get" and method == "GET":
            return self._checked(query) or self._media(query)
        if path == "/cgi-bin/message/custom/send" and method == "POST":
            return self._checked(query) or self._custom_send(body)
        if path.startswith("/download/") and method == "GET" and path[len("/download/") :] in self.media:
            return self._download(path[len("/download/") :])
        return Answer(404, b"not found", "text/plain")

    def _token(self, query: Dict[str, str]) -> Answer:
        if query.get("grant_type") != "client_credential":
            return Answer.json({"errcode": 40002, "errmsg": "invalid grant_type"})
        if query.get("appid") != self.appid:
            return Answer.json({"errcode": 40013, "errmsg": "invalid appid"})
        if query.get("secret") != self.secret:
            return Answer.json({"errcode": 40125, "errmsg": "invalid appsecret"})
        token = f"ACCESS_TOKEN_{next(self._serial)}"
        # a new token replaces the previous ones (WeChat keeps the old one 5 minutes; not needed here)
        self.valid_tokens = {token}
        self.tokens_issued.append(token)
        return Answer.json({"access_token": token, "expires_in": 7200})

    def _checked(self, query: Dict[str, str]):
        if query.get("access_token") not in self.valid_tokens:
            return Answer.json(
                {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
            )
        return None

    def _media(self, query: Dict[str, str]) -> Answer:
        media = self.media.get(query.get("media_id", ""))
        if media is None:
            return Answer.json({"errcode": 40007, "errmsg": "invalid media_id"}, content_type="text/plain")
        data, content_type, filename = media
        if content_type.startswith("video/"):  # documented: videos are answered with a download link
            return Answer.json({"video_url": f"{self.url}/download/{query['media_id']}"})
        return Answer(200, data, content_type, {"Content-disposition": f'attachment; filename="{filename}"'})

    def _download(self, media_id: str) -> Answer:
        data, content_type, filename = self.media[media_id]
        return Answer(200, data, content_type, {"Content-disposition": f'attachment; filename="{filename}"'})

    def _custom_send(self, body: bytes) -> Answer:
        if not body:
            return Answer.json({"errcode": 44002, "errmsg": "empty post data"})
        message = json.loads(body.decode("utf-8"))
        if not message.get("touser") or message.get("msgtype") not in {"text", "image", "voice", "video", "news"}:
            return Answer.json({"errcode": 40008, "errmsg": "invalid message type"})
        if message["touser"] in self.unreachable:
            return Answer.json({"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"})
        self.sent.append(message)
        return Answer.json({"errcode": 0, "errmsg": "ok"})
