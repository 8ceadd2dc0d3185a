"""Agent replies to any channel (shared contract 4), inside the Rasa server process.

A human agent's reply goes out through the output channel of the input channel the buyer
last wrote on (`tracker.get_latest_input_channel()`), and is recorded in the tracker as a
`BotUttered` with metadata `{"agent": name}`, so the transcript shows who answered. Handing
back appends `ConversationResumed` and the bot tells the buyer (`utter_handoff_returned`);
resolving also closes the tickets and asks for the satisfaction score. Both run under the
desk's lock of the conversation (a second click is refused with 409), and both give the chat
back to the bot even when the buyer cannot be told: the answer then says
`"buyer_notified": false` with a Chinese `note` for the agent.

Conversations are read and written only through Rasa's HTTP API (channels/dialogue_api.py):
the buyer is told first, then the events are appended; the server appends them after any
message it is handling in that conversation.

HTTP API (bearer token AFTERSALES_RELAY_TOKEN, or the one generated into var/relay_token):
    POST /webhooks/agent_relay/send     {"conversation_id", "text", "agent"}
    POST /webhooks/agent_relay/resume   {"conversation_id", "agent"}
    POST /webhooks/agent_relay/resolve  {"conversation_id", "agent"}
    POST /webhooks/agent_relay/ticket_update  {"ticket_number", "update": "status" | "tracking"}
        tells the ticket's buyer of its progress (`python -m bot tickets status|tracking`)
The agent console (channels/console.py) calls the same functions in-process.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import yaml
from rasa.core.actions.action import create_bot_utterance
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    SlotSet,
    UserUttered,
)
from sanic import Blueprint, Sanic
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import bootstrap
from bot.config import PROJECT_ROOT, get_settings
from bot.console import commands, leave_message, promises, views, waiting
from bot.db.engine import reading_engine, session_scope
from bot.messaging import inbound
from bot.nlu.reaction import asks_for_a_person
from bot.secrets import relay_token
from bot.services import cases, handoffs, tickets
from bot.services.errors import ServiceError
from channels import console_live, dialogue_api
from channels.database import in_database, policy
from channels.dialogue_api import RelayError
from channels.http import error_response, json_body, json_response

logger = logging.getLogger(__name__)

MAX_REPLY_LENGTH = 4000
RESPONSE_RETURNED = "utter_handoff_returned"
RESPONSE_RESOLVED = "utter_handoff_resolved"
RESPONSE_RESOLVED_KEPT = "utter_handoff_resolved_kept_open"
RESPONSE_FINISHED = "utter_handoff_finished"
RESPONSE_ASK_SATISFACTION = "utter_ask_satisfaction"
RESPONSE_AGENT_JOINED = "utter_agent_joined"
RESPONSE_STILL_WAITING = "utter_handoff_still_waiting"
RESPONSE_NOBODY_ONLINE = "utter_handoff_nobody_online"
RESPONSE_NOBODY_ONLINE_NO_PUSH = "utter_handoff_nobody_online_no_push"
RESPONSE_MESSAGE_LEFT = "utter_message_left"
RESPONSE_YOU_ARE_WELCOME = "utter_you_are_welcome"
RESPONSE_MESSAGE_ADDED = "utter_message_added"
RESPONSE_MESSAGE_LEFT_NO_PUSH = "utter_message_left_no_push"
RESPONSE_WIDGET_GREETING = "utter_widget_greeting"
# slots a hand-back clears, so that the bot does not resume inside a form it left
STALE_SLOTS = ("requested_slot", "pending_task", "awaiting_reply", "last_decision")


def output_channel_for(app: Sanic, channel_name: Optional[Text]) -> Optional[OutputChannel]:
    """An output channel that can reach the buyer outside a request, or None."""
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if channel.name() == channel_name:
            output = channel.get_output_channel()
            if output is not None:
                return output
    return None


async def _existing_tracker(app: Sanic, conversation_id: Text):
    tracker = await dialogue_api.tracker(app, conversation_id)
    if tracker is None:
        raise RelayError(404, f"找不到会话 {conversation_id}。")
    return tracker


def _reachable_output(app: Sanic, tracker) -> OutputChannel:
    channel_name = tracker.get_latest_input_channel()
    output = output_channel_for(app, channel_name)
    if output is None:
        raise RelayError(
            409,
            f"买家所在的渠道（{channel_name or '未知'}）不支持主动推送消息，无法把回复送达买家。请改用其他方式联系。",
        )
    return output


async def send_agent_message(app: Sanic, conversation_id: Text, text: Text, agent: Text) -> Dict[str, Any]:
    text = (text or "").strip()
    if not text:
        raise RelayError(400, "回复内容不能为空。")
    if len(text) > MAX_REPLY_LENGTH:
        raise RelayError(400, f"回复太长了（{len(text)} 字），一条最多 {MAX_REPLY_LENGTH} 字。")
    if not (agent or "").strip():
        raise RelayError(400, "缺少客服名字（agent）。")
    async with dialogue_api.desk_lock(app, conversation_id):
        tracker = await _existing_tracker(app, conversation_id)
        output = _reachable_output(app, tracker)
        sender = getattr(output, "send_agent_message", None)
        try:
            if sender is not None:
                await sender(conversation_id, text, agent)
            else:
                await output.send_text_message(conversation_id, text)
        except Exception as error:  # the messaging platform refused: nothing is recorded as sent
            logger.exception("agent reply to %s failed", conversation_id)
            raise RelayError(502, f"消息没有送达买家（{type(error).__name__}），请稍后重试。") from error
        event = BotUttered(text, metadata={"agent": agent})
        await dialogue_api.append(app, conversation_id, [event])
    return {"delivered": True, "channel": tracker.get_latest_input_channel(), "at": event.timestamp}


NOT_PUSHED = (
    "买家所在的渠道（{channel}）不能主动推送消息，这条消息没有送达买家，只记在了会话记录里。请改用电话或短信联系买家。"
)


async def message_buyer(
    app: Sanic, conversation_id: Text, text: Text, agent: Text, ticket_number: Optional[Text] = None
) -> Dict[str, Any]:
    """A message from the ticket page to the buyer, through the buyer's own channel, whether
    or not a person has the chat. It is kept in the transcript either way; where the channel
    cannot push (REST) or the platform refuses, it is kept marked as not delivered and the
    answer says so (`delivered: false` and a Chinese `note`)."""
    text = (text or "").strip()
    if not text:
        raise RelayError(400, "消息内容不能为空。")
    if len(text) > MAX_REPLY_LENGTH:
        raise RelayError(400, f"消息太长了（{len(text)} 字），一条最多 {MAX_REPLY_LENGTH} 字。")
    async with dialogue_api.desk_lock(app, conversation_id):
        tracker = await _existing_tracker(app, conversation_id)
        channel = tracker.get_latest_input_channel()
        output = output_channel_for(app, channel)
        note = None
        if output is None:
            note = NOT_PUSHED.format(channel=views.CHANNEL_LABELS.get(channel or "", channel or "未知"))
        else:
            try:
                sender = getattr(output, "send_agent_message", None)
                if sender is not None:
                    await sender(conversation_id, text, agent)
                else:
                    await output.send_text_message(conversation_id, text)
            except Exception as error:  # the platform refused (e.g. WeChat after 48 hours)
                logger.exception("ticket message to %s failed", conversation_id)
                note = f"消息没有送达买家（{type(error).__name__}），只记在了会话记录里。"
        metadata = {"agent": agent, "delivered": note is None}
        if ticket_number:
            metadata["ticket_number"] = ticket_number
        event = BotUttered(text, metadata=metadata)
        await dialogue_api.append(app, conversation_id, [event])
    result = {"delivered": note is None, "channel": channel, "at": event.timestamp}
    if note:
        result["note"] = note
    return result


IMAGE_NOT_PUSHED = (
    "买家所在的渠道（{channel}）不能主动推送消息，这张图片没有送达买家，只记在了会话记录里。请改用电话或短信联系买家。"
)
IMAGE_NOT_SUPPORTED = (
    "买家所在的渠道（{channel}）暂不支持客服发送图片，这张图片没有送达买家，只记在了会话记录里。请改用文字说明。"
)


async def send_agent_image(
    app: Sanic, conversation_id: Text, path: Path, attachment: Dict[str, Any], agent: Text
) -> Dict[str, Any]:
    """An image from the evidence store (`path`, described by `attachment`) to the buyer
    through their own channel, kept in the transcript as the agent's message with the image.
    Where the channel cannot push or cannot carry images, or the platform refuses, it is
    kept marked as not delivered and the answer says so (`delivered: false`, a Chinese `note`)."""
    async with dialogue_api.desk_lock(app, conversation_id):
        tracker = await _existing_tracker(app, conversation_id)
        channel = tracker.get_latest_input_channel()
        shown_channel = views.CHANNEL_LABELS.get(channel or "", channel or "未知")
        output = output_channel_for(app, channel)
        sender = getattr(output, "send_agent_image", None)
        note = None
        if output is None:
            note = IMAGE_NOT_PUSHED.format(channel=shown_channel)
        elif sender is None:
            note = IMAGE_NOT_SUPPORTED.format(channel=shown_channel)
        else:
            try:
                await sender(conversation_id, path, attachment, agent)
            except Exception as error:  # the platform refused: kept, marked undelivered
                logger.exception("agent image to %s failed", conversation_id)
                note = f"图片没有送达买家（{type(error).__name__}），只记在了会话记录里，请稍后重试。"
        event = BotUttered(None, metadata={"agent": agent, "attachments": [attachment], "delivered": note is None})
        await dialogue_api.append(app, conversation_id, [event])
    result = {"delivered": note is None, "channel": channel, "at": event.timestamp, "attachment": attachment}
    if note:
        result["note"] = note
    return result


NOTICE_NOT_PUSHED = "买家所在的渠道（{channel}）不能主动推送消息，这条进展通知没有送达买家，只记在了会话记录里。请改用电话或短信联系买家。"
NO_CONVERSATION = "工单 {ticket_number} 没有关联的在线会话，买家没有收到进展通知，请改用电话或短信联系买家。"


async def notify_buyer(app: Sanic, notice: promises.Notice) -> Dict[str, Any]:
    """A ticket's progress (bot/console/promises.py) to its buyer through the buyer's own
    channel, kept in the transcript marked with the ticket and whether it arrived. Where the
    channel cannot push (REST, WeChat after its 48-hour window), the answer says so
    (`delivered: false`, a Chinese `note`) and the console shows the line as undelivered."""
    if not notice.conversation_id:
        return {
            "delivered": False,
            "ticket_number": notice.ticket_number,
            "note": NO_CONVERSATION.format(ticket_number=notice.ticket_number),
        }
    async with dialogue_api.desk_lock(app, notice.conversation_id):
        try:
            tracker = await dialogue_api.tracker(app, notice.conversation_id)
        except RelayError as error:  # the ticket's change stands; the agent learns the buyer was not told
            return {"delivered": False, "ticket_number": notice.ticket_number, "note": error.message}
        if tracker is None:
            return {
                "delivered": False,
                "ticket_number": notice.ticket_number,
                "note": NO_CONVERSATION.format(ticket_number=notice.ticket_number),
            }
        channel = tracker.get_latest_input_channel()
        output = output_channel_for(app, channel)
        message = await generate(app, notice.response, tracker, output.name() if output else "", **notice.values)
        if message is None:
            raise RelayError(500, f"domain.yml 里缺少回复 {notice.response}，买家没有收到通知。")
        note = None
        if output is None:
            note = NOTICE_NOT_PUSHED.format(channel=views.CHANNEL_LABELS.get(channel or "", channel or "未知"))
        else:
            try:
                await output.send_response(notice.conversation_id, dict(message))
            except Exception as error:  # the platform refused (e.g. WeChat after 48 hours)
                logger.exception("ticket notice to %s failed", notice.conversation_id)
                note = f"进展通知没有送达买家（{type(error).__name__}），只记在了会话记录里。"
        delivered = note is None
        event = create_bot_utterance(dict(message))
        event.metadata = {**(event.metadata or {}), "ticket_number": notice.ticket_number, "delivered": delivered}
        try:
            await dialogue_api.append(app, notice.conversation_id, [event])
        except RelayError as error:  # told, but not in the transcript: the agent is told so
            note = f"{note} {error.message}" if note else error.message
    await console_live.announce(notice.conversation_id, "notice")
    result = {
        "delivered": delivered,
        "channel": channel,
        "ticket_number": notice.ticket_number,
        "text": message.get("text"),
    }
    if note:
        result["note"] = note
    return result


async def notify_ticket_update(app: Sanic, ticket_number: Text, update: Text) -> Dict[str, Any]:
    notice = await in_database(
        lambda session: promises.notice_for(tickets.require_ticket(session, ticket_number), update)
    )
    return await notify_buyer(app, notice)


async def tell_buyer(
    app: Sanic, conversation_id: Text, response: Text, output: Optional[OutputChannel] = None, **values: Any
) -> bool:
    """One of the domain's responses to the buyer through their channel (or `output`), kept
    in the transcript; False when it could not be delivered (nothing else depends on it)."""
    async with dialogue_api.desk_lock(app, conversation_id):
        tracker = await _existing_tracker(app, conversation_id)
        output = output or output_channel_for(app, tracker.get_latest_input_channel())
        message = await generate(app, response, tracker, output.name() if output else "", **values)
        if message is None:
            return False
        delivered = output is not None
        if output is not None:
            try:
                await output.send_response(conversation_id, dict(message))
            except Exception:
                logger.exception("telling buyer %s (%s) failed", conversation_id, response)
                delivered = False
        await dialogue_api.append(app, conversation_id, [create_bot_utterance(dict(message))])
    return delivered


async def tell_agent_joined(app: Sanic, conversation_id: Text, agent_name: Text) -> bool:
    """The buyer hears that a person has taken the chat."""
    return await tell_buyer(app, conversation_id, RESPONSE_AGENT_JOINED, agent_name=agent_name)


def answering_pings(on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Callable[[UserMessage], Awaitable[Any]]:
    """Wrap a channel's `on_new_message`: while the buyer waits for a person the bot stays
    silent (the conversation is paused), except that a mere ping (「在吗」「有人吗」) gets a
    short answer with the queue position and an honest wait. Real content still waits for
    the agent, who sees it in the console."""

    async def handle(message: UserMessage) -> Any:
        result = await on_new_message(message)
        app = _running_app() if message.sender_id else None
        if app is not None:
            await _answer_while_waiting(app, message)
        await console_live.announce(message.sender_id, "message")  # the consoles reload this chat and the queue
        return result

    return handle


def waited_before(tracker) -> bool:
    """The chat was already with the queue when the buyer's latest message came: it is
    paused, and not by the action that answered that message."""
    if not tracker.is_paused():
        return False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return True
        if isinstance(event, ConversationPaused):
            return False
    return True


async def _answer_while_waiting(app: Sanic, message: UserMessage) -> None:
    text = (message.text or "").strip()
    try:
        # every answer below is for a chat waiting in the queue: the database says which, so
        # that most messages need no round trip through the HTTP API for the tracker
        if not await asyncio.to_thread(_chat_waits, message.sender_id):
            return
        tracker = await dialogue_api.tracker(app, message.sender_id)
        if tracker is None or not waited_before(tracker):
            return  # the bot answered, or this very message handed the chat over
        if waiting.is_ping(text) or asks_for_a_person(text):
            await answer_ping(app, message.sender_id, message.output_channel)
        elif waiting.is_courtesy(text):  # 「谢谢」 is no message to leave, and no ticket
            await answer_courtesy(app, message.sender_id, message.output_channel)
        elif text and not text.startswith("/"):  # "/intent" is a button, not words to keep
            await take_left_message(app, message.sender_id, text, message.output_channel)
    except Exception:  # the answer is a courtesy; never break the channel
        logger.exception("answering %s while waiting for a person failed", message.sender_id)


async def take_left_message(app: Sanic, conversation_id: Text, text: Text, output: Optional[OutputChannel]) -> bool:
    """While the buyer waits with nobody to answer (office hours, no agent online), what they
    write becomes a ticket (bot/console/leave_message.py) and they are told its number."""
    tracker = await dialogue_api.tracker(app, conversation_id)
    if tracker is None or not tracker.is_paused():
        return False
    order_number = tracker.get_slot("verified_order_number")
    channel = tracker.get_latest_input_channel()
    can_push = output_channel_for(app, channel) is not None
    left = await in_database(
        lambda session: leave_message.take_message(
            session, conversation_id, text, policy(), channel=channel, order_number=order_number, can_push=can_push
        )
    )
    if left is None:
        return False
    if can_push:
        response = RESPONSE_MESSAGE_LEFT if left.created else RESPONSE_MESSAGE_ADDED
        return await tell_buyer(app, conversation_id, response, output, ticket_number=left.ticket_number)
    # nobody could ever answer in this chat (REST): the bot takes it back, so that the buyer can
    # ask it for the ticket's progress; they are told so in the answer to this very request
    async with dialogue_api.desk_lock(app, conversation_id):
        tracker = await _existing_tracker(app, conversation_id)
        delivery = await _resume_and_say(
            app, tracker, [RESPONSE_MESSAGE_LEFT_NO_PUSH], values={"ticket_number": left.ticket_number}, output=output
        )
    return delivery["buyer_notified"]


async def answer_ping(app: Sanic, conversation_id: Text, output: Optional[OutputChannel]) -> bool:
    """Answer 「在吗」 from a buyer whose chat waits in the queue (not when an agent has it:
    the agent answers then). Returns whether an answer was sent."""
    tracker = await dialogue_api.tracker(app, conversation_id)
    if tracker is None or not tracker.is_paused():
        return False
    estimate = await in_database(lambda session: _wait_for(session, conversation_id))
    if estimate is None:
        return False
    if estimate.wait_minutes is None:
        can_push = output_channel_for(app, tracker.get_latest_input_channel()) is not None
        return await tell_buyer(
            app, conversation_id, RESPONSE_NOBODY_ONLINE if can_push else RESPONSE_NOBODY_ONLINE_NO_PUSH, output
        )
    return await tell_buyer(
        app,
        conversation_id,
        RESPONSE_STILL_WAITING,
        output,
        position=estimate.position,
        wait_minutes=estimate.wait_minutes,
    )


async def answer_courtesy(app: Sanic, conversation_id: Text, output: Optional[OutputChannel]) -> bool:
    """「谢谢」 from a buyer whose chat waits in the queue gets a short 「不客气」 (an agent who has
    the chat answers it themselves)."""
    if await in_database(lambda session: _wait_for(session, conversation_id)) is None:
        return False
    return await tell_buyer(app, conversation_id, RESPONSE_YOU_ARE_WELCOME, output)


def _chat_waits(conversation_id: Text) -> bool:
    """On the reading engine: a check made on every buyer message never queues behind a writer."""
    with session_scope(reading_engine(bootstrap.current().settings.database_url)) as session:
        return _waiting(session, conversation_id)


def _waiting(session, conversation_id: Text) -> bool:
    handoff = handoffs.active_handoff(session, conversation_id)
    return handoff is not None and handoff.status == handoffs.HandoffStatus.WAITING.value


def _wait_for(session, conversation_id: Text) -> Optional[waiting.WaitEstimate]:
    if not _waiting(session, conversation_id):
        return None
    return waiting.estimate(session, conversation_id, policy().handoff_minutes_per_waiting_chat)


def _running_app() -> Optional[Sanic]:
    for name in ("rasa_server", "rasa_core_no_api"):
        try:
            return Sanic.get_app(name)
        except SanicException:
            continue
    return None


@functools.lru_cache(maxsize=1)
def _project_responses() -> Dict[Text, Any]:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return domain.get("responses") or {}


CANNED_PREFIX = "utter_canned_"


def canned_replies() -> List[Dict[Text, Text]]:
    """The agents' canned replies: the domain.yml responses named utter_canned_*, read from
    the file each time so that the shop's edits show without a restart."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    replies = []
    for name, variants in (domain.get("responses") or {}).items():
        if name.startswith(CANNED_PREFIX) and variants and (variants[0] or {}).get("text"):
            replies.append({"name": name[len(CANNED_PREFIX) :], "text": variants[0]["text"]})
    return replies


def response_variant(app: Sanic, response: Text) -> Optional[Dict[Text, Any]]:
    """The first variant of a response as the domain has it (text, buttons), without filling
    slots: the loaded model's domain, else the project's domain.yml."""
    domain = getattr(getattr(app.ctx, "agent", None), "domain", None)
    variants = (getattr(domain, "responses", None) or {}).get(response) or _project_responses().get(response) or []
    return dict(variants[0]) if variants else None


async def generate(app: Sanic, response: Text, tracker, output_name: Text, **values: Any) -> Optional[Dict[Text, Any]]:
    """The response from the loaded model's domain; one added to domain.yml after the model
    was trained is taken from the project's domain.yml (the texts' one home) instead."""
    message = await app.ctx.agent.nlg.generate(response, tracker, output_name, **values)
    if message is None and response in _project_responses():
        message = await TemplatedNaturalLanguageGenerator(_project_responses()).generate(
            response, tracker, output_name, **values
        )
    if message is None:
        logger.error("response %s is missing from the domain; the buyer was not told", response)
    return message


NOT_NOTIFIED = "已交还机器人，但通知买家的消息没有送达（{reason}）。买家下次发消息时机器人会照常接待；如需告知买家，请改用其他方式联系。"


async def resume_conversation(app: Sanic, conversation_id: Text, agent: Text) -> Dict[str, Any]:
    """The bot takes the conversation back and tells the buyer so."""
    async with dialogue_api.desk_lock(app, conversation_id):
        tracker = await _paused_tracker(app, conversation_id)
        await in_database(lambda session: commands.hand_back(session, conversation_id, agent))
        delivery = await _resume_and_say(app, tracker, [RESPONSE_RETURNED])
    return {"resumed": True, **delivery}


async def resolve_conversation(
    app: Sanic, conversation_id: Text, agent: Text, pending: Optional[Text] = None
) -> Dict[str, Any]:
    """Finish the conversation's tickets, give the chat back to the bot and ask for a score.

    A ticket whose remedy is still under way is not closed unless the agent chose so
    (`pending`: "keep" or "close"); without a choice nothing changes and the agent gets the
    list (`commands.PendingRemedies`, answered with 409 and `pending`). The score is asked for
    the conversation's ticket on every channel (awaiting_reply=satisfaction, so a typed digit
    is recorded), also where the question cannot be pushed: the buyer's next message is then
    read as the score, and the answer says the buyer was not told."""
    async with dialogue_api.desk_lock(app, conversation_id):
        tracker = await _paused_tracker(app, conversation_id)
        slot_ticket = tracker.get_slot("case_ticket_number")

        def close(session) -> Dict[str, Any]:
            outcome = commands.resolve(session, conversation_id, agent, [slot_ticket] if slot_ticket else [], pending)
            number = outcome["ticket_number"]
            return {**outcome, "ask_rating": cases.rating_due(session, number)}

        outcome = await in_database(close)
        number = outcome["ticket_number"]
        ask = outcome["ask_rating"]
        slots = [SlotSet("case_ticket_number", number)] if number else []
        if ask:
            slots.append(SlotSet("awaiting_reply", "satisfaction"))
        if outcome["kept_open"]:
            first = [RESPONSE_RESOLVED_KEPT]
        elif outcome["closed"]:
            first = [RESPONSE_RESOLVED]
        else:
            first = [RESPONSE_FINISHED]
        responses = first + ([RESPONSE_ASK_SATISFACTION] if ask else [])
        values = {"ticket_number": "、".join(outcome["kept_open"]) or number or ""}
        delivery = await _resume_and_say(app, tracker, responses, slots, values)
    return {
        "resumed": True,
        "ticket_number": number,
        "closed": outcome["closed"],
        "kept_open": outcome["kept_open"],
        "satisfaction_asked": ask,
        **delivery,
    }


async def _paused_tracker(app: Sanic, conversation_id: Text):
    """The tracker of a conversation a person has; called under the desk's lock, so that a
    second click on "return"/"resolve" finds it resumed and is refused."""
    tracker = await _existing_tracker(app, conversation_id)
    if not tracker.is_paused():
        raise RelayError(409, "这个会话没有转人工，机器人本来就在回复。")
    return tracker


async def _resume_and_say(
    app: Sanic,
    tracker,
    responses: List[Text],
    slots: List[SlotSet] = (),
    values: Optional[Dict[str, Any]] = None,
    output: Optional[OutputChannel] = None,
) -> Dict[str, Any]:
    """ConversationResumed, the slots, the bot's messages, then action_listen: the tracker
    looks as if the bot had just spoken and now waits for the buyer, so the next message is
    predicted as in any other turn. The conversation is resumed even when the buyer cannot be
    reached: a failed delivery is logged and reported to the agent (`buyer_notified: false`).
    `output`: the channel of the buyer's current request, else the one that can push."""
    conversation_id = tracker.sender_id
    output = output or output_channel_for(app, tracker.get_latest_input_channel())
    failure = None if output is not None else "买家所在的渠道不支持主动推送消息"
    events: List[Event] = []

    def record(event: Event) -> None:  # also on the local copy, whose slots fill the responses
        tracker.update(event)
        events.append(event)

    record(ConversationResumed())
    # the bot resumes clean: no form it was in before the hand-over, no question it was asking
    if tracker.active_loop_name:
        record(ActiveLoop(None))
    for name in STALE_SLOTS:
        if tracker.get_slot(name) is not None:
            record(SlotSet(name, None))
    for slot in slots:
        record(slot)
    for name in responses:
        message = await generate(app, name, tracker, output.name() if output else "", **(values or {}))
        if message is None:
            continue
        if output is not None and failure is None:
            try:
                await output.send_response(conversation_id, dict(message))
            except Exception as error:  # the messaging platform refused; the chat still goes back to the bot
                logger.exception("telling buyer %s that the bot is back failed", conversation_id)
                failure = f"发送失败：{type(error).__name__}"
        record(create_bot_utterance(dict(message)))
    record(ActionExecuted(ACTION_LISTEN_NAME))
    await dialogue_api.append(app, conversation_id, events)
    if failure is None:
        return {"buyer_notified": True}
    logger.warning("conversation %s resumed without telling the buyer: %s", conversation_id, failure)
    return {"buyer_notified": False, "note": NOT_NOTIFIED.format(reason=failure)}


async def close_dialogue_client(_app: Sanic, _loop: Any) -> None:
    await dialogue_api.close()


def _authorised(request: Request, token: Text) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


class AgentRelayInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "agent_relay"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls((credentials or {}).get("token") or None)

    def __init__(self, token: Optional[Text] = None) -> None:
        self.token = token or relay_token(get_settings())

    def get_output_channel(self) -> Optional[OutputChannel]:
        return None  # nobody chats on this channel; it only relays to the others

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        relay = Blueprint("agent_relay", __name__)

        async def handle(request: Request, needs_text: bool, action) -> HTTPResponse:
            if not _authorised(request, self.token):
                return error_response(401, "缺少或错误的访问令牌（Authorization: Bearer ...）。")
            body = json_body(request)
            if body is None:
                return error_response(400, "请求体必须是 JSON 对象。")
            try:
                conversation_id = inbound.conversation_id(body.get("conversation_id"), "conversation_id")
                agent = inbound.buyer_text(body.get("agent"), "agent") if body.get("agent") is not None else ""
            except inbound.InboundRefused as refused:
                return error_response(refused.status, refused.message)
            if not agent:
                return error_response(400, "缺少 conversation_id 或 agent。")
            try:
                if needs_text:
                    text = body.get("text")
                    text = inbound.buyer_text(text, "text") if isinstance(text, str) else ""
                    result = await action(request.app, conversation_id, text, agent)
                else:
                    result = await action(request.app, conversation_id, agent)
            except RelayError as error:
                return error_response(error.status, error.message)
            except ServiceError as error:
                return error_response(409, error.message)
            return json_response(result)

        relay.listener("after_server_stop")(close_dialogue_client)

        @relay.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return json_response({"status": "ok"})

        @relay.route("/send", methods=["POST"])
        async def send(request: Request) -> HTTPResponse:
            return await handle(request, True, send_agent_message)

        @relay.route("/resume", methods=["POST"])
        async def resume(request: Request) -> HTTPResponse:
            return await handle(request, False, resume_conversation)

        @relay.route("/resolve", methods=["POST"])
        async def resolve(request: Request) -> HTTPResponse:
            return await handle(request, False, resolve_conversation)

        @relay.route("/ticket_update", methods=["POST"])
        async def ticket_update(request: Request) -> HTTPResponse:
            """{"ticket_number", "update": "status" | "tracking"}: tell the ticket's buyer
            (used by `python -m bot tickets status|tracking`, a separate process)."""
            if not _authorised(request, self.token):
                return error_response(401, "缺少或错误的访问令牌（Authorization: Bearer ...）。")
            body = json_body(request) or {}
            number, update = str(body.get("ticket_number") or "").strip(), str(body.get("update") or "").strip()
            if not number or update not in promises.UPDATES:
                return error_response(400, f"需要 ticket_number 和 update（{'、'.join(promises.UPDATES)}）。")
            try:
                result = await notify_ticket_update(request.app, number, update)
            except RelayError as error:
                return error_response(error.status, error.message)
            except ServiceError as error:
                return error_response(404 if isinstance(error, LookupError) else 400, error.message)
            return json_response(result)

        return relay
