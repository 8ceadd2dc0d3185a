"""Buyer messages kept while the conversations cannot be stored (the tracker database is
away): the buyer is told `utter_technical_problem` ("您的信息没有丢失"), the message waits in
the shared state (bot/messaging/shared_state.py: files of this machine, or Redis) and is
added to the conversation before the buyer's next message is handled."""

from __future__ import annotations

import json
import time
from typing import Any, Dict, List, Optional

from bot.messaging.shared_state import SharedState

KEEP_SECONDS = 14 * 24 * 3600  # longer than any outage worth waiting for


def _key(conversation_id: str) -> str:
    return f"kept-messages:{conversation_id}"


def keep(
    state: SharedState,
    conversation_id: str,
    text: str,
    metadata: Optional[Dict[str, Any]] = None,
    input_channel: Optional[str] = None,
    at: Optional[float] = None,
) -> None:
    with state.lock(_key(conversation_id)):
        kept = _read(state, conversation_id)
        kept.append(
            {
                "text": text,
                "metadata": metadata or {},
                "input_channel": input_channel,
                "at": at if at is not None else time.time(),
            }
        )
        state.set(_key(conversation_id), json.dumps(kept, ensure_ascii=False), KEEP_SECONDS)


def waiting(state: SharedState, conversation_id: str) -> List[Dict[str, Any]]:
    """The kept messages, oldest first; they stay until `forget` (after they were stored)."""
    return _read(state, conversation_id)


def forget(state: SharedState, conversation_id: str, count: int) -> None:
    """Drops the first `count` messages (those now in the conversation), keeping any that
    arrived meanwhile."""
    with state.lock(_key(conversation_id)):
        rest = _read(state, conversation_id)[count:]
        if rest:
            state.set(_key(conversation_id), json.dumps(rest, ensure_ascii=False), KEEP_SECONDS)
        else:
            state.delete(_key(conversation_id))


def _read(state: SharedState, conversation_id: str) -> List[Dict[str, Any]]:
    try:
        kept = json.loads(state.get(_key(conversation_id)) or "[]")
    except ValueError:
        return []
    return kept if isinstance(kept, list) else []
