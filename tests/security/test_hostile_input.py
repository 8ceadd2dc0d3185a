"""Findings 2, 10g and 11 of issue 13: hostile input never crashes a process.

A lone surrogate in a REST sender stopped Rasa on SQLite, a NUL stopped it on PostgreSQL
(also in a relay conversation_id), bodies that are not JSON objects gave 500s, requests
without a sender shared the conversation `default`, and a claim id beyond 64 bits gave a
500. Each is now a 400/404 with a Chinese reason or cleaned text, and the server goes on
answering buyers."""

from __future__ import annotations

import json
import re
import uuid

import pytest
import requests

from tests.security.conftest import RELAY_TOKEN

pytestmark = pytest.mark.rasa

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b"null",
        b'"x"',
        b"123",
        b"{not json",
        b'{"message": "\\u4f60\\u597d"}',  # no sender: refused, not the shared conversation "default"
        b'{"sender": "", "message": "hi"}',
        b'{"sender": 42, "message": "hi"}',
        b'{"sender": "\\udfff", "message": "hi"}',  # lone surrogate
        b'{"sender": "a\\u0000b", "message": "hi"}',  # NUL
        b'{"sender": "a\\u001bb", "message": "hi"}',  # control character
        b'{"sender": "' + b"x" * 500 + b'", "message": "hi"}',
        b'{"sender": "ok-sender", "message": ["not", "text"]}',
    ],
    ids=[
        "list",
        "null",
        "string",
        "number",
        "malformed",
        "no-sender",
        "empty-sender",
        "number-sender",
        "surrogate-sender",
        "nul-sender",
        "control-sender",
        "long-sender",
        "list-message",
    ],
)
def test_bad_rest_bodies_get_a_chinese_400_and_the_server_lives_on(secured, raw):
    response = secured.post_rest(raw=raw)
    assert response.status_code == 400, response.text
    assert CHINESE.search(response.json()["error"])
    assert secured.alive()


@pytest.mark.parametrize("dirty", ["\udfff", "\x00", "\x07\x1b", "\ud800\udbff"])
def test_unsafe_characters_in_a_message_are_removed_and_the_buyer_is_answered(secured, dirty):
    sender = "dirty-" + uuid.uuid4().hex[:8]
    raw = ('{"sender": "%s", "message": %s}' % (sender, _json_string("你好" + dirty))).encode("utf-8")
    response = secured.post_rest(raw=raw)
    assert response.status_code == 200, response.text
    assert "售后助手" in "".join(reply.get("text") or "" for reply in response.json())
    [user] = [event for event in secured.tracker(sender)["events"] if event["event"] == "user"]
    assert user["text"] == "你好"
    assert secured.alive()


def test_nothing_is_shared_under_the_conversation_default(secured):
    secured.post_rest({"message": "我的订单号是 6201458839270153"})
    response = requests.get(
        secured.url("/conversations/default/tracker"), params={"token": secured.api_token}, timeout=30
    )
    events = response.json().get("events") or []
    assert not [event for event in events if event.get("event") == "user"]


@pytest.mark.parametrize("conversation_id", ["a\x00b", "\udfff", "x" * 300])
def test_relay_refuses_unsafe_conversation_ids(secured, conversation_id):
    body = ('{"conversation_id": %s, "agent": "小王", "text": "您好"}' % _json_string(conversation_id)).encode()
    response = requests.post(
        secured.url("/webhooks/agent_relay/send"),
        data=body,
        headers={"Authorization": f"Bearer {RELAY_TOKEN}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400, response.text
    assert CHINESE.search(response.json()["error"])
    assert secured.alive()


@pytest.mark.parametrize("claim_id", [str(2**64), str(2**63), "9" * 30, "9" * 5000, "１２"])
def test_a_claim_id_beyond_64_bits_is_not_found_not_a_server_error(secured, claim_id):
    console = secured.console()
    response = console.post(secured.url(f"/console/api/handoffs/{claim_id}/claim"), json={}, timeout=30)
    assert response.status_code == 404, response.text
    assert CHINESE.search(response.json()["error"])
    assert secured.alive()


def test_console_conversation_ids_with_a_nul_are_refused(secured):
    console = secured.console()
    response = console.get(secured.url("/console/api/conversations/a%00b"), timeout=30)
    assert response.status_code in (400, 404), response.text
    assert secured.alive()


def _json_string(value: str) -> str:
    out = []
    for char in value:
        if ord(char) < 0x20 or 0xD800 <= ord(char) <= 0xDFFF:
            out.append("\\u%04x" % ord(char))
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


@pytest.mark.parametrize("packet", ["2", "6", "0", "4x\x1e2", ""])
def test_a_socketio_packet_no_client_sends_is_refused_at_once(secured, packet):
    """python-engineio closed the socket on a client ping/noop/open packet and held the POST
    until the next poll: found by `python -m bot fuzz` (60 s without an answer)."""
    opened = requests.get(secured.url("/socket.io/?EIO=4&transport=polling"), timeout=10)
    sid = json.loads(opened.text[1:])["sid"]
    base = secured.url(f"/socket.io/?EIO=4&transport=polling&sid={sid}")
    assert requests.post(base, data=b"40", timeout=10).status_code == 200
    refused = requests.post(base, data=packet.encode("utf-8"), timeout=5)
    assert refused.status_code == 400
    assert requests.post(base, data=b"3", timeout=5).status_code == 200  # a pong is still welcome
