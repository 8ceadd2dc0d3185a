"""Agent replies to any channel (shared contract 4), inside the Rasa server process.

A human agent's reply goes out through the output channel of the input channel the buyer
last wrote on (`tracker.get_latest_input_channel()`), and is recorded in the tracker as a
`BotUttered` with metadata `{"agent": name}`, so the transcript shows who answered. Handing
back appends `ConversationResumed` and the bot tells the buyer (`utter_handoff_returned`);
resolving also closes the tickets and asks for the satisfaction score. Both run under the
conversation's lock (a second click is refused with 409), and both give the chat back to the
bot even when the buyer cannot be told: the answer then says `"buyer_notified": false` with a
Chinese `note` for the agent.

HTTP API (bearer token AFTERSALES_RELAY_TOKEN, or the one generated into var/relay_token):
    POST /webhooks/agent_relay/send     {"conversation_id", "text", "agent"}
    POST /webhooks/agent_relay/resume   {"conversation_id", "agent"}
    POST /webhooks/agent_relay/resolve  {"conversation_id", "agent"}
The agent console (channels/console.py) calls the same functions in-process.
"""
from __future__ import annotations

import hmac
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.actions.action import create_bot_utterance
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationResumed, SlotSet
from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import get_settings
from bot.console import desk
from bot.messaging import inbound
from bot.secrets import relay_token
from bot.services import cases
from bot.services.errors import ServiceError
from channels.database import in_database
from channels.http import error_response, json_body, json_response

logger = logging.getLogger(__name__)

MAX_REPLY_LENGTH = 4000
RESPONSE_RETURNED = "utter_handoff_returned"
RESPONSE_RESOLVED = "utter_handoff_resolved"
RESPONSE_ASK_SATISFACTION = "utter_ask_satisfaction"


class RelayError(Exception):
    """A refused relay request; `message` is Chinese, `status` the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def output_channel_for(app: Sanic, channel_name: Optional[Text]) -> Optional[OutputChannel]:
    """An output channel that can reach the buyer outside a request, or None."""
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if channel.name() == channel_name:
            output = channel.get_output_channel()
            if output is not None:
                return output
    return None


async def _existing_tracker(app: Sanic, conversation_id: Text):
    tracker = await app.ctx.agent.processor.get_tracker(conversation_id)
    if not tracker.events:
        raise RelayError(404, f"找不到会话 {conversation_id}。")
    return tracker


def _reachable_output(app: Sanic, tracker) -> OutputChannel:
    channel_name = tracker.get_latest_input_channel()
    output = output_channel_for(app, channel_name)
    if output is None:
        raise RelayError(
            409, f"买家所在的渠道（{channel_name or '未知'}）不支持主动推送消息，无法把回复送达买家。请改用其他方式联系。"
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
    rasa_agent = app.ctx.agent
    async with rasa_agent.lock_store.lock(conversation_id):
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
        tracker.update(event)
        await rasa_agent.processor.save_tracker(tracker)
    return {"delivered": True, "channel": tracker.get_latest_input_channel(), "at": event.timestamp}


NOT_NOTIFIED = "已交还机器人，但通知买家的消息没有送达（{reason}）。买家下次发消息时机器人会照常接待；如需告知买家，请改用其他方式联系。"


async def resume_conversation(app: Sanic, conversation_id: Text, agent: Text) -> Dict[str, Any]:
    """The bot takes the conversation back and tells the buyer so."""
    async with app.ctx.agent.lock_store.lock(conversation_id):
        tracker = await _paused_tracker(app, conversation_id)
        await in_database(lambda session: desk.hand_back(session, conversation_id, agent))
        delivery = await _resume_and_say(app, tracker, [RESPONSE_RETURNED])
    return {"resumed": True, **delivery}


async def resolve_conversation(app: Sanic, conversation_id: Text, agent: Text) -> Dict[str, Any]:
    """Close the conversation's tickets, give the chat back to the bot and ask for a score."""
    async with app.ctx.agent.lock_store.lock(conversation_id):
        tracker = await _paused_tracker(app, conversation_id)
        slot_ticket = tracker.get_slot("case_ticket_number")

        def close(session) -> Dict[str, Any]:
            number = desk.resolve(session, conversation_id, agent, [slot_ticket] if slot_ticket else [])
            return {"ticket_number": number, "rated": bool(number) and cases.satisfaction_recorded(session, number)}

        outcome = await in_database(close)
        ask = bool(outcome["ticket_number"]) and not outcome["rated"]
        slots = [SlotSet("case_ticket_number", outcome["ticket_number"]), SlotSet("awaiting_reply", "satisfaction")] if ask else []
        responses = [RESPONSE_RESOLVED] + ([RESPONSE_ASK_SATISFACTION] if ask else [])
        delivery = await _resume_and_say(app, tracker, responses, slots)
    return {"resumed": True, "ticket_number": outcome["ticket_number"], "satisfaction_asked": ask, **delivery}


async def _paused_tracker(app: Sanic, conversation_id: Text):
    """The tracker of a conversation a person has; called under the conversation's lock, so
    that a second click on "return"/"resolve" finds it resumed and is refused."""
    tracker = await _existing_tracker(app, conversation_id)
    if not tracker.is_paused():
        raise RelayError(409, "这个会话没有转人工，机器人本来就在回复。")
    return tracker


async def _resume_and_say(app: Sanic, tracker, responses: List[Text], slots: List[SlotSet] = ()) -> Dict[str, Any]:
    """ConversationResumed, the slots, the bot's messages, then action_listen: the tracker
    looks as if the bot had just spoken and now waits for the buyer, so the next message is
    predicted as in any other turn. The conversation is resumed even when the buyer cannot be
    reached: a failed delivery is logged and reported to the agent (`buyer_notified: false`)."""
    rasa_agent = app.ctx.agent
    conversation_id = tracker.sender_id
    output = output_channel_for(app, tracker.get_latest_input_channel())
    failure = None if output is not None else "买家所在的渠道不支持主动推送消息"
    tracker.update(ConversationResumed())
    for slot in slots:
        tracker.update(slot)
    for name in responses:
        message = await rasa_agent.nlg.generate(name, tracker, output.name() if output else "")
        if message is None:
            logger.error("response %s is missing from the domain; the buyer was not told", name)
            continue
        if output is not None and failure is None:
            try:
                await output.send_response(conversation_id, dict(message))
            except Exception as error:  # the messaging platform refused; the chat still goes back to the bot
                logger.exception("telling buyer %s that the bot is back failed", conversation_id)
                failure = f"发送失败：{type(error).__name__}"
        tracker.update(create_bot_utterance(dict(message)))
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    await rasa_agent.processor.save_tracker(tracker)
    if failure is None:
        return {"buyer_notified": True}
    logger.warning("conversation %s resumed without telling the buyer: %s", conversation_id, failure)
    return {"buyer_notified": False, "note": NOT_NOTIFIED.format(reason=failure)}


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

        return relay
