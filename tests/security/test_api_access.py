"""Findings 3, 5 and 8 of issue 13: nothing reachable without a credential.

The Rasa HTTP API answered anyone (conversations with phone digits, slot injection,
`DELETE /model`), CORS echoed any origin, and the action server listened on every interface
and ran any tracker posted to it, echoing it back in its 500s."""

from __future__ import annotations

import socket
import uuid

import pytest
import requests

from bot.launcher import free_port, start_action_server, wait_until_ready

pytestmark = pytest.mark.rasa


def test_the_http_api_needs_the_token(secured):
    sender = "api-" + uuid.uuid4().hex[:8]
    secured.say(sender, "你好")
    tracker_url = secured.url(f"/conversations/{sender}/tracker")
    assert requests.get(tracker_url, timeout=30).status_code == 401
    assert requests.get(tracker_url, params={"token": "wrong"}, timeout=30).status_code == 401
    injected = requests.post(
        secured.url(f"/conversations/{sender}/tracker/events"),
        json={"event": "slot", "name": "verified_orders", "value": ["6201458839270153"]},
        timeout=30,
    )
    assert injected.status_code == 401
    assert requests.delete(secured.url("/model"), timeout=30).status_code == 401
    assert requests.get(tracker_url, params={"token": secured.api_token}, timeout=30).status_code == 200
    assert secured.tracker(sender)["slots"].get("verified_orders") in (None, [])
    assert secured.alive(), "the model must still be loaded"


def test_cors_does_not_echo_a_foreign_origin(secured):
    foreign = "http://attacker.example"
    preflight = requests.options(
        secured.url("/console/api/queue"),
        headers={"Origin": foreign, "Access-Control-Request-Method": "GET"},
        timeout=30,
    )
    plain = requests.get(secured.url("/webhooks/webchat/limits"), headers={"Origin": foreign}, timeout=30)
    for response in (preflight, plain):
        assert response.headers.get("Access-Control-Allow-Origin") not in (foreign, "*")
    polling = requests.get(
        secured.url("/socket.io/"), params={"EIO": "4", "transport": "polling"}, headers={"Origin": foreign}, timeout=30
    )
    assert polling.status_code >= 400 or polling.headers.get("Access-Control-Allow-Origin") != foreign


def _made_up_action_call() -> dict:
    return {
        "next_action": "action_ask_order_number",
        "sender_id": "intruder",
        "version": "3.6.21",
        "tracker": {
            "sender_id": "intruder",
            "slots": {"verified_orders": ["6201458839270153"]},
            "latest_message": {"text": "13957214086"},
            "events": [],
            "active_loop": {},
        },
        "domain": {},
    }


def test_the_action_server_listens_on_loopback_and_needs_the_shared_token(tmp_path):
    port = free_port()
    token = "actions-token-" + uuid.uuid4().hex
    env = {"AFTERSALES_DATABASE_URL": f"sqlite:///{tmp_path / 'aftersales.db'}", "AFTERSALES_ACTIONS_TOKEN": token}
    server = start_action_server(port, env, tmp_path / "actions.log")
    try:
        wait_until_ready(server, 120)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:  # not on another interface
            outward = _outward_address()
            if outward:
                assert probe.connect_ex((outward, port)) != 0, "动作服务器不应监听回环以外的地址"
        url = f"http://127.0.0.1:{port}/webhook"
        refused = requests.post(url, json=_made_up_action_call(), timeout=30)
        assert refused.status_code == 401
        assert "6201458839270153" not in refused.text
        broken = _made_up_action_call()
        broken["tracker"] = ["6201458839270153", "13957214086"]  # not a tracker: the action server fails
        failed = requests.post(url, params={"token": token}, json=broken, timeout=30)
        assert failed.status_code >= 400
        assert "6201458839270153" not in failed.text and "13957214086" not in failed.text
        log = (tmp_path / "actions.log").read_text(errors="replace")
        assert "13957214086" not in log and "6201458839270153" not in log
    finally:
        server.stop()


def _outward_address():
    """This machine's address on its default route (None without a network)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.connect(("192.0.2.1", 9))  # TEST-NET, nothing is sent
            address = udp.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address
