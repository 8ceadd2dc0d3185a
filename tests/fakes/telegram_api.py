"""Telegram Bot API on loopback: https://api.telegram.org/bot<token>/<method> and the file
download URL https://api.telegram.org/file/bot<token>/<file_path>, with the documented
`{"ok": true, "result": ...}` / `{"ok": false, "error_code", "description"}` answers.
Parameters are accepted as query string, form data or JSON, as the Bot API does."""

from __future__ import annotations

import itertools
import json
import time
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Dict, List
from urllib.parse import parse_qs

from tests.fakes.http_server import Answer, FakeServer

BOT_USER = {"id": 700000001, "is_bot": True, "first_name": "售后助手", "username": "aftersales_test_bot"}


class FakeTelegramBotApi(FakeServer):
    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self._message_ids = itertools.count(1000)
        self.files: Dict[str, Dict[str, Any]] = {}
        self.calls: List[Dict[str, Any]] = []

    # test controls
    def add_file(self, file_id: str, data: bytes, file_path: str) -> None:
        with self.lock:
            self.files[file_id] = {"data": data, "file_path": file_path}

    def add_expired_file(self, file_id: str, file_path: str) -> None:
        """getFile still answers, the download URL answers 404 (Telegram keeps file links
        for an hour)."""
        with self.lock:
            self.files[file_id] = {"data": None, "file_path": file_path}

    def sent_to(self, chat_id: int) -> List[Dict[str, Any]]:
        with self.lock:
            return [
                c["params"]
                for c in self.calls
                if c["method"] == "sendMessage" and str(c["params"].get("chat_id")) == str(chat_id)
            ]

    def calls_of(self, method: str) -> List[Dict[str, Any]]:
        with self.lock:
            return [c["params"] for c in self.calls if c["method"] == method]

    def wait_for_messages(self, chat_id: int, count: int = 1, timeout: float = 60.0) -> List[Dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.sent_to(chat_id)
            if len(sent) >= count:
                return sent
            time.sleep(0.1)
        raise AssertionError(f"{timeout:.0f} 秒内发给 chat {chat_id} 的消息不足 {count} 条：{self.sent_to(chat_id)}")

    # the API
    def answer(self, method, path, query, headers, body) -> Answer:
        file_prefix = f"/file/bot{self.token}/"
        if path.startswith(file_prefix):
            return self._download(path[len(file_prefix) :])
        if not path.startswith("/bot"):
            return Answer(404, b"not found", "text/plain")
        token, _, api_method = path[len("/bot") :].partition("/")
        if token != self.token:
            return _error(401, "Unauthorized")
        params = {**query, **_body_params(headers, body)}
        self.calls.append({"method": api_method, "params": params})
        handler = getattr(self, f"_{api_method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        return handler(params)

    def _getMe(self, params) -> Answer:
        return _ok(BOT_USER)

    def _getFile(self, params) -> Answer:
        file = self.files.get(str(params.get("file_id", "")))
        if file is None:
            return _error(400, "Bad Request: invalid file_id")
        return _ok(
            {
                "file_id": params["file_id"],
                "file_unique_id": f"u{params['file_id']}",
                "file_size": len(file["data"] or b""),
                "file_path": file["file_path"],
            }
        )

    def _sendMessage(self, params) -> Answer:
        if not params.get("chat_id"):
            return _error(400, "Bad Request: chat_id is empty")
        if not str(params.get("text") or "").strip():
            return _error(400, "Bad Request: message text is empty")
        message = {
            "message_id": next(self._message_ids),
            "from": BOT_USER,
            "chat": {"id": int(params["chat_id"]), "type": "private"},
            "date": int(time.time()),
            "text": params["text"],
        }
        if params.get("reply_markup"):
            message["reply_markup"] = _json_value(params["reply_markup"])
        return _ok(message)

    def _sendPhoto(self, params) -> Answer:
        photo = params.get("photo")
        if not params.get("chat_id") or not isinstance(photo, dict) or not photo.get("data"):
            return _error(400, "Bad Request: there is no photo in the request")
        return _ok(
            {
                "message_id": next(self._message_ids),
                "from": BOT_USER,
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "date": int(time.time()),
                "photo": [
                    {"file_id": f"agent-photo-{len(photo['data'])}", "file_unique_id": "p", "width": 1, "height": 1}
                ],
            }
        )

    def _answerCallbackQuery(self, params) -> Answer:
        return _ok(True)

    def _setWebhook(self, params) -> Answer:
        return _ok(True)

    def _download(self, file_path: str) -> Answer:
        for file in self.files.values():
            if file["file_path"] == file_path and file["data"] is not None:
                return Answer(200, file["data"], "application/octet-stream")
        return _error(404, "Not Found")


def _ok(result: Any) -> Answer:
    return Answer.json({"ok": True, "result": result})


def _error(code: int, description: str) -> Answer:
    return Answer.json({"ok": False, "error_code": code, "description": description}, status=code)


def _json_value(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _body_params(headers: Dict[str, str], body: bytes) -> Dict[str, Any]:
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if not body:
        return {}
    if content_type.startswith("application/json"):
        return json.loads(body.decode("utf-8"))
    if content_type.startswith("application/x-www-form-urlencoded"):
        return {key: values[-1] for key, values in parse_qs(body.decode("utf-8")).items()}
    if content_type.startswith("multipart/form-data"):
        form = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        return {
            part.get_param("name", header="content-disposition"): (
                {"filename": part.get_filename(), "data": part.get_payload(decode=True)}
                if part.get_filename()
                else part.get_payload(decode=True).decode("utf-8")
            )
            for part in form.iter_parts()
        }
    return {}
