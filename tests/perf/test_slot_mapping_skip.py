"""action_validate_slot_mappings is called only on turns that carry something for it
(bot/rasa_patches.py, patch 2): Rasa's own ActionExtractSlots against a counting action
server, and the project's real ValidateSlotMappings showing that the skipped turns are the
ones where it has nothing to say."""

from __future__ import annotations

import asyncio
import json

import pytest

pytest.importorskip("rasa")
from rasa.core.actions.action import ActionExtractSlots  # noqa: E402
from rasa.core.channels.channel import CollectingOutputChannel  # noqa: E402
from rasa.core.nlg import TemplatedNaturalLanguageGenerator  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity  # noqa: E402
from rasa.utils.endpoints import EndpointConfig  # noqa: E402

import bot.rasa_policies  # noqa: E402,F401
from bot import rasa_patches  # noqa: E402
from tests.conftest import PROJECT_ROOT  # noqa: E402
from tests.fakes.http_server import Answer, FakeServer  # noqa: E402

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))


class CountingActionServer(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.calls = []

    def answer(self, method, path, query, headers, body):
        self.calls.append(json.loads(body)["next_action"])
        return Answer.json({"events": [], "responses": []})


def tracker_with(text, metadata=None, slots=()):
    events = [
        ActionExecuted("action_listen"),
        *[SlotSet(k, v) for k, v in slots],
        UserUttered(text, {"name": "greet", "confidence": 1.0}, metadata=metadata),
    ]
    return DialogueStateTracker.from_events("buyer-1", events, slots=DOMAIN.slots)


def extract_slots(server, tracker):
    action = ActionExtractSlots(EndpointConfig(f"{server.url}/webhook"))
    return asyncio.run(
        action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(DOMAIN.responses), tracker, DOMAIN)
    )


def test_skip_is_installed():
    assert rasa_patches.install_slot_mapping_skip()
    assert getattr(ActionExtractSlots._execute_validation_action, rasa_patches.SKIP_MARKER)


@pytest.mark.parametrize(
    "metadata, slots, called",
    [
        (None, (), False),
        ({}, (), False),
        ({"attachments": [{"type": "image", "url": "/evidence/x.jpg"}]}, (), True),
        ({"customer_id": "c-42"}, (), True),
        (None, [("files_went_to_ticket", True)], True),
    ],
)
def test_remote_call_only_when_the_turn_needs_it(metadata, slots, called):
    with CountingActionServer() as server:
        extract_slots(server, tracker_with("你好", metadata, slots))
    assert (server.calls == ["action_validate_slot_mappings"]) is called


def test_slots_rasa_extracts_itself_still_come_through():
    with CountingActionServer() as server:
        tracker = tracker_with("6201458839270153")
        tracker.latest_message.entities = [
            {"entity": "order_number", "value": "6201458839270153", "start": 0, "end": 16}
        ]
        events = extract_slots(server, tracker)
    assert server.calls == []
    assert SlotSet("order_number", "6201458839270153") in events


@pytest.mark.parametrize("text", ["你好", "我的耳机坏了", "6201458839270153"])
def test_skipped_turns_are_the_ones_the_action_server_answers_with_nothing(text, tmp_path, monkeypatch):
    """The real ValidateSlotMappings on a turn without files or identity: no events, no text."""
    monkeypatch.setenv("AFTERSALES_EVIDENCE_DIR", str(tmp_path))
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.evidence import ValidateSlotMappings

    state = tracker_with(text).current_state(EventVerbosity.ALL)
    tracker = Tracker.from_dict(state)
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateSlotMappings().run(dispatcher, tracker, DOMAIN.as_dict()))
    assert not rasa_patches.turn_needs_slot_mapping_action(state["latest_message"].get("metadata"), None)
    assert [
        e
        for e in events
        if e.get("event") == "slot"
        and e.get("value") is not None
        and e.get("name") in ("customer_id", "evidence", "files_went_to_ticket")
    ] == []
    assert dispatcher.messages == []


def test_a_turn_after_files_went_to_a_ticket_is_not_skipped(tmp_path, monkeypatch):
    """The one turn without files that the action server does answer: it resets the flag."""
    monkeypatch.setenv("AFTERSALES_EVIDENCE_DIR", str(tmp_path))
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.evidence import ValidateSlotMappings

    state = tracker_with("好的", slots=[("files_went_to_ticket", True)]).current_state(EventVerbosity.ALL)
    events = asyncio.run(ValidateSlotMappings().run(CollectingDispatcher(), Tracker.from_dict(state), DOMAIN.as_dict()))
    assert {"event": "slot", "name": "files_went_to_ticket", "value": False, "timestamp": None} in events
    assert rasa_patches.turn_needs_slot_mapping_action(None, True)


def test_a_remembered_identity_is_rechecked_on_every_turn():
    """The customer_id slot must be cleared as soon as its signed token is gone: the action that
    clears it runs on every turn while the slot is set."""
    assert rasa_patches.turn_needs_slot_mapping_action({}, None, "shop-c-10021")
    assert not rasa_patches.turn_needs_slot_mapping_action({}, None, None)
