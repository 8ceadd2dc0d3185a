"""The prediction patches (bot/rasa_rule_prediction.py, bot/rasa_graph_runner.py) and the copy
of a tracker by its state (bot/rasa_tracker_copy.py) against Rasa's own code, on conversations
the running assistant really had: the events are read back from its tracker, replayed into a
tracker that grows as a live one does, and at every point where Rasa predicted an action, the
states, the matching rules, the whole prediction and the copy Rasa makes before running the
action are worked out with the patches and without them."""

from __future__ import annotations

import json
import random
from typing import Any, Dict, List

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUtteranceReverted
from rasa.shared.core.trackers import DialogueStateTracker

from bot import rasa_graph_runner, rasa_rule_prediction, rasa_tracker_copy
from tests.e2e.test_conversation import HEADPHONES_ORDER, HEADPHONES_PHONE_LAST4, stored_photo

pytestmark = pytest.mark.rasa

PHOTO = object()  # stands for the photo upload in a script
SCRIPTS = {
    "complaint": [
        "你好",
        "我买的耳机坏了，右边没声音",
        f"订单号 {HEADPHONES_ORDER}",
        HEADPHONES_PHONE_LAST4,
        PHOTO,
        "换货吧",
        "谢谢",
    ],
    "tracking": ["查物流", HEADPHONES_ORDER, HEADPHONES_PHONE_LAST4, "好的谢谢"],
    "withdrawn": ["耳机坏了", "算了，不用了", "你们的退货政策是什么", "嗯嗯", "再见"],
}


def count_calls(monkeypatch, owner, name) -> Dict[str, int]:
    """Calls of owner.name, counted separately with the patches in place and without them."""
    counts = {"patched": 0, "released": 0}
    original = getattr(owner, name)

    def counted(*args, **kwargs):
        patched = getattr(Domain.states_for_tracker_history, rasa_rule_prediction.KEPT_STATES_MARKER, False)
        counts["patched" if patched else "released"] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return counts


def rule_policy(agent) -> RulePolicy:
    [policy] = [
        node._component
        for node in agent.processor.graph_runner._instantiated_nodes.values()
        if isinstance(getattr(node, "_component", None), RulePolicy)
    ]
    return policy


def rasa_as_released(monkeypatch) -> None:
    monkeypatch.setattr(Domain, "states_for_tracker_history", rasa_rule_prediction.ORIGINAL_STATES)
    monkeypatch.setattr(RulePolicy, "_get_possible_keys", rasa_rule_prediction.ORIGINAL_POSSIBLE_KEYS)
    monkeypatch.setattr(DaskGraphRunner, "run", rasa_graph_runner.ORIGINAL_RUN)


def prediction(agent, tracker) -> Dict[str, Any]:
    followup = tracker.followup_action  # a prediction takes it off the tracker
    result = agent.processor._predict_next_with_tracker(tracker)
    tracker.followup_action = followup
    return {
        "probabilities": result.probabilities,
        "policy": result.policy_name,
        "events": result.events,
        "optional_events": result.optional_events,
        "end_to_end": result.is_end_to_end_prediction,
        "no_user": result.is_no_user_prediction,
    }


def what_rasa_works_out(agent, policy, tracker) -> Dict[str, Any]:
    return {
        "states": tracker.past_states(agent.domain),
        "rules from text": policy._find_action_from_rules(tracker, agent.domain, True),
        "rules from intent": policy._find_action_from_rules(tracker, agent.domain, False),
        "prediction": prediction(agent, tracker),
    }


@pytest.fixture(scope="module")
def conversations(assistant) -> Dict[str, List[dict]]:
    """The events of each scripted conversation, as the running assistant stored them."""
    stored = {}
    for name, script in SCRIPTS.items():
        sender = f"patches-{name}"
        for turn in script:
            if turn is PHOTO:
                metadata, _ = stored_photo(assistant)
                assistant.say(sender, "这是照片", metadata)
            else:
                assistant.say(sender, turn)
        stored[name] = assistant.tracker(sender)["events"]
    return stored


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_predictions_are_rasas_at_every_step(conversations, loaded_model, monkeypatch, name):
    agent = loaded_model.agent
    policy = rule_policy(agent)
    events = DialogueStateTracker.from_dict(name, conversations[name], agent.domain.slots).events
    assert sum(isinstance(event, ActionExecuted) for event in events) >= 2 * len(SCRIPTS[name])

    live = DialogueStateTracker(name, agent.domain.slots)  # grows event by event, as in a turn
    steps, states_worked_out = 0, count_calls(monkeypatch, Domain, "get_active_state")
    for event in events:
        if isinstance(event, ActionExecuted):
            patched = what_rasa_works_out(agent, policy, live)
            with monkeypatch.context() as rasa_itself:
                rasa_as_released(rasa_itself)
                released = what_rasa_works_out(agent, policy, live)
            assert patched == released, f"step {steps} before {event.action_name}"
            steps += 1
        live.update(event)

    assert steps >= 2 * len(SCRIPTS[name])
    # Rasa works every state out again for each call at every step; kept, a state is worked out
    # again only after a form folded the turns before it away (a little over half the work on
    # these conversations)
    assert states_worked_out["patched"] * 3 <= states_worked_out["released"] * 2, states_worked_out


def test_a_rewound_tracker_gets_the_states_rasa_gives(conversations, loaded_model):
    agent = loaded_model.agent
    tracker = DialogueStateTracker.from_dict("rewound", conversations["complaint"], agent.domain.slots)
    before = tracker.past_states(agent.domain)
    tracker.update(UserUtteranceReverted())
    rewound = tracker.past_states(agent.domain)
    assert rewound == rasa_rule_prediction.ORIGINAL_STATES(agent.domain, tracker)
    assert rewound != before


def test_states_handed_out_can_be_edited_without_touching_the_kept_ones(conversations, loaded_model):
    agent = loaded_model.agent
    tracker = DialogueStateTracker.from_dict("edited", conversations["tracking"], agent.domain.slots)
    first = tracker.past_states(agent.domain)
    for state in first:
        state.get("user", {}).pop("intent", None)  # as the featurizers do
        state.clear()
    assert tracker.past_states(agent.domain) == rasa_rule_prediction.ORIGINAL_STATES(agent.domain, tracker)


def as_conversation_state(rule_state: Dict[str, Any]) -> Dict[str, Any]:
    # rule keys are JSON: tuples came back as lists
    return {
        kind: {key: tuple(value) if isinstance(value, list) else value for key, value in sub_state.items()}
        for kind, sub_state in rule_state.items()
    }


def test_rules_found_by_the_index_are_rasas_on_mixed_rule_states(loaded_model):
    """Conversations stitched from the rules' own states (so that rules match, half match or
    ask for something else), some with the previous action or the intent swapped or gone."""
    policy = rule_policy(loaded_model.agent)
    lookups = [lookup for lookup in policy.lookup.values() if isinstance(lookup, dict) and lookup]
    pieces = [as_conversation_state(state) for lookup in lookups for key in lookup for state in json.loads(key)]
    actions = sorted({state.get("prev_action", {}).get("action_name") for state in pieces} - {None})
    chance = random.Random(20261207)
    compared = found = 0
    for _ in range(400):
        states = [dict(chance.choice(pieces)) for _ in range(chance.randint(1, 8))]
        for state in states:
            if chance.random() < 0.2:
                state["prev_action"] = {"action_name": chance.choice(actions)}
            if chance.random() < 0.1:
                state.pop("user", None)
        for lookup in lookups:
            mine = policy._get_possible_keys(lookup, states)
            assert mine == rasa_rule_prediction.ORIGINAL_POSSIBLE_KEYS(policy, lookup, states)
            compared += 1
            found += bool(mine)
    assert compared == 400 * len(lookups) and found > 100


def tracker_state(tracker) -> Dict[str, Any]:
    state = dict(vars(tracker))
    state["events"] = list(tracker.events)
    state["slots"] = {name: (type(slot), vars(slot)) for name, slot in tracker.slots.items()}
    return state


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_a_tracker_copied_by_its_state_is_the_copy_rasa_replays(conversations, loaded_model, name):
    from rasa.shared.core.events import ActiveLoop, LoopInterrupted, SlotSet

    assert getattr(DialogueStateTracker.copy, rasa_tracker_copy.MARKER, False)
    domain = loaded_model.agent.domain
    events = DialogueStateTracker.from_dict(name, conversations[name], domain.slots).events
    live = DialogueStateTracker(name, domain.slots)
    live.model_id, live.assistant_id = "model-of-the-server", "aftersales-zh"  # set by the processor
    for event in events:
        live.update(event)
        live.past_states(domain)  # the project's own attributes on it (kept states)
        replayed, copied = rasa_tracker_copy.ORIGINAL_COPY(live), live.copy()
        assert tracker_state(copied) == tracker_state(replayed)
        before = tracker_state(live)
        for change in (SlotSet("order_number", "1"), ActiveLoop("case_form"), LoopInterrupted(True)):
            copied.update(change)
        assert tracker_state(live) == before  # the copy is the processor's to change
