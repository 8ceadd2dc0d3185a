"""A case: the facts the policy needs, the decision, the ticket and the chosen remedy."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.evidence import DECLINED, attachments_of, buyer_declines_evidence, latest_input_channel
from actions.labels import label
from bot.domain.vocabulary import SUB_ISSUE_CATEGORY, Remedy, SubIssue
from bot.services import cases

KNOWN_SUB_ISSUES = {sub_issue.value for sub_issue in SubIssue}
SELECTABLE_REMEDIES = {
    Remedy.RETURN_REFUND.value,
    Remedy.EXCHANGE.value,
    Remedy.REPAIR.value,
    Remedy.PAID_REPAIR.value,
    Remedy.RESHIP.value,
    Remedy.REFUND_ONLY.value,
}


def case_facts(tracker: Tracker) -> cases.CaseFacts:
    evidence = tracker.get_slot("evidence")
    condition = tracker.get_slot("item_condition")
    return cases.CaseFacts(
        category=tracker.get_slot("complaint_category"),
        sub_issue=tracker.get_slot("sub_issue"),
        evidence=evidence if isinstance(evidence, list) else [],
        item_unused=None if condition is None else condition == "unused",
        description=tracker.get_slot("description"),
        requested_remedy=tracker.get_slot("requested_remedy"),
    )


def buyer_text(tracker: Tracker) -> Text:
    """What the buyer typed this turn; button payloads ("/inform{...}") are not text."""
    text = (tracker.latest_message.get("text") or "").strip()
    return "" if text.startswith("/") else text


def conversation_channel(tracker: Tracker) -> Text:
    return latest_input_channel(tracker) or "rest"


class ValidateCaseForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_case_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        facts = case_facts(tracker)
        if facts.sub_issue not in KNOWN_SUB_ISSUES:  # unset, or a typed payload validate_sub_issue refuses
            return ["sub_issue"]
        with runtime.database() as session:
            missing = cases.missing_facts(
                session, tracker.get_slot("order_number"), tracker.get_slot("item_sku"), facts,
                conversation_id=tracker.sender_id, today=runtime.today(), policy=runtime.policy(),
            )
        slots = ["sub_issue"]
        if "item_unused" in missing:
            slots.append("item_condition")
        if "evidence" in missing:  # "declined" fills it too: rasa_sdk validates only listed slots
            slots.append("evidence")
        return slots

    def validate_sub_issue(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        try:
            sub_issue = SubIssue(value)
        except ValueError:
            return {"sub_issue": None}
        slots: Dict[Text, Any] = {"sub_issue": sub_issue.value}
        implied = SUB_ISSUE_CATEGORY[sub_issue].value
        current = tracker.get_slot("complaint_category")
        if current is None or current == "no_reason" or implied != "no_reason":
            slots["complaint_category"] = implied
        return slots

    async def extract_sub_issue(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A quality problem the lexicon has no word for ("屏幕中间一条绿线") is still a fault."""
        if tracker.get_slot("requested_slot") != "sub_issue" or tracker.get_slot("sub_issue"):
            return {}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = buyer_text(tracker)
        if tracker.get_slot("complaint_category") == "quality" and intent in ("complain_quality", "inform") and len(text) >= 4:
            return {"sub_issue": SubIssue.DEFECT.value, "description": text}
        return {}

    async def extract_evidence(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if attachments_of(tracker):
            return {}
        asked = tracker.get_slot("requested_slot") == "evidence"
        if buyer_declines_evidence(tracker, asked=asked):
            text = buyer_text(tracker)
            return {"evidence": DECLINED, **({"description": text} if len(text) > 6 else {})}
        text = buyer_text(tracker)
        if asked and text:
            dispatcher.utter_message(response="utter_description_noted")
            earlier = tracker.get_slot("description")
            return {"description": f"{earlier}\n{text}" if earlier else text}
        return {}

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """rasa_sdk returns only required slots; the buyer's own words (`description`) go too."""
        events = await super().get_validation_events(dispatcher, tracker, domain)
        description = tracker.slots_to_validate().get("description")
        if description and not any(event.get("name") == "description" for event in events):
            events.append(SlotSet("description", description))
        return events

    def validate_evidence(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value == DECLINED or (isinstance(value, list) and value):
            return {"evidence": value}
        return {"evidence": None}


class ActionDecideCase(Action):
    def name(self) -> Text:
        return "action_decide_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        facts = case_facts(tracker)
        with runtime.database() as session:
            outcome = cases.decide_and_open_ticket(
                session,
                order_number=tracker.get_slot("order_number"),
                item_sku=tracker.get_slot("item_sku"),
                facts=facts,
                conversation_id=tracker.sender_id,
                channel=conversation_channel(tracker),
                today=runtime.today(),
                now=runtime.now(),
                policy=runtime.policy(),
            )
        decision = outcome.decision
        dispatcher.utter_message(response="utter_decision", explanation=decision.explanation)
        events: List[EventType] = [SlotSet("pending_task", None)]
        ticket = outcome.ticket
        offered = list(ticket.offered_remedies or []) if ticket is not None else [r.value for r in decision.remedies]
        rejected = Remedy.REJECT.value in offered
        if ticket is not None:
            events.append(SlotSet("case_ticket_number", ticket.ticket_number))
            times = dict(
                ticket_number=ticket.ticket_number,
                first_response_due=runtime.format_moment(ticket.first_response_due),
                resolution_due=runtime.format_moment(ticket.resolution_due),
            )
            if not outcome.created:
                dispatcher.utter_message(response="utter_ticket_reused", ticket_status=label(domain, "status", ticket.status), **times)
            elif rejected:
                dispatcher.utter_message(response="utter_ticket_recorded_rejected", **times)
            elif ticket.status == "awaiting_evidence":
                dispatcher.utter_message(response="utter_ticket_awaiting_evidence", **times)
                events.append(SlotSet("evidence", None))
            else:
                dispatcher.utter_message(response="utter_ticket_opened", **times)
        if decision.escalate:
            return events + [SlotSet("pending_task", "handoff")]  # the rules hand over next
        if ticket is not None and ticket.status == "awaiting_evidence":
            return events  # the remedies are offered once the photos are in
        if rejected:
            dispatcher.utter_message(response="utter_decision_reject_offer_human")
            return events
        if ticket is None or ticket.chosen_remedy:
            return events
        return events + offer_remedies(dispatcher, domain, ticket.ticket_number, offered, ticket.first_response_due)


def offer_remedies(
    dispatcher: CollectingDispatcher, domain: DomainDict, ticket_number: Text, offered: List[Text], first_response_due: Any
) -> List[EventType]:
    """One remedy is recorded at once; several become buttons; an investigation is announced."""
    choices = [remedy for remedy in offered if remedy in SELECTABLE_REMEDIES]
    if len(choices) == 1:
        return record_choice(dispatcher, domain, ticket_number, choices[0])
    if choices:
        buttons = [
            {"title": label(domain, "remedy", remedy), "payload": f'/inform{{"remedy":"{remedy}"}}'}
            for remedy in choices
        ]
        dispatcher.utter_message(response="utter_choose_remedy", buttons=buttons)
        return [SlotSet("offered_remedies", choices), SlotSet("awaiting_reply", "remedy_choice"), SlotSet("requested_remedy", None)]
    if Remedy.INVESTIGATE.value in offered:
        dispatcher.utter_message(response="utter_next_steps_investigate", first_response_due=runtime.format_moment(first_response_due))
    return []


class ActionOfferRemedies(Action):
    """After photos completed a ticket that waited for them: the buyer now picks the remedy."""

    def name(self) -> Text:
        return "action_offer_remedies"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        ticket_number = tracker.get_slot("case_ticket_number")
        with runtime.database() as session:
            ticket = cases.ticket_report(session, ticket_number) if ticket_number else None
        if ticket is None or ticket.chosen_remedy or ticket.status != "open" or Remedy.REJECT.value in ticket.offered_remedies:
            dispatcher.utter_message(response="utter_anything_else")
            return []
        events = offer_remedies(dispatcher, domain, ticket.ticket_number, list(ticket.offered_remedies), ticket.first_response_due)
        if not events:
            dispatcher.utter_message(response="utter_anything_else")
        return events


def record_choice(dispatcher: CollectingDispatcher, domain: DomainDict, ticket_number: Text, remedy: Text) -> List[EventType]:
    with runtime.database() as session:
        steps = cases.choose_remedy(session, ticket_number, remedy, today=runtime.today(), policy=runtime.policy())
    dispatcher.utter_message(
        response=f"utter_next_steps_{remedy}",
        return_deadline=runtime.format_moment(steps.return_deadline),
        return_address=steps.return_address,
        shipping_payer_text=label(domain, "payer", steps.shipping_payer),
        return_processing_hours=steps.return_processing_hours,
        refund_working_days=steps.refund_working_days,
        refund_due=runtime.format_moment(steps.refund_due),
        first_response_due=runtime.format_moment(steps.first_response_due),
    )
    return [SlotSet("awaiting_reply", None), SlotSet("offered_remedies", None)]


class ActionChooseRemedy(Action):
    def name(self) -> Text:
        return "action_choose_remedy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        offered = tracker.get_slot("offered_remedies") or []
        chosen: Optional[Text] = tracker.get_slot("requested_remedy")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if chosen is None and intent == "affirm" and len(offered) >= 1:
            chosen = offered[0]
        if chosen not in offered:
            dispatcher.utter_message(response="utter_remedy_not_offered")
            return [SlotSet("awaiting_reply", "remedy_choice"), SlotSet("requested_remedy", None)]
        return record_choice(dispatcher, domain, tracker.get_slot("case_ticket_number"), chosen)
