"""A reusable form validation base: re-asks on a bad answer and offers a way out.

Following the pattern of RasaHQ's financial-demo: each validate_<slot> returns None for a
bad value (and utters why); the base counts consecutive failures of the requested slot in
a slot of its own, and after `max_failures` it stops the form through `give_up`, whose
default sets a flag slot the dialogue rules route to a human.

A message that drops the request ("那不用弄了") or needs a person (an angry buyer) is not an
answer: the form takes nothing from it, so Rasa hands the turn to the policies that cancel or
hand over (a form that accepts something keeps the turn).

A slot that an earlier action cleared (a `SlotSet(name, None)` just before the form runs) is
nothing the buyer said: it is never validated, so a fresh task is not met with "that is not an
order number" for a number nobody typed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
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


class RetryingFormValidationAction(FormValidationAction, ABC):
    failure_count_slot: Text = ""
    gave_up_slot: Text = ""
    max_failures: int = 3
    reset_failures_on_success: bool = True

    @abstractmethod  # keeps rasa_sdk from registering the base class as an action
    def name(self) -> Text:
        raise NotImplementedError

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        if is_no_answer(tracker):
            return []
        return await super().run(dispatcher, tracker, domain)

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
