"""The compiled action-reply validator inside the real Rasa server: it is installed when the
server loads the model, valid replies still go through, and an invalid reply is still rejected."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlsplit

import pytest
import requests

from bot.launcher import rasa_model_loaded, start_on_free_ports, start_rasa_server, wait_until_ready
from benchmarks.conversations import photo_metadata
from tests.fakes.http_server import Answer, FakeServer

API_TOKEN = "perf-test-api-token"

pytestmark = pytest.mark.rasa

BROKEN_SENDER_PREFIX = "broken-"


class ReplyingActionServer(FakeServer):
    """Answers every action with no events, except for the conversations named broken-*: those
    get a reply whose `events` is not a list."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = []

    def answer(self, method, path, query, headers, body):
        call = json.loads(body or b"{}")
        self.calls.append((call.get("sender_id"), call.get("next_action")))
        if str(call.get("sender_id", "")).startswith(BROKEN_SENDER_PREFIX):
            return Answer.json({"events": "not a list", "responses": []})
        return Answer.json({"events": [], "responses": []})


@pytest.fixture(scope="module")
def server_with_fake_actions(trained_model, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("patched-rasa")
    with ReplyingActionServer() as actions:
        action_port = int(actions.url.rsplit(":", 1)[1])
        evidence_dir = workdir / "evidence"
        env = {"AFTERSALES_EVIDENCE_DIR": str(evidence_dir)}
        [rasa] = start_on_free_ports(
            lambda port: [
                start_rasa_server(
                    trained_model,
                    port,
                    action_port,
                    workdir / "tracker.db",
                    env,
                    workdir / "rasa.log",
                    api_token=API_TOKEN,
                )
            ],
            1,
            lambda processes: wait_until_ready(processes[0], 300, accept=rasa_model_loaded),
        )
        port = urlsplit(rasa.ready_url).port
        try:
            yield f"http://127.0.0.1:{port}", actions, rasa, evidence_dir
        finally:
            rasa.stop()


def say(url, sender, text, metadata=None):
    body = {"sender": sender, "message": text, **({"metadata": metadata} if metadata else {})}
    return requests.post(f"{url}/webhooks/rest/webhook", json=body, timeout=120)


def test_installed_in_the_running_server(server_with_fake_actions):
    _, _, rasa, _ = server_with_fake_actions
    log = rasa.log_path.read_text(errors="replace")
    assert "validated by a validator compiled once" in log


def test_valid_reply_passes_and_invalid_reply_is_rejected(server_with_fake_actions):
    url, actions, rasa, evidence_dir = server_with_fake_actions
    good, broken = f"buyer-{uuid.uuid4().hex[:8]}", f"{BROKEN_SENDER_PREFIX}{uuid.uuid4().hex[:8]}"

    replies = say(url, good, "你好").json()
    assert replies, "a conversation whose action replies are valid gets an answer"
    assert "Failed to validate Action server response" not in rasa.log_path.read_text(errors="replace")

    # patch 2 in the running server: a plain message makes no slot-mapping call ...
    assert (good, "action_validate_slot_mappings") not in actions.calls
    # ... one with a stored photo does (the REST channel keeps no identity), and that reply is the invalid one
    say(url, broken, "你好", metadata=photo_metadata(evidence_dir, broken, 1))
    assert (broken, "action_validate_slot_mappings") in actions.calls, "the server asked the action server"
    log = rasa.log_path.read_text(errors="replace")
    # the compiled validator rejected the reply, and patch 3 logged the failure
    assert "Custom action action_validate_slot_mappings failed (ValidationError)" in log
    events = requests.get(f"{url}/conversations/{broken}/tracker", params={"token": API_TOKEN}, timeout=30).json()[
        "events"
    ]
    told = [event["text"] for event in events if event["event"] == "bot"]
    # the slot mappings only are lost: the greeting is still answered, with no outage message
    assert told and not any("系统暂时出了点问题" in text for text in told), told
