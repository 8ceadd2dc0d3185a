"""What every channel checks at its edge before a message reaches Rasa.

A conversation id (REST `sender`, relay `conversation_id`) is refused when it is missing,
too long or contains characters no store can keep (lone surrogates crash the SQLite tracker
store, NUL crashes PostgreSQL's), so that nobody shares the conversation `default`. A buyer's
text is cleaned (`bot.nlu.normalization.clean_inbound_text`) and checked against the
message-length limit; the channel then tells the buyer in Chinese (`utter_message_too_long`).
"""

from __future__ import annotations

from typing import Any, Optional

from bot.nlu.normalization import clean_inbound_text, has_unsafe_characters

MAX_CONVERSATION_ID_LENGTH = 128
MESSAGE_TOO_LONG = "utter_message_too_long"  # in domain.yml


class InboundRefused(Exception):
    """A request a channel answers with `status` and a Chinese `message`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def conversation_id(value: Any, field: str = "sender") -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InboundRefused(400, f"缺少 {field}（会话编号），消息未处理。")
    if not isinstance(value, str):
        raise InboundRefused(400, f"{field}（会话编号）必须是文字。")
    value = value.strip()
    if len(value) > MAX_CONVERSATION_ID_LENGTH:
        raise InboundRefused(400, f"{field}（会话编号）太长了，最多 {MAX_CONVERSATION_ID_LENGTH} 个字符。")
    if has_unsafe_characters(value):
        raise InboundRefused(400, f"{field}（会话编号）含有无效字符（控制字符或无效的 Unicode）。")
    return value


def buyer_text(value: Any, field: str = "message") -> str:
    """The cleaned text of a message ("" for none)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InboundRefused(400, f"{field} 必须是文字。")
    return clean_inbound_text(value)


def too_long(text: Optional[str], limit: int) -> bool:
    return text is not None and len(text) > limit
