"""Platforms re-deliver a message when they did not see an answer in time (WeChat: three
tries over about 15 seconds). Each delivery is recognised by a key and processed once."""

from __future__ import annotations

from typing import Mapping

from bot.messaging.shared_state import SharedState

SEEN_FOR_SECONDS = 24 * 3600.0


def wechat_delivery_key(appid: str, message: Mapping[str, str]) -> str:
    """MsgId for messages; events carry none, so FromUserName + CreateTime (+ event name)."""
    msg_id = str(message.get("MsgId") or "").strip()
    if msg_id:
        return f"wechat:{appid}:msg:{msg_id}"
    sender = message.get("FromUserName", "")
    created = message.get("CreateTime", "")
    event = message.get("Event") or message.get("MsgType") or ""
    return f"wechat:{appid}:from:{sender}:{created}:{event}"


def first_delivery(state: SharedState, key: str, ttl: float = SEEN_FOR_SECONDS) -> bool:
    """True the first time `key` is seen (in any process), False for re-deliveries."""
    return state.add_if_absent(f"seen:{key}", ttl)
