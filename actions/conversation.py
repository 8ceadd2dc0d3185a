"""Policy questions, goodbyes and the satisfaction score."""

from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.tasks import intent_of_sub_issue, start_task
from bot.nlu.answers import problem_beside_a_question, score_in_text
from bot.services import cases


def policy_topic(tracker: Tracker) -> Text:
    selector = (tracker.latest_message.get("response_selector") or {}).get("ask_policy") or {}
    key = (selector.get("response") or {}).get("intent_response_key") or ""
    return key.split("/", 1)[1] if "/" in key else ""


WHERE_TO_COMPLAIN_TOPIC = "complaint_channel"  # the answer states rule S3


def answer_policy_topic(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> bool:
    """Answers the policy question of the latest message; False when it has no known topic."""
    response = f"utter_ask_policy/{policy_topic(tracker)}"
    if not policy_topic(tracker) or response not in (domain.get("responses") or {}):
        return False
    dispatcher.utter_message(response=response, **cases.policy_answer_values(runtime.policy()))
    return True


class ActionAnswerPolicyQuestion(Action):
    def name(self) -> Text:
        return "action_answer_policy_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        topic = policy_topic(tracker)
        if not answer_policy_topic(dispatcher, tracker, domain):
            dispatcher.utter_message(response="utter_clarify")
            return []
        if topic == WHERE_TO_COMPLAIN_TOPIC:
            with runtime.database() as session:
                cases.record_where_to_complain(
                    session,
                    conversation_id=tracker.sender_id,
                    order_number=tracker.get_slot("verified_order_number"),
                )
        problem = problem_beside_a_question(
            tracker.latest_message.get("text") or "", tracker.latest_message.get("entities") or []
        )
        if problem and not tracker.active_loop_name:
            # the question is answered; the problem told with it is taken up as its own case
            return [
                *start_task(tracker, intent_of_sub_issue(problem)),
                SlotSet("sub_issue", problem),
                FollowupAction("verify_order_form"),
            ]
        return []


class ActionSayGoodbye(Action):
    def name(self) -> Text:
        return "action_say_goodbye"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        ticket_number = tracker.get_slot("case_ticket_number")
        with runtime.database() as session:
            ask = cases.rating_due(
                session, ticket_number, already_asked=tracker.get_slot("awaiting_reply") == "satisfaction"
            )
        if ask:
            dispatcher.utter_message(response="utter_ask_satisfaction")
            return [SlotSet("awaiting_reply", "satisfaction")]
        dispatcher.utter_message(response="utter_goodbye")
        return [SlotSet("awaiting_reply", None)]


class ActionRecordSatisfaction(Action):
    def name(self) -> Text:
        return "action_record_satisfaction"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        score = tracker.get_slot("satisfaction_score") or score_in_text(tracker.latest_message.get("text") or "")
        if score is None or not str(score).isdigit() or not 1 <= int(score) <= 5:
            dispatcher.utter_message(response="utter_ask_satisfaction")
            return [SlotSet("awaiting_reply", "satisfaction"), SlotSet("satisfaction_score", None)]
        with runtime.database() as session:
            cases.record_buyer_satisfaction(
                session, tracker.get_slot("case_ticket_number"), int(score), conversation_id=tracker.sender_id
            )
        dispatcher.utter_message(response="utter_thanks_for_score")
        dispatcher.utter_message(response="utter_goodbye")
        return [SlotSet("awaiting_reply", None), SlotSet("satisfaction_score", None)]
