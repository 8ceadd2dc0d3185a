"""Handing the chat to a human agent, and asking again when the NLU did not understand.

While a human has the chat the bot stays silent: the hand-off ends with Rasa's
ConversationPaused, and the agent side resumes the conversation when it hands back.
"""

from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.case import conversation_channel
from bot.console import leave_message
from bot.domain.vocabulary import CHANNELS_WITHOUT_PUSH
from bot.nlu.reaction import asks_for_a_person
from bot.nlu.upset import Mood, assess_mood
from bot.services import cases

FALLBACKS_BEFORE_HANDOFF = 2
UPSET_REASONS = {"buyer_upset", "buyer_abusive"}
DECISION_REPLIES = ("remedy_choice", "decision_feedback")
UNAVAILABLE_RESPONSES = {
    leave_message.OUT_OF_HOURS: "utter_handoff_out_of_hours",
    leave_message.NOBODY_ONLINE: "utter_handoff_nobody_online_leave_message",
}
NO_PUSH_SUFFIX = "_no_push"  # the same, for a buyer whose channel cannot be answered later


def misunderstandings_in_a_row(tracker: Tracker) -> int:
    """Buyer messages in a row, this one included, that the assistant could not place: each was
    answered by action_clarify (an unknown intent, or an answer no form could use)."""
    count, clarified = 0, True  # this message is being clarified right now
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if not clarified:
                break
            count, clarified = count + 1, False
        elif event.get("event") == "action" and event.get("name") == "action_clarify":
            clarified = True
    return count


def decided_this_turn(tracker: Tracker) -> bool:
    """The policy engine just decided (escalate) and the buyer has not spoken since."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == "action_decide_case":
            return True
    return False


def handoff_reason(tracker: Tracker) -> Text:
    if decided_this_turn(tracker):
        return "policy_escalation"
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    mood = assess_mood(tracker.latest_message.get("text") or "").mood
    if mood is not Mood.CALM:
        return f"buyer_{mood.value}"
    if intent == "request_human" or asks_for_a_person(tracker.latest_message.get("text") or ""):
        return "buyer_request"
    if tracker.get_slot("awaiting_reply") in DECISION_REPLIES and tracker.get_slot("last_decision"):
        return "buyer_rejected_decision"  # after_decision_policy read the message as an objection
    if intent == "nlu_fallback" or misunderstandings_in_a_row(tracker) >= FALLBACKS_BEFORE_HANDOFF:
        return "not_understood"
    return "other"


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        reason = handoff_reason(tracker)
        if reason == "buyer_rejected_decision":
            dispatcher.utter_message(response="utter_decision_rejected_by_buyer")
        if reason in UPSET_REASONS:
            dispatcher.utter_message(response="utter_sorry_for_the_trouble")
        with runtime.database() as session:
            if tracker.get_slot("awaiting_reply") in DECISION_REPLIES:
                # the agent sees the decision, the rule and what the buyer said against it
                cases.record_objection(session, tracker.sender_id, tracker.latest_message.get("text") or "")
            queued = cases.request_handoff(
                session,
                conversation_id=tracker.sender_id,
                ticket_number=tracker.get_slot("case_ticket_number"),
                reason=reason,
                channel=conversation_channel(tracker),
                policy=runtime.policy(),
                at_least="high" if reason in UPSET_REASONS else "normal",
            )
        if queued.already_waiting:
            dispatcher.utter_message(response="utter_handoff_already")
        elif queued.unavailable is not None:
            # nobody can answer now: no wait is quoted; what the buyer writes next becomes a ticket
            response = UNAVAILABLE_RESPONSES[queued.unavailable]
            if conversation_channel(tracker) in CHANNELS_WITHOUT_PUSH:
                response += NO_PUSH_SUFFIX
            dispatcher.utter_message(response=response, office_hours=queued.office_hours)
        else:
            dispatcher.utter_message(response="utter_handoff", wait_minutes=queued.wait_minutes)
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            SlotSet("awaiting_reply", None),
            SlotSet("pending_task", None),
            SlotSet("last_decision", None),
            ConversationPaused(),
        ]


class ActionClarify(Action):
    def name(self) -> Text:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if misunderstandings_in_a_row(tracker) >= FALLBACKS_BEFORE_HANDOFF:
            return [FollowupAction("action_handoff")]
        if tracker.active_loop.get("name") and tracker.get_slot("requested_slot"):
            # inside a form: say so; the form itself asks its open question again right after
            dispatcher.utter_message(response="utter_clarify_in_form")
            return []
        dispatcher.utter_message(response="utter_clarify")
        return []
