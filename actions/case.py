"""A case: the facts the policy needs, the decision, the ticket and the chosen remedy."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.forms_base import RetryingFormValidationAction
from actions.evidence import DECLINED, attachments_of, buyer_declines_evidence, latest_input_channel
from actions.labels import label
from bot.domain.vocabulary import SUB_ISSUE_CATEGORY, ComplaintCategory, Remedy, SubIssue
from bot.nlu.answers import (
    condition_from_short_answer,
    problem_from_answer,
    remedy_choice_in,
    sub_issues_in,
    sub_issues_named_in_words,
)
from bot.nlu.entities import most_telling_sub_issue
from bot.nlu.reaction import address_part, looks_like_address
from bot.services import cases

KNOWN_SUB_ISSUES = {sub_issue.value for sub_issue in SubIssue}
MISSING_FACTS_KEPT = "_aftersales_missing_facts"  # on the run's tracker: (what was asked, the answer)
SELECTABLE_REMEDIES = {
    Remedy.RETURN_REFUND.value,
    Remedy.EXCHANGE.value,
    Remedy.REPAIR.value,
    Remedy.PAID_REPAIR.value,
    Remedy.RESHIP.value,
    Remedy.REFUND_ONLY.value,
}


def sub_issues_mentioned_in_task(tracker: Tracker) -> List[Text]:
    """Every problem the buyer named since the current task started ("屏幕碎了" ... "摔了一下"):
    the policy weighs them all (human damage, counterfeit, safety win over a plain fault)."""
    messages, started = [], False
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == "action_start_task":
            started = True  # the message that started the task still counts
        elif event.get("event") == "user":
            messages.append(event)
            if started:
                break
    mentioned: List[Text] = []
    for event in reversed(messages):
        # the entities keep one problem per message; the words may name more ("第三次了，物流太慢，
        # 处理得也慢": a delay and slow handling)
        named = sub_issues_in((event.get("parse_data") or {}).get("entities") or [])
        named += sub_issues_named_in_words(event.get("text") or "")
        mentioned += [value for value in named if value not in mentioned]
    return [value for value in mentioned if value in KNOWN_SUB_ISSUES]


def case_facts(tracker: Tracker) -> cases.CaseFacts:
    evidence = tracker.get_slot("evidence")
    condition = tracker.get_slot("item_condition")
    mentioned = sub_issues_mentioned_in_task(tracker)
    if tracker.get_slot("parcel_delivered"):
        # "物流也太慢了" of a parcel that came: asked again, the buyer said what is wrong with the item
        mentioned = [value for value in mentioned if value not in cases.NOT_ARRIVED_YET]
    sub_issue = tracker.get_slot("sub_issue")
    if sub_issue in KNOWN_SUB_ISSUES:
        # "箱子压扁了" in the opening, "机身裂了" as the answer: the most telling problem is the case
        sub_issue = most_telling_sub_issue([sub_issue, *mentioned])
    return cases.CaseFacts(
        category=tracker.get_slot("complaint_category"),
        sub_issue=sub_issue,
        evidence=evidence if isinstance(evidence, list) else [],
        item_unused=None if condition is None else condition == "unused",
        description=tracker.get_slot("description"),
        requested_remedy=tracker.get_slot("requested_remedy"),
        also_mentioned=tuple(mentioned),
    )


def buyer_text(tracker: Tracker) -> Text:
    """What the buyer typed this turn; button payloads ("/inform{...}") are not text."""
    text = (tracker.latest_message.get("text") or "").strip()
    return "" if text.startswith("/") else text


# answers that end by inviting the buyer to say what is wrong: the next message is that answer
INVITATIONS_TO_TELL = ("utter_no_tickets_for_order", "utter_no_tickets_offer_person")


def answers_an_invitation_to_tell(tracker: Tracker) -> bool:
    """ "这个订单目前没有售后工单…直接告诉我遇到了什么情况" and the buyer tells it: the message is read
    as the answer to the problem question (it is not asked again)."""
    seen_this_message = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_this_message:
                return False
            seen_this_message = True
        elif seen_this_message and event.get("event") == "bot":
            return (event.get("metadata") or {}).get("utter_action") in INVITATIONS_TO_TELL
    return False


def conversation_channel(tracker: Tracker) -> Text:
    return latest_input_channel(tracker) or "rest"


class ValidateCaseForm(RetryingFormValidationAction):
    """Asks only what the policy still needs. Misunderstood answers are counted by
    action_clarify (two in a row go to a person), not here: an unmapped answer is no slot value."""

    bookkeeping_slots = ("description", "parcel_delivered")

    def name(self) -> Text:
        return "validate_case_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        facts = case_facts(tracker)
        if facts.sub_issue not in KNOWN_SUB_ISSUES:  # unset, or a typed payload validate_sub_issue refuses
            return ["sub_issue"]
        asked = (tracker.get_slot("order_number"), tracker.get_slot("item_sku"), facts, runtime.today())
        # rasa_sdk asks three times a run (extraction, validation, next slot); the answer changes
        # only when the slots do
        kept = tracker.__dict__.get(MISSING_FACTS_KEPT)
        if kept is not None and kept[0] == asked:
            missing = kept[1]
        else:
            with runtime.database() as session:
                missing = cases.missing_facts(
                    session,
                    asked[0],
                    asked[1],
                    facts,
                    conversation_id=tracker.sender_id,
                    today=asked[3],
                    policy=runtime.policy(),
                )
            tracker.__dict__[MISSING_FACTS_KEPT] = (asked, missing)
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
        if sub_issue.value in cases.NOT_ARRIVED_YET and self._parcel_delivered(tracker):
            return {"sub_issue": None}  # asked again: not received, or a problem with what came
        slots: Dict[Text, Any] = {"sub_issue": sub_issue.value}
        implied = SUB_ISSUE_CATEGORY[sub_issue].value
        current = tracker.get_slot("complaint_category")
        if current is None or current == "no_reason" or implied != "no_reason":
            slots["complaint_category"] = implied
        return slots

    async def extract_sub_issue(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """An answer to the problem question is read in the context of the case: a problem the
        lexicon has no word for ("屏幕中间一条绿线") is the usual problem of its category."""
        if tracker.get_slot("sub_issue"):
            return {}
        with runtime.database() as session:
            by_state = cases.problem_of_an_undelivered_order(session, tracker.get_slot("order_number"))
        if by_state:
            return {"sub_issue": by_state, "complaint_category": "logistics"}
        if tracker.get_slot("requested_slot") != "sub_issue" and not answers_an_invitation_to_tell(tracker):
            return {}
        message = tracker.latest_message
        text = buyer_text(tracker)
        intent = message.get("intent") or {}
        sub_issue = problem_from_answer(
            text,
            intent=intent.get("name"),
            intent_confidence=float(intent.get("confidence") or 0.0),
            ranking=message.get("intent_ranking") or [],
            case_category=tracker.get_slot("complaint_category"),
        )
        if sub_issue in cases.NOT_ARRIVED_YET and self._parcel_delivered(tracker):
            # the tracking says delivered: an answer that reads as a parcel problem says it did
            # not come (L4; damage and address changes have words of their own), any other
            # description is about the item itself
            if intent.get("name") == "complain_logistics":
                return {"sub_issue": SubIssue.NOT_RECEIVED.value, "description": text}
            sub_issue = problem_from_answer(
                text,
                intent=intent.get("name"),
                ranking=message.get("intent_ranking") or [],
                case_category=ComplaintCategory.QUALITY.value,
            )
        return {"sub_issue": sub_issue, "description": text} if sub_issue else {}

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Asked "请问商品还没用过吗？", a typed "没" or "没有" means unused: the intent reads "没有" as a
        plain no, which the domain's mapping takes for "used". Read before the required slots are
        worked out, which depend on it."""
        condition = None
        if tracker.get_slot("requested_slot") == "item_condition":
            condition = condition_from_short_answer(buyer_text(tracker))
        read: List[EventType] = [SlotSet("item_condition", condition)] if condition else []
        tracker.add_slots(read)
        return read + await super().get_extraction_events(dispatcher, tracker, domain)

    @staticmethod
    def _parcel_delivered(tracker: Tracker) -> bool:
        with runtime.database() as session:
            return cases.parcel_delivered(session, tracker.get_slot("order_number"))

    async def extract_evidence(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """ "没有照片" at any time; and any typed answer to the photo question: the ticket then waits
        for the photos ("待补充凭证") instead of the question coming back again and again."""
        if attachments_of(tracker):
            return {}
        if (tracker.latest_message.get("intent") or {}).get("name") == "ask_policy":
            return {}  # "拍照之前我想先问下…": the question is answered, the photo is asked for again
        asked = tracker.get_slot("requested_slot") == "evidence"
        text = buyer_text(tracker)
        if not (buyer_declines_evidence(tracker, asked=asked) or (asked and text)):
            return {}
        earlier = tracker.get_slot("description")
        if len(text) <= 6 or (earlier and text in earlier):
            return {"evidence": DECLINED}
        return {"evidence": DECLINED, "description": f"{earlier}\n{text}" if earlier else text}

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """rasa_sdk returns only the slots still required; the buyer's own words (`description`) go
        too, and the condition read from a short answer (once given, it is no longer required)."""
        events = await super().get_validation_events(dispatcher, tracker, domain)
        for name in ("description", "item_condition"):
            value = tracker.slots_to_validate().get(name)
            if value and not any(event.get("name") == name for event in events):
                events.append(SlotSet(name, value))
        delivered = self._parcel_delivered(tracker)  # picks the problem question's wording
        if bool(tracker.get_slot("parcel_delivered")) != delivered:
            events.append(SlotSet("parcel_delivered", delivered))
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

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        facts = case_facts(tracker)
        order_number = tracker.get_slot("order_number")
        with runtime.database() as session:
            wrong_order_likely = cases.complains_of_an_item_not_received(session, order_number, facts)
        if wrong_order_likely and not (tracker.get_slot("last_decision") or {}).get("order_confirmed") == order_number:
            return ask_to_confirm_the_order(dispatcher, order_number, facts)
        with runtime.database() as session:
            outcome = cases.decide_and_open_ticket(
                session,
                order_number=order_number,
                item_sku=tracker.get_slot("item_sku"),
                facts=facts,
                conversation_id=tracker.sender_id,
                channel=conversation_channel(tracker),
                today=runtime.today(),
                now=runtime.now(),
                policy=runtime.policy(),
            )
            ticket = outcome.report
            not_delivered = cases.problem_of_an_undelivered_order(session, order_number) is not None
        decision = outcome.decision
        dispatcher.utter_message(response="utter_decision", explanation=decision.explanation)
        stated = {
            "rule": decision.rule_id,
            "order": order_number,
            "sub_issues": [value for value in (facts.sub_issue, *facts.also_mentioned) if value],
            "ticket": ticket.ticket_number if ticket is not None else None,
            # an address typed after any decision on a parcel not yet delivered is an address change
            "wants_address": decision.rule_id == ADDRESS_CHANGE_RULE or not_delivered,
            "rejected": Remedy.REJECT in decision.remedies,
        }
        events: List[EventType] = [
            SlotSet("pending_task", None),
            SlotSet("last_decision", stated),
            SlotSet("last_task", "case"),
        ]
        if ticket is not None:
            events.append(SlotSet("case_ticket_number", ticket.ticket_number))
            times = dict(
                ticket_number=ticket.ticket_number,
                first_response_due=runtime.format_moment(ticket.first_response_due),
                resolution_due=runtime.format_moment(ticket.resolution_due),
            )
            if not outcome.created:
                dispatcher.utter_message(
                    response="utter_ticket_reused", ticket_status=label(domain, "status", ticket.status), **times
                )
            elif ticket.awaits_evidence:
                dispatcher.utter_message(response="utter_ticket_awaiting_evidence", **times)
                events.append(SlotSet("evidence", None))
            else:
                dispatcher.utter_message(response="utter_ticket_opened", **times)
        if decision.escalate:
            return events + [SlotSet("pending_task", "handoff")]  # the rules hand over next
        if ticket is None:
            if Remedy.REJECT in decision.remedies:
                dispatcher.utter_message(response="utter_decision_reject_offer_human")
            events += address_given_in_task(dispatcher, tracker, stated)
            return events + [SlotSet("awaiting_reply", AFTER_DECISION)]
        if ticket.awaits_evidence:
            return events + [SlotSet("awaiting_reply", AFTER_DECISION)]  # remedies come with the photos
        events += address_given_in_task(dispatcher, tracker, stated)
        return events + settle_or_offer(dispatcher, domain, ticket)


AFTER_DECISION = "decision_feedback"
ADDRESS_CHANGE_RULE = "L6"
KEEP_WAITING = Remedy.INFO.value  # "继续等待发货": nothing is recorded, the shop still calls within the day


def ask_to_confirm_the_order(
    dispatcher: CollectingDispatcher, order_number: Text, facts: cases.CaseFacts
) -> List[EventType]:
    """ "屏幕有坏点" about a parcel still on its way: ask before deciding. A number sent next is read
    as the corrected order (after_decision_policy), with the facts kept."""
    dispatcher.utter_message(
        response="utter_confirm_order_for_item_problem", order_number_masked=cases.mask_order_number(order_number)
    )
    pending = {
        "rule": None,
        "order": order_number,
        "sub_issues": [v for v in (facts.sub_issue, *facts.also_mentioned) if v],
        "ticket": None,
        "wants_address": False,
        "expects_order_correction": True,
    }
    return [
        SlotSet("pending_task", None),
        SlotSet("last_decision", pending),
        SlotSet("last_task", "case"),
        SlotSet("awaiting_reply", AFTER_DECISION),
    ]


def settle_or_offer(
    dispatcher: CollectingDispatcher, domain: DomainDict, ticket: cases.TicketReport
) -> List[EventType]:
    """A remedy already settled (the only one, or the check that comes first) is announced with its
    next steps; two or more the buyer may pick become buttons."""
    if ticket.chosen_remedy:
        with runtime.database() as session:
            steps = cases.settled_next_steps(
                session, ticket.ticket_number, today=runtime.today(), policy=runtime.policy()
            )
        tell_next_steps(dispatcher, domain, steps)
        return [SlotSet("awaiting_reply", AFTER_DECISION), SlotSet("offered_remedies", None)]
    choices = list(ticket.buyer_choices)
    if not choices:
        return [SlotSet("awaiting_reply", AFTER_DECISION)]
    buttons = [
        {"title": label(domain, "remedy", remedy), "payload": f'/inform{{"remedy":"{remedy}"}}'} for remedy in choices
    ]
    if ticket.may_keep_waiting:  # L7: a refund is offered, never imposed
        choices = [*choices, KEEP_WAITING]
        buttons.append(
            {"title": label(domain, "remedy", KEEP_WAITING), "payload": f'/inform{{"remedy":"{KEEP_WAITING}"}}'}
        )
    dispatcher.utter_message(response="utter_choose_remedy", buttons=buttons)
    return [
        SlotSet("offered_remedies", choices),
        SlotSet("awaiting_reply", "remedy_choice"),
        SlotSet("requested_remedy", None),
    ]


def address_given_in_task(
    dispatcher: CollectingDispatcher, tracker: Tracker, stated: Dict[Text, Any]
) -> List[EventType]:
    """An address change whose new address the buyer already typed (in the opening, say) is done now."""
    if not stated.get("wants_address"):
        return []
    address = latest_address_in_task(tracker)
    if not address:
        return []
    take_address(dispatcher, tracker, address, stated)
    return []


def latest_address_in_task(tracker: Tracker) -> Optional[Text]:
    """The newest address typed since the task began, the opening message included."""
    started = False
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == "action_start_task":
            started = True
        elif event.get("event") == "user":
            if looks_like_address(event.get("text") or ""):
                return address_part(event.get("text"))
            if started:
                return None
    return None


def take_address(dispatcher: CollectingDispatcher, tracker: Tracker, address: Text, stated: Dict[Text, Any]) -> bool:
    with runtime.database() as session:
        change = cases.take_new_address(
            session,
            order_number=stated.get("order"),
            address=address,
            ticket_number=stated.get("ticket"),
            conversation_id=tracker.sender_id,
        )
    if change is None:
        return False
    if change.changed:
        dispatcher.utter_message(
            response="utter_address_changed",
            order_number_masked=cases.mask_order_number(stated.get("order") or ""),
            address_masked=change.masked_address,
        )
    else:
        dispatcher.utter_message(
            response="utter_address_noted_for_carrier",
            ticket_number=change.ticket_number,
            address_masked=change.masked_address,
            first_response_due=runtime.format_moment(change.first_response_due),
        )
    return True


def tell_next_steps(dispatcher: CollectingDispatcher, domain: DomainDict, steps: cases.NextSteps) -> None:
    response = f"utter_next_steps_{steps.remedy}"
    if steps.remedy == Remedy.REFUND_ONLY.value and steps.refund_due is None:
        response = "utter_next_steps_refund_only_after_approval"  # the date comes with the approval
    dispatcher.utter_message(
        response=response,
        return_deadline=runtime.format_moment(steps.return_deadline),
        return_address=steps.return_address,
        shipping_payer_text=label(domain, "payer", steps.shipping_payer),
        return_processing_hours=steps.return_processing_hours,
        refund_working_days=steps.refund_working_days,
        refund_due=runtime.format_moment(steps.refund_due),
        first_response_due=runtime.format_moment(steps.first_response_due),
    )


class ActionOfferRemedies(Action):
    """After photos completed a ticket that waited for them: the remedy is settled or offered."""

    def name(self) -> Text:
        return "action_offer_remedies"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        ticket_number = tracker.get_slot("case_ticket_number")
        with runtime.database() as session:
            ticket = cases.ticket_report(session, ticket_number) if ticket_number else None
            waiting_for_a_remedy = ticket is not None and ticket.waits_for_a_remedy
            if waiting_for_a_remedy:
                cases.settle_remedy_if_due(session, ticket_number)
                ticket = cases.ticket_report(session, ticket_number)
        if not waiting_for_a_remedy:
            dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet("awaiting_reply", AFTER_DECISION)]
        events = settle_or_offer(dispatcher, domain, ticket)
        if not ticket.chosen_remedy and not ticket.buyer_choices:
            dispatcher.utter_message(response="utter_anything_else")
        return events


class ActionChooseRemedy(Action):
    def name(self) -> Text:
        return "action_choose_remedy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        offered = tracker.get_slot("offered_remedies") or []
        # typed words are read against the buttons ("还是直接退钱吧" under L2 is 仅退款); the slot holds
        # the first remedy word of the message only
        chosen: Optional[Text] = remedy_choice_in(buyer_text(tracker), offered) or tracker.get_slot("requested_remedy")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if chosen is None and intent == "affirm" and len(offered) >= 1:
            chosen = offered[0]
        if chosen not in offered:
            dispatcher.utter_message(response="utter_remedy_not_offered")
            return [SlotSet("awaiting_reply", "remedy_choice"), SlotSet("requested_remedy", None)]
        if chosen == KEEP_WAITING:
            dispatcher.utter_message(response="utter_keep_waiting")
            return [SlotSet("awaiting_reply", AFTER_DECISION), SlotSet("offered_remedies", None)]
        with runtime.database() as session:
            steps = cases.choose_remedy(
                session, tracker.get_slot("case_ticket_number"), chosen, today=runtime.today(), policy=runtime.policy()
            )
        tell_next_steps(dispatcher, domain, steps)
        if intent == "ask_policy":  # "那就退货退款吧，寄回来的运费是你们出对吧？": the question too
            from actions.conversation import answer_policy_topic  # actions.conversation imports this module

            answer_policy_topic(dispatcher, tracker, domain)
        return [SlotSet("awaiting_reply", AFTER_DECISION), SlotSet("offered_remedies", None)]


class ActionAcknowledgeDecision(Action):
    """ "好的谢谢" after a decision: nothing more to decide."""

    def name(self) -> Text:
        return "action_acknowledge_decision"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_acknowledged")
        return [SlotSet("awaiting_reply", None)]


class ActionTakeNewAddress(Action):
    """The new address an address change (L6) asked for."""

    def name(self) -> Text:
        return "action_take_new_address"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        stated = tracker.get_slot("last_decision") or {}
        if take_address(dispatcher, tracker, address_part(buyer_text(tracker)), stated):
            return [SlotSet("awaiting_reply", AFTER_DECISION)]
        dispatcher.utter_message(response="utter_address_not_changed")
        return [FollowupAction("action_handoff")]


class ActionAddRemark(Action):
    """Something the buyer adds after a decision without disagreeing: onto the ticket; after a
    decision that left no work (a "no", or information), a person is offered once more."""

    def name(self) -> Text:
        return "action_add_remark"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        ticket_number = (tracker.get_slot("last_decision") or {}).get("ticket")
        if not ticket_number:
            dispatcher.utter_message(response="utter_decision_reject_offer_human")
            return [SlotSet("awaiting_reply", AFTER_DECISION)]
        with runtime.database() as session:
            added = cases.add_remark(session, ticket_number, remark_words(tracker, domain))
        if not added:
            dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet("awaiting_reply", None)]
        dispatcher.utter_message(response="utter_remark_added_to_ticket", ticket_number=ticket_number)
        return [SlotSet("awaiting_reply", AFTER_DECISION)]


def remark_words(tracker: Tracker, domain: DomainDict) -> Text:
    """What the buyer typed; for a button the buyer clicked (an old remedy button still in the
    chat), the remedy it names, so the agent reads the wish and not an empty remark."""
    typed = buyer_text(tracker)
    if typed:
        return typed
    remedies = [e.get("value") for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "remedy"]
    return "、".join(label(domain, "remedy", remedy) for remedy in remedies if remedy)


class ActionConfirmOrder(Action):
    """ "是的，就是这单": the buyer confirms an order not yet delivered after all; decide on it."""

    def name(self) -> Text:
        return "action_confirm_order"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        pending = dict(tracker.get_slot("last_decision") or {})
        confirmed = tracker.copy()
        confirmed.slots["last_decision"] = {**pending, "order_confirmed": pending.get("order")}
        events = await ActionDecideCase().run(dispatcher, confirmed, domain)
        if any(event.get("name") == "pending_task" and event.get("value") == "handoff" for event in events):
            events.append(FollowupAction("action_handoff"))
        return events
