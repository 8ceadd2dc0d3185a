"""What the messaging-app channels (WeChat, Telegram) share inside the Rasa server: the
shared state of this machine's processes, evidence files, buyer texts from domain.yml and
background tasks."""
from __future__ import annotations

import asyncio
import logging
import random
from functools import lru_cache
from typing import Any, Coroutine, Optional, Set

from bot.config import get_settings
from bot.messaging.inbound import MESSAGE_TOO_LONG
from bot.messaging.shared_state import SharedState, open_shared_state
from bot.services.evidence_store import EvidenceLimits, store_evidence

logger = logging.getLogger(__name__)

# The user message of a photo or video sent without words: the `inform` intent, so that the
# dialogue treats it like "here it is" whatever the NLU would make of a placeholder text.
ATTACHMENT_ONLY_TEXT = "/inform"


@lru_cache(maxsize=1)
def shared_state() -> SharedState:
    settings = get_settings()
    return open_shared_state(settings.redis_url, settings.messaging_state_dir)


async def store_attachment(data: bytes, name: Optional[str]) -> dict:
    """Stores a downloaded photo/video as evidence; the attachment entry of message metadata.
    Raises `EvidenceRejected` for files that are not accepted."""
    settings = get_settings()
    stored = await asyncio.to_thread(
        store_evidence,
        data,
        evidence_dir=settings.evidence_dir,
        declared_name=name,
        limits=EvidenceLimits.from_settings(settings),
    )
    return stored.attachment(name)


def domain_text(app: Any, response: str) -> Optional[str]:
    """A text of `response` in the loaded model's domain.yml (None before a model is loaded)."""
    agent = getattr(app.ctx, "agent", None)
    domain = getattr(agent, "domain", None)
    variants = [v.get("text") for v in (getattr(domain, "responses", None) or {}).get(response, [])]
    variants = [text for text in variants if text]
    if not variants:
        logger.error("domain.yml 中没有回复 %s，无法告知买家。", response)
        return None
    return random.choice(variants)


class BackgroundTasks:
    """Keeps references to running tasks (asyncio holds only weak ones) and logs failures."""

    def __init__(self) -> None:
        self._running: Set[asyncio.Task] = set()

    def start(self, coroutine: Coroutine[Any, Any, Any], what: str) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._running.add(task)
        task.add_done_callback(lambda done: self._finished(done, what))

    def _finished(self, task: asyncio.Task, what: str) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s 失败", what, exc_info=task.exception())


def too_long_reply(app: Any, limit: int) -> str:
    """`utter_message_too_long` with the limit filled in (said by the channels themselves)."""
    text = domain_text(app, MESSAGE_TOO_LONG) or f"您的消息太长了（超过 {limit} 个字），请分几条简短地说明。"
    return text.replace("{max_chars}", str(limit))
