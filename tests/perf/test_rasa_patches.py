"""The compiled action-reply validator (bot/rasa_patches.py): in place once the project's Rasa
modules are imported, as strict as Rasa's own jsonschema.validate, and skipped on another Rasa."""

from __future__ import annotations

import logging

import jsonschema
import pytest

rasa = pytest.importorskip("rasa")
from rasa.core.actions.action import RemoteAction  # noqa: E402

import bot.rasa_policies  # noqa: E402,F401  (the import the Rasa server does when it loads the model)
from bot import rasa_patches  # noqa: E402
from bot.long_lived import freeze_long_lived_objects  # noqa: E402
from tests.conftest import PROJECT_ROOT  # noqa: E402

SPEC = RemoteAction.action_response_format_spec()

VALID_REPLIES = [
    {},
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "order_verified", "value": True}],
        "responses": [{"response": "utter_greet"}],
    },
    {"events": [{"event": "active_loop", "name": None}, {"event": "followup", "name": "action_listen"}]},
]
INVALID_REPLIES = [
    {"events": "not a list"},
    {"events": [{"event": "slot"}]},
    {"events": [{"event": "no_such_event"}]},
    {"responses": [1]},
    {"events": [{"event": "slot", "name": 3, "value": 1}]},
    [],
]


def rasa_message(reply) -> str:
    try:
        jsonschema.validate(reply, SPEC)
    except jsonschema.ValidationError as error:
        return error.message
    raise AssertionError(f"jsonschema accepts {reply!r}")


def test_patch_is_installed_by_the_policy_package():
    assert rasa.__version__ == rasa_patches.PATCHED_RASA_VERSION
    assert rasa_patches.is_installed()
    assert RemoteAction._validate_action_result is not rasa_patches.ORIGINAL_VALIDATION


@pytest.mark.parametrize("reply", VALID_REPLIES)
def test_valid_replies_pass(reply):
    jsonschema.validate(reply, SPEC)  # Rasa's own check agrees
    assert RemoteAction("action_x", None)._validate_action_result(reply) is True


@pytest.mark.parametrize("reply", INVALID_REPLIES)
def test_invalid_replies_are_rejected_as_rasa_rejects_them(reply):
    with pytest.raises(jsonschema.ValidationError) as raised:
        RemoteAction("action_x", None)._validate_action_result(reply)
    expected = rasa_message(reply)
    assert raised.value.message.startswith(expected + ". Failed to validate Action server response from API")


def test_other_rasa_versions_are_left_alone(monkeypatch, caplog):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", rasa_patches.ORIGINAL_VALIDATION)
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with caplog.at_level(logging.INFO, logger="bot.rasa_patches"):
        assert rasa_patches.install() is False
    assert RemoteAction._validate_action_result is rasa_patches.ORIGINAL_VALIDATION
    assert not rasa_patches.is_installed()
    assert "3.7.0" in caplog.text


def test_installing_twice_keeps_one_patch(monkeypatch):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", rasa_patches.ORIGINAL_VALIDATION)
    assert rasa_patches.install() is True
    patched = RemoteAction._validate_action_result
    assert rasa_patches.install() is True
    assert RemoteAction._validate_action_result is patched


def every_event_type_reply():
    """One valid event of each type in Rasa's schema, built from the fields that type requires."""
    defaults = {"string": "action_listen", "array": [], "object": {}, "number": 1.5, "integer": 1, "boolean": True}
    events = []
    for variant in SPEC["properties"]["events"]["items"]["oneOf"]:
        sample = {"event": variant["properties"]["event"]["const"], "timestamp": 1.5}
        for field in variant.get("required", []):
            kind = variant["properties"].get(field, {}).get("type", "string")
            sample.setdefault(field, defaults[kind[0] if isinstance(kind, list) else kind])
        events.append(sample)
    return {"events": events, "responses": [{"response": "utter_greet"}]}


def broken_variants(reply):
    """The reply with one event broken at a time, in the ways a faulty action server breaks them."""
    for index, event in enumerate(reply["events"]):
        for broken in (
            {**event, "event": "no_such_type"},
            {**event, "timestamp": "yesterday"},
            {**event, "metadata": "not an object"},
            {key: value for key, value in event.items() if key != "event"},
            {**event, "name": 7},
            {**event, "text": 7},
            "not an event",
        ):
            events = list(reply["events"])
            events[index] = broken
            yield {**reply, "events": events}


def test_checking_events_by_their_type_agrees_with_rasa_on_every_type():
    reply = every_event_type_reply()
    jsonschema.validate(reply, SPEC)
    assert RemoteAction("action_x", None)._validate_action_result(reply) is True
    for variant in broken_variants(reply):
        try:
            jsonschema.validate(variant, SPEC)
        except jsonschema.ValidationError as error:
            with pytest.raises(jsonschema.ValidationError) as raised:
                RemoteAction("action_x", None)._validate_action_result(variant)
            assert raised.value.message.startswith(error.message)
        else:
            assert RemoteAction("action_x", None)._validate_action_result(variant) is True


def test_the_empty_domain_is_built_once_and_answers_as_rasa_does(monkeypatch):
    from rasa.shared.core.domain import Domain

    assert getattr(Domain.is_empty, rasa_patches.EMPTY_DOMAIN_MARKER, False)
    project = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    built = []
    real_empty = Domain.empty.__func__

    def counted_empty(cls):
        built.append(1)
        return real_empty(cls)

    monkeypatch.setattr(Domain, "empty", classmethod(counted_empty))
    for _ in range(5):
        assert Domain.is_empty(project) is False
        assert Domain.is_empty(Domain.from_dict({})) is True
        assert Domain.is_empty(Domain.from_dict({"intents": ["greet"]})) is False
    assert len(built) <= 1


def test_a_loaded_model_is_frozen_for_the_collector_and_a_replaced_one_is_collected(loaded_model):
    import gc
    import weakref

    from rasa.core.agent import Agent

    assert getattr(Agent._set_fingerprint, rasa_patches.GC_FREEZE_MARKER, False)
    assert loaded_model.agent.is_ready()
    assert gc.get_freeze_count() > 100_000  # Rasa and the model: hundreds of thousands of objects

    class PreviousModel:
        pass

    previous = PreviousModel()
    previous.itself = previous  # a cycle: only the collector frees it, and not while frozen
    collected = []
    weakref.finalize(previous, collected.append, True)
    gc.freeze()  # as it was left by an earlier load
    del previous
    gc.collect()
    assert collected == []
    freeze_long_lived_objects()  # the next load
    assert collected == [True]
    assert gc.get_freeze_count() > 100_000


def test_the_hand_off_rows_are_read_while_the_message_is_parsed(loaded_model, monkeypatch):
    import time

    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.trackers import DialogueStateTracker

    processor = loaded_model.agent.processor
    timeline = {}

    def slow_latest_handoff(conversation_id):
        timeline["read starts"] = time.monotonic()
        time.sleep(0.3)  # a slow database
        timeline["read ends"] = time.monotonic()
        return True, None  # a hand-off is waiting for an agent

    real_parse = processor.parse_message

    async def timed_parse(message, tracker=None, only_output_properties=True):
        timeline["parse starts"] = time.monotonic()
        return await real_parse(message, tracker, only_output_properties)

    monkeypatch.setattr(rasa_patches, "latest_handoff", slow_latest_handoff)
    monkeypatch.setattr(processor, "parse_message", timed_parse)
    tracker = DialogueStateTracker("overlap-1", loaded_model.agent.domain.slots)
    message = UserMessage("我买的耳机坏了，右边没声音", sender_id="overlap-1")
    loaded_model.loop.run_until_complete(processor._handle_message_with_tracker(message, tracker))

    assert timeline["read starts"] < timeline["parse starts"] < timeline["read ends"]
    assert tracker.is_paused(), "the hand-off found paused the conversation before the message was logged"
    assert tracker.latest_message.text == message.text and tracker.latest_message.intent.get("name")
