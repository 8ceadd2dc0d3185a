"""What the messaging-app channels (WeChat, Telegram) share inside the Rasa server: the
shared state of this machine's processes, evidence files, buyer texts from domain.yml and
background tasks."""

from __future__ import annotations

import asyncio
import logging
import random
from functools import lru_cache
from typing import Any, Awaitable, Callable, Coroutine, Optional, Set

from rasa.core.channels.channel import UserMessage

from bot.config import get_settings
from bot.messaging import kept_messages
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


TECHNICAL_PROBLEM = "utter_technical_problem"  # in domain.yml


def answering_outages(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> Callable[[UserMessage], Awaitable[Any]]:
    """Wrap a channel's `on_new_message`: a turn that fails (the tracker database is away, the
    model is being replaced) answers the buyer `utter_technical_problem` instead of nothing,
    and the message is kept (bot/messaging/kept_messages.py) and added to the conversation
    before the buyer's next message. An action-server outage inside a turn is answered by Rasa
    itself (bot/rasa_patches.py), with the message in the tracker as usual."""

    async def handle(message: UserMessage) -> Any:
        try:
            await store_kept_messages(message)
            return await on_new_message(message)
        except Exception as error:
            logger.error("message of %s failed (%s)", message.sender_id, type(error).__name__, exc_info=True)
            from sanic import Sanic

            try:
                await asyncio.to_thread(
                    kept_messages.keep,
                    shared_state(),
                    message.sender_id,
                    message.text or "",
                    message.metadata,
                    message.input_channel,
                )
            except Exception:
                logger.exception("the message of %s could not be kept either", message.sender_id)
            text = domain_text(Sanic.get_app(), TECHNICAL_PROBLEM) or "抱歉，系统暂时出了点问题，请稍后再试。"
            if message.output_channel is not None:
                await message.output_channel.send_text_message(message.sender_id, text)
            return None

    return handle


async def store_kept_messages(message: UserMessage) -> None:
    """The buyer's messages kept during an outage go into the conversation, in order and in
    one save, before `message` is handled; raises (and keeps them) while the store is away."""
    if not message.sender_id:
        return
    state = shared_state()
    kept = await asyncio.to_thread(kept_messages.waiting, state, message.sender_id)
    if not kept:
        return
    from sanic import Sanic

    rasa_agent = Sanic.get_app().ctx.agent
    processor = rasa_agent.processor
    async with rasa_agent.lock_store.lock(message.sender_id):
        tracker = await processor.fetch_tracker_and_update_session(message.sender_id, message.output_channel)
        for item in kept:
            metadata = {**(item.get("metadata") or {}), KEPT_MARK: item.get("at")}
            await processor._handle_message_with_tracker(
                UserMessage(
                    item.get("text") or "",
                    None,
                    message.sender_id,
                    metadata=metadata,
                    input_channel=item.get("input_channel") or message.input_channel,
                ),
                tracker,
            )
        await processor.save_tracker(tracker)
    await asyncio.to_thread(kept_messages.forget, state, message.sender_id, len(kept))
    logger.info("%d message(s) kept during an outage added to conversation %s", len(kept), message.sender_id)


KEPT_MARK = "kept_during_outage"  # user-message metadata: when the buyer sent it (epoch seconds)


TOO_MANY_MESSAGES = "utter_too_many_messages"  # in domain.yml


def too_many_messages_reply(app: Any, retry_seconds: int) -> str:
    """`utter_too_many_messages` with the wait filled in (said by the channels themselves)."""
    text = domain_text(app, TOO_MANY_MESSAGES) or "您发消息太快了，请 {retry_seconds} 秒后再发。"
    return text.replace("{retry_seconds}", str(retry_seconds))


def client_address(request: Any) -> str:
    """The buyer's address as the throttles see it: Sanic's `remote_addr` (the reverse proxy's
    SANIC_REAL_IP_HEADER / forwarded header when configured), else the socket's peer."""
    return (getattr(request, "remote_addr", "") or getattr(request, "ip", "") or "unknown")[:64]
