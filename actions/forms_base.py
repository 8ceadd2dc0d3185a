"""A reusable form validation base: re-asks on a bad answer and offers a way out.

Following the pattern of RasaHQ's financial-demo: each validate_<slot> returns None for a
bad value (and utters why); the base counts consecutive failures of the requested slot in
a slot of its own, and after `max_failures` it stops the form through `give_up`, whose
default sets a flag slot the dialogue rules route to a human.

A message that drops the request ("那不用弄了") or needs a person (an angry buyer) is not an
answer: the form takes nothing from it, so Rasa hands the turn to the policies that cancel or
hand over (a form that accepts something keeps the turn).

An answer that leaves the question open and adds nothing (the buyer tells the problem again
when asked whether the item was used) is no answer either, although Rasa re-extracts the
problem's slot from it: the form is rejected as for a message it cannot map, so action_clarify
counts it and the second in a row goes to a person (the policy's count), instead of the same
question coming back until the buyer gives up.

A slot that an earlier action cleared (a `SlotSet(name, None)` just before the form runs) is
nothing the buyer said: it is never validated, so a fresh task is not met with "that is not an
order number" for a number nobody typed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from bot.nlu.reaction import withdraws
from bot.nlu.upset import assess_mood

REQUESTED_SLOT = "requested_slot"


def is_no_answer(tracker: Tracker) -> bool:
    message = tracker.latest_message or {}
    text = message.get("text") or ""
    if not text or text.startswith("/"):
        return False
    names_a_remedy = any(entity.get("entity") == "remedy" for entity in message.get("entities") or [])
    return withdraws(text, names_a_remedy=names_a_remedy) or assess_mood(text).needs_person


def without_cleared_candidates(tracker: Tracker) -> Tracker:
    """A copy of `tracker` whose trailing slot candidates (what rasa_sdk validates) leave out
    the slots that were merely cleared."""
    events = list(tracker.events)
    start = len(events)
    while start > 0 and events[start - 1].get("event") == "slot":
        start -= 1
    candidates = [event for event in events[start:] if event.get("value") is not None]
    if len(candidates) == len(events) - start:
        return tracker
    copy = tracker.copy()
    copy.events = events[:start] + candidates
    return copy


def typed_text(tracker: Tracker) -> Text:
    """What the buyer typed this turn; a button payload ("/inform{...}") is no typed text."""
    text = ((tracker.latest_message or {}).get("text") or "").strip()
    return "" if text.startswith("/") else text


def reads_a_fresh_answer(tracker: Tracker, form: Text) -> bool:
    """The form runs right after the buyer's message. Rasa also calls the validation when it comes
    back to the form after another action answered the message (a policy question, a clarifying
    question): that run only picks the question to ask, it reads no answer."""
    actions = []
    for event in reversed(list(tracker.events)):
        if event.get("event") == "user":
            break
        if event.get("event") == "action":
            actions.append(event.get("name"))
    return all(name in (form, "action_extract_slots", "action_listen") for name in actions)


def slots_before_latest_message(tracker: Tracker) -> Dict[Text, Any]:
    """The slot values set before the buyer's latest message (what this message may change)."""
    values: Dict[Text, Any] = {}
    events = list(tracker.events)
    latest = max((index for index, event in enumerate(events) if event.get("event") == "user"), default=len(events))
    for event in events[:latest]:
        if event.get("event") == "slot":
            values[event.get("name")] = event.get("value")
    return values


class RetryingFormValidationAction(FormValidationAction, ABC):
    failure_count_slot: Text = ""
    # slots the validation sets for its own use (not something the buyer answered)
    bookkeeping_slots: Tuple[Text, ...] = ()
    gave_up_slot: Text = ""
    max_failures: int = 3
    reset_failures_on_success: bool = True

    @abstractmethod  # keeps rasa_sdk from registering the base class as an action
    def name(self) -> Text:
        raise NotImplementedError

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        if is_no_answer(tracker):
            return []
        requested = tracker.get_slot(REQUESTED_SLOT)
        before = slots_before_latest_message(tracker)
        uttered = len(dispatcher.messages)
        events = await super().run(dispatcher, tracker, domain)
        if (
            requested
            and typed_text(tracker)
            and reads_a_fresh_answer(tracker, self.form_name())
            and self._leaves_the_question_open(events, requested, before)
        ):
            del dispatcher.messages[uttered:]
            return [ActionExecutionRejected(self.form_name())]
        return events

    def _leaves_the_question_open(self, events: List[EventType], requested: Text, before: Dict[Text, Any]) -> bool:
        """Nothing for the slot asked about, the same question next, and no other slot changed."""
        ignored = {REQUESTED_SLOT, self.failure_count_slot, *self.bookkeeping_slots}
        asked_next = requested
        for event in events:
            if event.get("event") != "slot":
                continue
            name, value = event.get("name"), event.get("value")
            if name == REQUESTED_SLOT:
                asked_next = value
            elif name == requested:
                return False
            elif name not in ignored and (value or None) != (before.get(name) or None):
                return False
        return asked_next == requested

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        tracker = without_cleared_candidates(tracker)
        events = await super().get_validation_events(dispatcher, tracker, domain)
        requested = tracker.get_slot(REQUESTED_SLOT)
        if not requested or not self.failure_count_slot:
            return events
        if self._requested_slot_rejected(events, requested):
            failures = int(tracker.get_slot(self.failure_count_slot) or 0) + 1
            events.append(SlotSet(self.failure_count_slot, failures))
            if failures >= self.max_failures:
                events.extend(self.give_up(dispatcher, tracker))
        elif self.reset_failures_on_success and self._requested_slot_accepted(events, requested):
            events.append(SlotSet(self.failure_count_slot, 0))
        return events

    def give_up(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        return [SlotSet(self.gave_up_slot, True), SlotSet(REQUESTED_SLOT, None)]

    @staticmethod
    def _requested_slot_rejected(events: List[EventType], requested: Text) -> bool:
        return any(
            event.get("event") == "slot" and event.get("name") == requested and event.get("value") is None
            for event in events
        )

    @staticmethod
    def _requested_slot_accepted(events: List[EventType], requested: Text) -> bool:
        return any(
            event.get("event") == "slot" and event.get("name") == requested and event.get("value") is not None
            for event in events
        )
