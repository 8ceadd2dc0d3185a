"""The REST channel (`/webhooks/rest/webhook`) for the CLI, the tests and the conversation
harness, registered in credentials.yml as `channels.rest.RestInput` in place of Rasa's `rest:`.

Rasa's RestInput believes the request body about who is writing: `input_channel` names the
channel and `metadata` goes to the tracker as it came. Here:
- the input channel is always `rest`, never what the body says (so a REST client cannot pass
  for the web chat, whose `customer_id` is a shop-signed identity);
- metadata keeps only what a client may say about its own message: attachments that really
  are in the evidence store (size and type re-read from the file) and the title of a clicked
  button; `customer_id` and anything else are dropped;
- the body must be a JSON object with a `sender` (no shared `default` conversation); the
  sender and the text are validated and cleaned at the edge (bot/messaging/inbound.py), and
  a message over AFTERSALES_MAX_MESSAGE_CHARS is answered with `utter_message_too_long`
  without reaching the NLU.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Union

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

import rasa.utils.endpoints
from bot.config import get_settings
from bot.messaging import inbound
from channels.http import error_response, json_body, json_response
from bot.throttles import message_throttle
from channels.messaging_support import answering_outages, client_address, too_long_reply, too_many_messages_reply
from channels.agent_relay import answering_pings
from channels.webchat import trusted_metadata

logger = logging.getLogger(__name__)


class RestInput(RasaRestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def __init__(self) -> None:
        settings = get_settings()
        self.evidence_dir = Path(settings.evidence_dir)
        self.max_chars = settings.max_message_chars
        self.message_throttle = message_throttle(settings)

    def _extract_input_channel(self, req: Request) -> Text:
        return self.name()

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        body = json_body(request) or {}
        metadata = body.get("metadata")
        return trusted_metadata(
            metadata if isinstance(metadata, dict) else {}, self.evidence_dir, uploader_checked=False
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("custom_webhook_rest", __name__)
        # while waiting for a person: 「在吗」 answered, a message left out of hours becomes a ticket
        on_new_message = answering_outages(answering_pings(on_new_message))

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Union[ResponseStream, HTTPResponse]:
            body = json_body(request)
            if body is None:
                return error_response(400, '请求体必须是 JSON 对象，例如 {"sender": "...", "message": "..."}。')
            try:
                sender = inbound.conversation_id(body.get("sender"), "sender")
                text = inbound.buyer_text(body.get("message"), "message")
            except inbound.InboundRefused as refused:
                return error_response(refused.status, refused.message)
            client = client_address(request)
            if not self.message_throttle.hit(client):  # counted before any work on the message
                retry_seconds = self.message_throttle.retry_after_seconds(client)
                reply = [{"recipient_id": sender, "text": too_many_messages_reply(request.app, retry_seconds)}]
                throttled = json_response(reply, status=429)
                throttled.headers["Retry-After"] = str(retry_seconds)
                return throttled
            if inbound.too_long(text, self.max_chars):
                return json_response([{"recipient_id": sender, "text": too_long_reply(request.app, self.max_chars)}])
            metadata = self.get_metadata(request)
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(on_new_message, text, sender, self.name(), metadata),
                    content_type="text/event-stream",
                )
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata))
            except Exception:  # as Rasa's channel: the buyer gets what was said so far
                logger.exception("REST message of %s failed", sender)
            return response.json(collector.messages)

        return webhook
