"""Starting, continuing and cancelling what the buyer came for.

A task is one of: a case (complaint or request that ends in a ticket), where-is-my-parcel,
an address change, or a ticket status question. Every task that shows order details first
runs verify_order_form; action_continue_task then does the task itself. Which step follows
which is written in data/stories/rules.yml, keyed on the `pending_task` slot.
"""

from __future__ import annotations

import re
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.labels import label
from bot.domain.vocabulary import SUB_ISSUE_CATEGORY, SubIssue
from bot.nlu.normalization import normalize_width
from bot.nlu.reaction import says_order_was_wrong
from bot.services import cases
from actions.case import conversation_channel

TASK_OF_INTENT = {
    "complain_quality": "case",
    "complain_logistics": "case",
    "complain_service": "case",
    "request_return": "case",
    "request_exchange": "case",
    "request_repair": "case",
    "ask_order_status": "order_status",
    "change_address": "change_address",
    "ask_ticket_status": "ticket_status",
}

CATEGORY_OF_INTENT = {
    "complain_quality": "quality",
    "complain_logistics": "logistics",
    "complain_service": "service",
    "request_return": "no_reason",
    "request_repair": "quality",
}
# An `inform` that carries an order number often hides the buyer's real aim in second place.
RUNNER_UP_MIN_CONFIDENCE = 0.15

CASE_SLOTS = (
    "sub_issue",
    "item_condition",
    "evidence",
    "description",
    "offered_remedies",
    "awaiting_reply",
    "case_ticket_number",
    "product",
    "last_decision",
    "complaint_category",
)


def slots_from_latest_message(tracker: Tracker) -> set:
    """Slots the current message itself filled (they survive the reset of a new case)."""
    filled = set()
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "slot":
            filled.add(event.get("name"))
    return filled


def reset_case_slots(tracker: Tracker) -> List[EventType]:
    keep = slots_from_latest_message(tracker)
    return [SlotSet(name, None) for name in CASE_SLOTS if name not in keep and tracker.get_slot(name) is not None]


VERIFICATION_INITIAL = {
    "order_number": None,
    "order_verified": False,
    "verified_order_number": None,
    "phone_last4": None,
    "item_sku": None,
    "verification_attempts": 0,
    "verification_failed": None,
}


def verification_reset(tracker: Optional[Tracker] = None) -> List[EventType]:
    """Events that start the order check afresh (only for slots not already at their start)."""
    return [
        SlotSet(name, value)
        for name, value in VERIFICATION_INITIAL.items()
        if tracker is None or (tracker.get_slot(name) or None) != (value or None)
    ]


def task_intent(tracker: Tracker) -> Text:
    """The intent that says what the buyer came for, also when the message was an `inform`."""
    message = tracker.latest_message
    intent = (message.get("intent") or {}).get("name")
    names_a_ticket = any(entity.get("entity") == "ticket_number" for entity in message.get("entities") or [])
    if names_a_ticket and intent != "complain_service":
        # "售后单AS…补发了没": about that ticket, whatever else it reads like; a complaint about how
        # the ticket is handled is a service case of its own
        return "ask_ticket_status"
    if intent in TASK_OF_INTENT:
        return intent
    for ranked in (message.get("intent_ranking") or [])[1:3]:
        if ranked.get("name") in TASK_OF_INTENT and ranked.get("confidence", 0) >= RUNNER_UP_MIN_CONFIDENCE:
            return ranked["name"]
    if tracker.get_slot("ticket_number") and not tracker.get_slot("sub_issue"):
        return "ask_ticket_status"
    return intent_of_sub_issue(tracker.get_slot("sub_issue"))


def intent_of_sub_issue(sub_issue: Optional[Text]) -> Text:
    """`inform` when nothing says what the problem is: the case form then asks for it."""
    try:
        category = SUB_ISSUE_CATEGORY[SubIssue(sub_issue)].value
    except ValueError:
        return "inform"
    return {"no_reason": "request_return"}.get(category, f"complain_{category}")


def start_task(tracker: Tracker, intent: Text) -> List[EventType]:
    """The events that start the task `intent` asks for; the rules then run verify_order_form."""
    task = TASK_OF_INTENT.get(intent, "case")
    events: List[EventType] = [SlotSet("pending_task", task)]
    if task == "case":
        events += reset_case_slots(tracker)
        if intent in CATEGORY_OF_INTENT:
            events.append(SlotSet("complaint_category", CATEGORY_OF_INTENT[intent]))
    if follows_an_answer_about_the_order(tracker):
        return events
    # every task names its order again (one tap for an order verified earlier in this chat),
    # so a buyer who moves on to another order is never answered about the previous one
    keep = slots_from_latest_message(tracker)
    return events + [event for event in verification_reset(tracker) if event["name"] not in keep]


INFORMATION_TASKS = ("order_status", "ticket_status")


def follows_an_answer_about_the_order(tracker: Tracker) -> bool:
    """ "门卫说压根没见过" right after the tracking of the order, "那我重新说：屏幕一直闪" right after
    "这个订单目前没有售后工单": the message answers what was just shown about the verified order,
    so it is about that order, unless it names another one (a number, "另一单", or a product the
    order does not hold)."""
    order = tracker.get_slot("verified_order_number")
    if (
        tracker.get_slot("last_task") not in INFORMATION_TASKS
        or not tracker.get_slot("order_verified")
        or not order
        or order != tracker.get_slot("order_number")
        or not answered_just_before(tracker)
    ):
        return False
    message = tracker.latest_message
    entities = message.get("entities") or []
    if any(entity.get("entity") == "order_number" and entity.get("value") != order for entity in entities):
        return False
    if says_order_was_wrong(message.get("text") or ""):
        return False
    named = {entity.get("value") for entity in entities if entity.get("entity") == "product"}
    if not named:
        return True
    with runtime.database() as session:
        held = cases.products_in_order(session, order)
    return named <= held


def answered_just_before(tracker: Tracker) -> bool:
    """The assistant's last turn, right before this message, was the answer of a task."""
    seen_this_message = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_this_message:
                return False
            seen_this_message = True
        elif seen_this_message and event.get("event") == "action" and event.get("name") == "action_continue_task":
            return True
    return False


class ActionStartTask(Action):
    """Notes the task; the rules then run verify_order_form (which asks nothing it already has)."""

    def name(self) -> Text:
        return "action_start_task"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if corrects_the_order_number(tracker):
            return self.rerun_on_the_corrected_order(tracker)
        return start_task(tracker, task_intent(tracker))

    @staticmethod
    def rerun_on_the_corrected_order(tracker: Tracker) -> List[EventType]:
        """ "订单号发错了，应该是 …": the same task and the same facts, on the order now named. A
        ticket just opened on the wrong order is withdrawn, so nobody works it."""
        decided = tracker.get_slot("last_decision") or {}
        if decided.get("ticket"):
            with runtime.database() as session:
                cases.withdraw_ticket(session, decided["ticket"], "买家更正了订单号，此工单作废")
        keep = slots_from_latest_message(tracker)
        return [
            SlotSet("pending_task", tracker.get_slot("last_task") or "case"),
            SlotSet("last_decision", None),
            SlotSet("awaiting_reply", None),
            SlotSet("case_ticket_number", None),
            SlotSet("offered_remedies", None),
            *[event for event in verification_reset(tracker) if event["name"] not in keep],
        ]


def corrects_the_order_number(tracker: Tracker) -> bool:
    """The buyer names another order and says the earlier number was wrong (or was asked whether it was)."""
    message = tracker.latest_message
    numbers = [e.get("value") for e in message.get("entities") or [] if e.get("entity") == "order_number"]
    earlier = tracker.get_slot("verified_order_number") or tracker.get_slot("order_number")
    if not numbers or not earlier or all(number == earlier for number in numbers) or not tracker.get_slot("last_task"):
        return False
    asked = bool((tracker.get_slot("last_decision") or {}).get("expects_order_correction"))
    return asked or says_order_was_wrong(message.get("text") or "")


class ActionContinueTask(Action):
    def name(self) -> Text:
        return "action_continue_task"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.get_slot("verification_failed"):
            dispatcher.utter_message(response="utter_verification_failed")
            return [SlotSet("pending_task", None), *verification_reset()]
        task = tracker.get_slot("pending_task")
        if task == "case":
            return [SlotSet("last_task", "case")]  # the rules go on with case_form
        if task == "order_status":
            return [SlotSet("last_task", task), *self.show_tracking(dispatcher, tracker)]
        if task == "change_address":
            return [
                SlotSet("pending_task", "case"),
                SlotSet("sub_issue", "address_change"),
                SlotSet("complaint_category", "logistics"),
                SlotSet("last_task", "case"),
            ]
        if task == "ticket_status":
            return [SlotSet("last_task", task), *self.show_ticket_status(dispatcher, tracker, domain)]
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("pending_task", None)]

    def show_tracking(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        order_number = tracker.get_slot("order_number")
        if self.answer_closed_order(dispatcher, tracker):
            return [SlotSet("pending_task", None)]
        with runtime.database() as session:
            tracking = cases.tracking_report(session, order_number)
        if not tracking.lines:
            dispatcher.utter_message(response="utter_tracking_none", order_number_masked=tracking.masked_number)
        else:
            dispatcher.utter_message(
                response="utter_tracking_status",
                order_number_masked=tracking.masked_number,
                carrier=tracking.carrier or "",
                tracking_number=tracking.tracking_number or "",
                tracking_lines="\n".join(tracking.lines),
            )
        if tracking.follow_up_sub_issue:
            # not delivered yet: the logistics rules (L1 in time, L2 late, L3 lost, L7 not shipped) follow
            return [
                SlotSet("pending_task", "case"),
                SlotSet("complaint_category", "logistics"),
                SlotSet("sub_issue", tracking.follow_up_sub_issue),
            ]
        return [SlotSet("pending_task", None)]

    @staticmethod
    def answer_closed_order(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
        """A refunded or cancelled order: its state is the answer (X1), not old tracking lines."""
        with runtime.database() as session:
            decision = cases.closed_order_answer(
                session,
                order_number=tracker.get_slot("order_number"),
                conversation_id=tracker.sender_id,
                channel=conversation_channel(tracker),
                today=runtime.today(),
                now=runtime.now(),
                policy=runtime.policy(),
            )
        if decision is None:
            return False
        dispatcher.utter_message(response="utter_decision", explanation=decision.explanation)
        dispatcher.utter_message(response="utter_refund_timing", **cases.policy_answer_values(runtime.policy()))
        return True

    def show_ticket_status(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        ticket_number = tracker.get_slot("ticket_number")
        order_number = tracker.get_slot("order_number")
        with runtime.database() as session:
            if ticket_number:
                reports = [
                    cases.owned_ticket_report(
                        session, ticket_number, tracker.get_slot("verified_orders") or [], tracker.sender_id
                    )
                ]
            else:
                reports = cases.ticket_reports_for_order(session, order_number)
        if not ticket_number and not reports and self.answer_closed_order(dispatcher, tracker):
            return [SlotSet("pending_task", None)]
        if ticket_number and reports[0] is None:
            dispatcher.utter_message(response="utter_ticket_not_found", ticket_number=ticket_number)
            return [SlotSet("ticket_number", None), SlotSet("pending_task", None)]
        if not reports:
            # asked again after being told: a person can look further (another channel, a typo)
            asked_before = any(
                event.get("event") == "bot"
                and (event.get("metadata") or {}).get("utter_action") == "utter_no_tickets_for_order"
                for event in tracker.events
            )
            dispatcher.utter_message(
                response="utter_no_tickets_offer_person" if asked_before else "utter_no_tickets_for_order"
            )
        for report in reports:
            dispatcher.utter_message(
                response=f"utter_ticket_status_{report.status}",
                ticket_number=report.ticket_number,
                remedy_label=label(domain, "remedy", report.chosen_remedy or "none"),
                resolution_due=runtime.format_moment(report.resolution_due),
            )
        return [SlotSet("pending_task", None)]


def answers_the_open_question(tracker: Tracker) -> bool:
    """The message carries what the form asked for (a number after "不对不对")."""
    requested = tracker.get_slot("requested_slot")
    if requested in ("order_number", "phone_last4"):
        text = normalize_width(str(tracker.latest_message.get("text") or "")).text
        return bool(re.search(r"\d{4}", text))
    return any(entity.get("entity") == requested for entity in tracker.latest_message.get("entities") or [])


class ActionCancelTask(Action):
    def name(self) -> Text:
        return "action_cancel_task"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        form = tracker.active_loop.get("name")
        if form and answers_the_open_question(tracker):
            return [FollowupAction(form)]  # "不对，是7740": a correction, not a cancel
        dispatcher.utter_message(response="utter_cancelled")
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            SlotSet("pending_task", None),
            *[SlotSet(name, None) for name in CASE_SLOTS],
        ]
