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
from bot.services import cases

FALLBACKS_BEFORE_HANDOFF = 2


def latest_user_intents(tracker: Tracker, count: int) -> List[Text]:
    intents = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            intents.append(((event.get("parse_data") or {}).get("intent") or {}).get("name"))
            if len(intents) == count:
                break
    return intents


def previous_action(tracker: Tracker) -> Text:
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") not in ("action_listen", "action_handoff"):
            return event.get("name")
    return ""


def handoff_reason(tracker: Tracker) -> Text:
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if previous_action(tracker) == "action_decide_case":
        return "policy_escalation"
    if intent == "request_human":
        return "buyer_request"
    if intent == "deny" and tracker.get_slot("awaiting_reply") == "remedy_choice":
        return "buyer_rejected_decision"
    if intent == "nlu_fallback":
        return "not_understood"
    return "other"


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        reason = handoff_reason(tracker)
        if reason == "buyer_rejected_decision":
            dispatcher.utter_message(response="utter_decision_rejected_by_buyer")
        with runtime.database() as session:
            queued = cases.request_handoff(
                session,
                conversation_id=tracker.sender_id,
                ticket_number=tracker.get_slot("case_ticket_number"),
                reason=reason,
                channel=conversation_channel(tracker),
                policy=runtime.policy(),
            )
        if queued.already_waiting:
            dispatcher.utter_message(response="utter_handoff_already")
        else:
            dispatcher.utter_message(response="utter_handoff", wait_minutes=queued.wait_minutes)
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            SlotSet("awaiting_reply", None),
            SlotSet("pending_task", None),
            ConversationPaused(),
        ]


class ActionClarify(Action):
    def name(self) -> Text:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        recent = latest_user_intents(tracker, FALLBACKS_BEFORE_HANDOFF)
        if len(recent) == FALLBACKS_BEFORE_HANDOFF and all(intent == "nlu_fallback" for intent in recent):
            return [FollowupAction("action_handoff")]
        dispatcher.utter_message(response="utter_clarify")
        return []
