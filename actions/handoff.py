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
from actions.verification import ActionAskItemSku, ActionAskOrderNumber
from bot.nlu.upset import Mood, assess_mood
from bot.services import cases

FALLBACKS_BEFORE_HANDOFF = 2
UPSET_REASONS = {"buyer_upset", "buyer_abusive"}
QUESTION_ACTIONS = {"item_sku": ActionAskItemSku, "order_number": ActionAskOrderNumber}


def latest_user_intents(tracker: Tracker, count: int) -> List[Text]:
    intents = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            intents.append(((event.get("parse_data") or {}).get("intent") or {}).get("name"))
            if len(intents) == count:
                break
    return intents


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
    if intent == "deny" and tracker.get_slot("awaiting_reply") == "remedy_choice":
        return "buyer_rejected_decision"
    mood = assess_mood(tracker.latest_message.get("text") or "").mood
    if mood is not Mood.CALM:
        return f"buyer_{mood.value}"
    if intent == "request_human":
        return "buyer_request"
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
        if reason in UPSET_REASONS:
            dispatcher.utter_message(response="utter_sorry_for_the_trouble")
        with runtime.database() as session:
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
        requested = tracker.get_slot("requested_slot")
        if tracker.active_loop.get("name") and requested:
            # inside a form: say so and repeat the open question, the form goes on with the next answer
            dispatcher.utter_message(response="utter_clarify_in_form")
            if requested in QUESTION_ACTIONS:  # questions with buttons built from the database
                return await QUESTION_ACTIONS[requested]().run(dispatcher, tracker, domain)
            question = f"utter_ask_{requested}"
            if question in (domain.get("responses") or {}):
                dispatcher.utter_message(response=question)
            return []
        dispatcher.utter_message(response="utter_clarify")
        return []
