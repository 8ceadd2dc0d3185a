"""Two documented patches of Rasa 3.6.21 for the rule policy's prediction, the dialogue's only
learned policy here (config.yml). Both give the answers Rasa gives; they only skip work.

1. The dialogue states of a conversation are worked out once (`install_kept_states()`).

   Why. For every prediction, the rule policy asks for the state of the conversation before
   each action so far (`Domain.states_for_tracker_history`). Rasa builds them by replaying
   every event of the session into an empty tracker, and it does that twice for the first
   prediction after a message (once reading the buyer's text, once the intent) and once more
   for every prediction after each action: a message that runs three actions replayed the
   whole session five times.

   What changes. The replayed tracker and the states found so far are kept on the tracker
   they were made for. The next call works out states only for the events that are new since.
   Where the applied events no longer begin with the ones replayed (a form's next run folds
   the buyer's turns inside it away, a rewind, a restart, a new session), the events they
   still share are replayed again without working their states out a second time, and the
   rest as new. Every call gets its own copies of the states (see `copy_state`), because the
   featurizers edit them. The variant that hides rule-only turns (for policies that learn from
   stories, none in this model) and the training's trackers, which keep states of their own,
   are left to Rasa.

2. Rules looked up by what they ask for (`install_rule_index()`).

   Why. `RulePolicy._get_possible_keys` compares every rule (155 in this model) with the
   conversation, state by state from the newest, down to the conversation's first state,
   although `_is_rule_applicable` lets every rule through at a state further back than the
   rule is long (three states at most here).

   What changes. The rules are indexed once by the previous action and the intent each of
   their states asks for. At each state only the rules whose asks agree with the state's, or
   that ask for neither, go to Rasa's own `_is_rule_applicable`; a rule that asks for another
   action or intent could not pass it (`_does_rule_match_state` compares them first-hand).
   The loop stops when no rule is left or none reaches further back.

Pinned to Rasa 3.6.21 like bot/rasa_patches.py; installed with those patches.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Set, Tuple

logger = logging.getLogger(__name__)

KEPT_STATES_MARKER = "_aftersales_kept_states"
RULE_INDEX_MARKER = "_aftersales_rule_index"
HISTORY_ATTRIBUTE = "_aftersales_state_history"  # on a tracker: its replay so far
ORIGINAL_STATES: Optional[Callable] = None  # Rasa's own methods, kept for tests
ORIGINAL_POSSIBLE_KEYS: Optional[Callable] = None


# --- patch 1: states kept per tracker -------------------------------------------------------------


@dataclass
class StateHistory:
    """A tracker's applied events replayed so far, and the state before each action among them."""

    domain: Any
    omit_unset_slots: bool
    replay: Any  # a tracker with `events` applied
    events: List[Any] = field(default_factory=list)
    states: List[Dict[str, Any]] = field(default_factory=list)

    def shared_with(self, applied: List[Any]) -> int:
        """How many of the replayed events begin `applied`, one for one."""
        shared = 0
        for mine, theirs in zip(self.events, applied):
            if mine is not theirs:
                break
            shared += 1
        return shared

    def cut_to(self, shared: int, fresh_replay: Any) -> None:
        """Keep the first `shared` events and the states before the actions among them; the
        replay starts again, without working out those states a second time."""
        from rasa.shared.core.events import ActionExecuted

        self.events = self.events[:shared]
        self.states = self.states[: sum(isinstance(event, ActionExecuted) for event in self.events)]
        self.replay = fresh_replay
        for event in self.events:
            self.replay.update(event)


def copy_state(state: Dict[str, Any]) -> Dict[str, Any]:
    """A state of its own, with a user part of its own: the featurizers delete the intent or the
    text from the user part (`_choose_last_user_input`, `_remove_user_text_if_intent`). The
    slots, the previous action and the loop are shared, read only: copying the slots of every
    state on every call cost more than the replay it saved."""
    from rasa.shared.core.constants import USER

    copied = dict(state)
    if USER in copied:
        copied[USER] = dict(copied[USER])
    return copied


def _states_for_tracker_history(
    self: Any,
    tracker: Any,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: Optional[Dict[str, Any]] = None,
) -> List[Dict[str, Any]]:
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    if ignore_rule_only_turns or type(tracker) is not DialogueStateTracker:  # training's trackers cache their own
        return ORIGINAL_STATES(self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)  # type: ignore[misc]
    applied = tracker.applied_events()
    history = tracker.__dict__.get(HISTORY_ATTRIBUTE)
    if history is None or history.domain is not self or history.omit_unset_slots != omit_unset_slots:
        history = StateHistory(self, omit_unset_slots, tracker.init_copy())
        tracker.__dict__[HISTORY_ATTRIBUTE] = history
    shared = history.shared_with(applied)
    if shared < len(history.events):
        history.cut_to(shared, tracker.init_copy())
    for event in applied[len(history.events) :]:
        if isinstance(event, ActionExecuted):
            history.states.append(self._clean_state(self.get_active_state(history.replay, omit_unset_slots)))
        history.replay.update(event)
        history.events.append(event)
    latest = self._clean_state(self.get_active_state(history.replay, omit_unset_slots))
    return [copy_state(state) for state in history.states] + [latest]


def install_kept_states() -> bool:
    """Replace `Domain.states_for_tracker_history`; True when the patch is (already) active."""
    global ORIGINAL_STATES
    from rasa.shared.core.domain import Domain

    from bot.rasa_patches import replace_pinned

    original = replace_pinned(
        Domain,
        "states_for_tracker_history",
        _states_for_tracker_history,
        marker=KEPT_STATES_MARKER,
        without_patch="the dialogue states are replayed from the start for every prediction",
        installed="Dialogue states are kept per tracker (bot/rasa_rule_prediction.py).",
    )
    ORIGINAL_STATES = original or ORIGINAL_STATES
    return original is not None


# --- patch 2: rules looked up by what they ask for ------------------------------------------------

ANY = None  # a rule state that asks for no particular previous action (or intent)
_Asks = Tuple[Optional[str], Optional[str]]  # (previous action, intent)


def _asked(sub_state: Any, key: str) -> Optional[str]:
    from rasa.shared.core.constants import SHOULD_NOT_BE_SET

    value = sub_state.get(key) if isinstance(sub_state, dict) else None
    return value if isinstance(value, str) and value and value != SHOULD_NOT_BE_SET else ANY


def state_asks(state: Dict[str, Any]) -> _Asks:
    from rasa.shared.core.constants import PREVIOUS_ACTION, USER
    from rasa.shared.nlu.constants import ACTION_NAME, INTENT

    return _asked(state.get(PREVIOUS_ACTION), ACTION_NAME), _asked(state.get(USER), INTENT)


@dataclass
class RuleIndex:
    """Rule keys by turn (0: the newest state) and by what the rule's state at that turn asks."""

    keys: FrozenSet[str]
    reach: Dict[str, int]
    by_turn: List[Dict[_Asks, Set[str]]]

    @classmethod
    def build(cls, keys: FrozenSet[str], states_of: Callable[[str], List[Dict[str, Any]]]) -> "RuleIndex":
        reach = {key: len(states_of(key)) for key in keys}
        by_turn: List[Dict[_Asks, Set[str]]] = [{} for _ in range(max(reach.values(), default=0))]
        for key in keys:
            for turn, state in enumerate(reversed(states_of(key))):
                by_turn[turn].setdefault(state_asks(state), set()).add(key)
        return cls(keys, reach, by_turn)

    def candidates(self, turn: int, state: Dict[str, Any]) -> Set[str]:
        """The rules that could agree with `state` at `turn`: all others ask for another action
        or intent."""
        action, intent = state_asks(state)
        index = self.by_turn[turn]
        found: Set[str] = set()
        for asks in {(action, intent), (action, ANY), (ANY, intent), (ANY, ANY)}:
            found |= index.get(asks, set())
        return found


def _rule_index(policy: Any, lookup: Dict[str, Any]) -> RuleIndex:
    indexes: Dict[int, RuleIndex] = policy.__dict__.setdefault("_aftersales_rule_indexes", {})
    index = indexes.get(id(lookup))
    keys = frozenset(lookup)
    if index is None or index.keys != keys:
        index = RuleIndex.build(keys, policy._rule_key_to_state)
        indexes[id(lookup)] = index
    return index


def _get_possible_keys(self: Any, lookup: Dict[str, Any], states: List[Dict[str, Any]]) -> Set[str]:
    index = _rule_index(self, lookup)
    possible_keys = set(index.keys)
    for turn, state in enumerate(reversed(states)):
        if not possible_keys or turn >= max(index.reach[key] for key in possible_keys):
            break
        reached = {key for key in possible_keys if index.reach[key] <= turn}  # Rasa lets these through
        possible_keys = reached | {
            key
            for key in possible_keys & index.candidates(turn, state)
            if key not in reached and self._is_rule_applicable(key, turn, state)
        }
    return possible_keys


def install_rule_index() -> bool:
    """Replace `RulePolicy._get_possible_keys`; True when the patch is (already) active."""
    global ORIGINAL_POSSIBLE_KEYS
    from rasa.core.policies.rule_policy import RulePolicy

    from bot.rasa_patches import replace_pinned

    original = replace_pinned(
        RulePolicy,
        "_get_possible_keys",
        _get_possible_keys,
        marker=RULE_INDEX_MARKER,
        without_patch="every rule is compared with every state of the conversation",
        installed="Rules are looked up by what they ask for (bot/rasa_rule_prediction.py).",
    )
    ORIGINAL_POSSIBLE_KEYS = original or ORIGINAL_POSSIBLE_KEYS
    return original is not None
