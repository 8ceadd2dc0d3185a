"""Issue 13, "throttles": messages per client address on the REST channel and the web chat
(the `limits` library, bot/throttles.py `message_throttle`), answered in Chinese once used up.

Each test is one client address (X-Real-IP, as the README's reverse proxy sets it). The
messages that use up the budget are over-long ones: the channel answers those itself, so
the test is quick, and the throttle counts them all the same (it counts before any work)."""

from __future__ import annotations

import threading

import pytest
import socketio

from bot.config import Settings
from tests.security.conftest import CLIENT_ADDRESS_HEADER, new_client_address, texts

pytestmark = pytest.mark.rasa

LIMIT = int(Settings().messages_per_client.split("/")[0])
OVER_LONG = "耳机坏了" * 600  # over AFTERSALES_MAX_MESSAGE_CHARS (2000)


def test_rest_messages_are_limited_per_client_with_a_chinese_answer(secured):
    client = new_client_address()
    statuses = [
        secured.post_rest({"sender": f"throttle-{n}", "message": OVER_LONG}, client=client).status_code
        for n in range(LIMIT)
    ]
    assert statuses == [200] * LIMIT, statuses
    refused = secured.post_rest({"sender": "throttle-last", "message": "你好"}, client=client)
    assert refused.status_code == 429
    assert "发消息太快" in texts(refused.json()) and "秒后再发" in texts(refused.json())
    assert int(refused.headers["Retry-After"]) > 0
    # the refused message never reached the dialogue
    assert not any(event.get("event") == "user" for event in secured.tracker("throttle-last")["events"])
    # another client is not affected
    assert secured.alive()


def test_web_chat_messages_are_limited_per_client(secured):
    received, arrived = [], threading.Condition()

    def on_message(message):
        with arrived:
            received.append(message)
            arrived.notify_all()

    sessions = []
    client = socketio.Client(reconnection=False)
    client.on("bot_uttered", on_message)
    client.on("session_confirm", sessions.append)
    client.connect(
        secured.base_url, transports=["polling"], headers={CLIENT_ADDRESS_HEADER: new_client_address()}, wait_timeout=10
    )
    try:
        client.emit("session_request", {"session_id": None})
        with arrived:
            assert arrived.wait_for(lambda: sessions, timeout=10) or sessions
        for sent in range(1, LIMIT + 2):  # one at a time: a polling payload holds only a few packets
            client.emit("user_uttered", {"message": OVER_LONG, "session_id": sessions[0], "metadata": {}})
            with arrived:
                assert arrived.wait_for(lambda: len(received) >= sent, timeout=30), received
        answers = [message.get("text") or "" for message in received]
        assert all("太长" in answer for answer in answers[:LIMIT]), answers[:3]
        assert "发消息太快" in answers[LIMIT]
    finally:
        client.eio.disconnect(abort=True)
