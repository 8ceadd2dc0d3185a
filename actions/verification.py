"""Identifying the buyer's order: order number, then the last 4 digits of the phone.

Nothing about the order is shown before both match. A buyer whom the shop's website vouched
for (a signed identity: the `customer_id` slot) skips the phone question for their own
orders and picks one with buttons. Several items in the order → the buyer picks one.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.forms_base import RetryingFormValidationAction
from bot.config import get_settings
from bot.nlu.normalization import normalize_width
from bot.services import cases, verification_guard

DIGITS = re.compile(r"\d+")
LONE_FOUR_DIGITS = re.compile(r"(?<!\d)\d{4}(?!\d)")


def normalise_digits(value: Any) -> str:
    text = normalize_width(str(value or "")).text
    return "".join(DIGITS.findall(text))


def verified_orders(tracker: Tracker) -> List[Text]:
    """Orders this buyer already proved in this chat: asking about them again needs no phone."""
    return list(tracker.get_slot("verified_orders") or [])


def verified_order_slots(
    dispatcher: CollectingDispatcher, tracker: Tracker, order_number: Text, summary: cases.OrderSummary
) -> Dict[Text, Any]:
    dispatcher.utter_message(
        response="utter_order_verified",
        order_number_masked=summary.masked_number,
        item_name=summary.items_text,
    )
    known = verified_orders(tracker)
    slots: Dict[Text, Any] = {
        "order_verified": True,
        "verified_order_number": order_number,
        "verified_orders": known if order_number in known else known + [order_number],
    }
    if len(summary.items) == 1:
        slots["item_sku"] = summary.items[0].sku
    return slots


def order_needs_item_choice(tracker: Tracker) -> bool:
    return tracker.get_slot("pending_task") == "case"


class ValidateVerifyOrderForm(RetryingFormValidationAction):
    failure_count_slot = "verification_attempts"
    gave_up_slot = "verification_failed"
    reset_failures_on_success = False

    def name(self) -> Text:
        return "validate_verify_order_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        if tracker.get_slot("verification_failed"):
            return []
        if tracker.get_slot("pending_task") == "ticket_status":
            with runtime.database() as session:
                if cases.opened_in_conversation(session, tracker.get_slot("ticket_number"), tracker.sender_id):
                    return []
        slots = list(domain_slots)
        order_number = tracker.get_slot("order_number")
        if tracker.get_slot("order_verified") and order_number == tracker.get_slot("verified_order_number"):
            slots = [slot for slot in slots if slot != "phone_last4"]  # e.g. vouched for by the shop
        if tracker.get_slot("order_verified") and order_number and order_needs_item_choice(tracker):
            with runtime.database() as session:
                if len(cases.order_items(session, order_number)) > 1:
                    slots.append("item_sku")
        return slots

    async def extract_phone_last4(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Asked for the phone digits, "不对不对，手滑了，是7740" holds them: one lone group of four
        digits is the answer (outside this question such a number may be a price or a date)."""
        if tracker.get_slot("requested_slot") != "phone_last4":
            return {}
        if any(entity.get("entity") == "phone_last4" for entity in tracker.latest_message.get("entities") or []):
            return {}
        text = normalize_width(str(tracker.latest_message.get("text") or "")).text
        groups = LONE_FOUR_DIGITS.findall(text)
        return {"phone_last4": groups[0]} if len(groups) == 1 else {}

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        number = normalise_digits(value)
        if tracker.get_slot("order_verified") and number == tracker.get_slot("verified_order_number"):
            return {"order_number": number}  # the order a follow-up keeps: verified and announced already
        if not re.fullmatch(get_settings().order_number_pattern, number):
            dispatcher.utter_message(response="utter_order_number_invalid")
            return {"order_number": None}
        with runtime.database() as session:
            exists = cases.order_exists(session, number)
        if not exists:
            dispatcher.utter_message(response="utter_order_not_found", order_number=number)
            return {"order_number": None}
        phone_given_first = tracker.get_slot("phone_last4")
        with runtime.database() as session:
            known = number in verified_orders(tracker) or cases.belongs_to_customer(
                session, number, tracker.get_slot("customer_id")
            )
            if not known and phone_given_first:
                known = cases.verify_owner(session, number, phone_given_first)
            summary = cases.order_summary(session, number) if known else None
        if summary is not None:
            return {"order_number": number, **verified_order_slots(dispatcher, tracker, number, summary)}
        # digits given before the number were never checked against this order: ask again
        return {"order_number": number, "order_verified": False, "item_sku": None, "phone_last4": None}

    def validate_phone_last4(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        digits = normalise_digits(value)[-4:]
        if len(digits) != 4:
            dispatcher.utter_message(response="utter_ask_phone_last4")
            return {"phone_last4": None}
        order_number = tracker.get_slot("order_number")
        if not order_number:
            return {"phone_last4": digits}
        if tracker.get_slot("order_verified") and tracker.get_slot("verified_order_number") == order_number:
            return {"phone_last4": digits}  # checked together with the number, already confirmed
        with runtime.database() as session:
            check = verification_guard.check_owner(session, order_number, digits, conversation_id=tracker.sender_id)
            verified = check.verified
            summary = cases.order_summary(session, order_number) if verified else None
        if check.locked:  # too many wrong digits for this order, in any conversation: a person takes over
            return {"phone_last4": None, "verification_failed": True, "requested_slot": None}
        if not verified:
            dispatcher.utter_message(response="utter_phone_mismatch")
            return {"phone_last4": None}
        return {"phone_last4": digits, **verified_order_slots(dispatcher, tracker, order_number, summary)}

    def validate_item_sku(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        with runtime.database() as session:
            skus = [item.sku for item in cases.order_items(session, tracker.get_slot("order_number"))]
        return {"item_sku": value if value in skus else None}


class ActionAskOrderNumber(Action):
    """Orders verified earlier in this chat, or the own orders of a buyer the shop identified,
    are offered as buttons; the buyer may always type another number."""

    def name(self) -> Text:
        return "action_ask_order_number"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        customer_id = tracker.get_slot("customer_id")
        with runtime.database() as session:
            choices = [(number, cases.order_summary(session, number).items_text) for number in verified_orders(tracker)]
            if customer_id:
                choices += [
                    choice for choice in cases.customer_orders(session, customer_id) if choice[0] not in dict(choices)
                ]
        if not choices:
            dispatcher.utter_message(response="utter_ask_order_number")
            return []
        buttons = [
            {"title": f"{cases.mask_order_number(number)} {items}", "payload": f'/inform{{"order_number":"{number}"}}'}
            for number, items in choices
        ]
        dispatcher.utter_message(response="utter_ask_which_order", buttons=buttons)
        return []


class ActionAskItemSku(Action):
    def name(self) -> Text:
        return "action_ask_item_sku"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        with runtime.database() as session:
            items = cases.order_items(session, tracker.get_slot("order_number"))
        buttons = [{"title": item.name, "payload": f'/inform{{"item_sku":"{item.sku}"}}'} for item in items]
        dispatcher.utter_message(response="utter_ask_item_sku", buttons=buttons)
        return []
