"""Identifying the buyer's order: order number, then the last 4 digits of the phone.

Nothing about the order is shown before both match. Several items in the order → the buyer
picks one with buttons.
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
from bot.services import cases

DIGITS = re.compile(r"\d+")


def normalise_digits(value: Any) -> str:
    text = str(value or "").translate(cases.FULL_WIDTH_DIGITS)
    return "".join(DIGITS.findall(text))


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
        slots = list(domain_slots)
        order_number = tracker.get_slot("order_number")
        if tracker.get_slot("order_verified") and order_number and order_needs_item_choice(tracker):
            with runtime.database() as session:
                if len(cases.order_items(session, order_number)) > 1:
                    slots.append("item_sku")
        return slots

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        number = normalise_digits(value)
        if not re.fullmatch(get_settings().order_number_pattern, number):
            dispatcher.utter_message(response="utter_order_number_invalid")
            return {"order_number": None}
        with runtime.database() as session:
            exists = cases.order_exists(session, number)
        if not exists:
            dispatcher.utter_message(response="utter_order_not_found", order_number=number)
            return {"order_number": None}
        if number != tracker.get_slot("verified_order_number"):
            return {"order_number": number, "order_verified": False, "item_sku": None}
        return {"order_number": number}

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
        with runtime.database() as session:
            verified = cases.verify_owner(session, order_number, digits)
            summary = cases.order_summary(session, order_number) if verified else None
        if not verified:
            dispatcher.utter_message(response="utter_phone_mismatch")
            return {"phone_last4": None}
        dispatcher.utter_message(
            response="utter_order_verified",
            order_number_masked=summary.masked_number,
            item_name=summary.items_text,
        )
        slots: Dict[Text, Any] = {
            "phone_last4": digits,
            "order_verified": True,
            "verified_order_number": order_number,
        }
        if len(summary.items) == 1:
            slots["item_sku"] = summary.items[0].sku
        return slots

    def validate_item_sku(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        with runtime.database() as session:
            skus = [item.sku for item in cases.order_items(session, tracker.get_slot("order_number"))]
        return {"item_sku": value if value in skus else None}


class ActionAskItemSku(Action):
    def name(self) -> Text:
        return "action_ask_item_sku"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        with runtime.database() as session:
            items = cases.order_items(session, tracker.get_slot("order_number"))
        buttons = [
            {"title": item.name, "payload": f'/inform{{"item_sku":"{item.sku}"}}'} for item in items
        ]
        dispatcher.utter_message(response="utter_ask_item_sku", buttons=buttons)
        return []
