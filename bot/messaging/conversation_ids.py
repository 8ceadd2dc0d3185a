"""Rasa conversation ids of messaging-app buyers: the platform's user/chat id behind a
platform prefix. Web chat session ids are chosen by the browser ([A-Za-z0-9_-] only), so a
prefix with ':' keeps a web client that learned a buyer's openid or chat id out of that
buyer's conversation."""

from __future__ import annotations

WECHAT = "wechat"
TELEGRAM = "telegram"


def conversation_id(platform: str, platform_id: object) -> str:
    return f"{platform}:{platform_id}"


def platform_id(platform: str, recipient: object) -> str:
    """The platform's id in a conversation id; an id without the prefix is taken as the
    platform's own id (the channels also address buyers directly inside a request)."""
    text = str(recipient)
    prefix = f"{platform}:"
    return text[len(prefix) :] if text.startswith(prefix) else text
