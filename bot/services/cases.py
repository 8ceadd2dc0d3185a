"""The after-sales case as the dialogue drives it: verify, decide, open, follow up.

One function per step the assistant takes, each working on plain values so the Rasa
actions stay thin adapters. No Rasa imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.tables import CaseDecision, Order, SatisfactionScore, Ticket
from bot.domain.vocabulary import (
    ACTIVE_TICKET_STATUSES,
    SUB_ISSUE_CATEGORY,
    ComplaintCategory,
    OrderStatus,
    PaymentMethod,
    Priority,
    ProductCategory,
    Remedy,
    SubIssue,
    TicketStatus,
)
from bot.console import leave_message, waiting
from bot.domain.tickets import RETURNED_ITEM_REMEDIES, rating_wanted
from bot.policy.engine import SERVICE_RULES
from bot.policy import MAY_KEEP_WAITING_RULES, Decision, PolicyConfig, Situation, buyer_choices, decide, settled_remedy
from bot.services import contacts, handoffs, orders, tickets
from bot.services.clock import shop_zone, to_shop_time
from bot.nlu.entities import most_telling_sub_issue

UNDELIVERED_STATUSES = (OrderStatus.IN_TRANSIT.value, OrderStatus.LOST.value, OrderStatus.AWAITING_SHIPMENT.value)


@dataclass(frozen=True)
class ItemChoice:
    sku: str
    name: str


@dataclass(frozen=True)
class OrderSummary:
    masked_number: str
    items: Tuple[ItemChoice, ...]

    @property
    def items_text(self) -> str:
        return "、".join(item.name for item in self.items)


@dataclass(frozen=True)
class CaseFacts:
    category: Optional[str]
    sub_issue: Optional[str]
    evidence: Sequence[Dict[str, Any]] = ()
    item_unused: Optional[bool] = None
    description: Optional[str] = None
    requested_remedy: Optional[str] = None
    also_mentioned: Tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseOutcome:
    decision: Decision
    ticket: Optional[Ticket]
    created: bool

    @property
    def report(self) -> Optional["TicketReport"]:
        """The ticket as plain values for the dialogue (read while the session is open)."""
        return _report(self.ticket) if self.ticket is not None else None


@dataclass(frozen=True)
class NextSteps:
    remedy: str
    shipping_payer: str
    return_deadline: Optional[date]
    return_address: str
    return_processing_hours: Optional[int]
    refund_working_days: Optional[int]
    refund_due: Optional[date]
    first_response_due: Optional[datetime]


@dataclass(frozen=True)
class TrackingReport:
    masked_number: str
    carrier: Optional[str]
    tracking_number: Optional[str]
    lines: Tuple[str, ...]
    follow_up_sub_issue: Optional[str]  # a parcel not yet delivered: the logistics rule decides next


@dataclass(frozen=True)
class TicketReport:
    ticket_number: str
    status: str
    chosen_remedy: Optional[str]
    resolution_due: Optional[datetime]
    offered_remedies: Tuple[str, ...] = ()
    first_response_due: Optional[datetime] = None
    rule_id: Optional[str] = None

    @property
    def awaits_evidence(self) -> bool:
        return self.status == TicketStatus.AWAITING_EVIDENCE.value

    @property
    def waits_for_a_remedy(self) -> bool:
        """Open with no remedy settled yet, and one to settle (a rejection has none)."""
        return (
            self.status == TicketStatus.OPEN.value
            and not self.chosen_remedy
            and Remedy.REJECT.value not in self.offered_remedies
        )

    @property
    def may_keep_waiting(self) -> bool:
        return (self.rule_id or "") in MAY_KEEP_WAITING_RULES and not self.chosen_remedy

    @property
    def buyer_choices(self) -> Tuple[str, ...]:
        """What the buyer may pick now; nothing once a remedy is chosen."""
        if self.chosen_remedy:
            return ()
        return tuple(
            r.value for r in buyer_choices(self.rule_id or "", tuple(Remedy(r) for r in self.offered_remedies))
        )


@dataclass(frozen=True)
class AddedEvidence:
    count: int


@dataclass(frozen=True)
class QueuedHandoff:
    wait_minutes: Optional[int]  # None: nobody is online, so no wait is quoted
    already_waiting: bool
    unavailable: Optional[str] = None  # leave_message.OUT_OF_HOURS / NOBODY_ONLINE: the buyer may leave a message
    office_hours: str = ""


def mask_order_number(number: str) -> str:
    return f"{number[:4]}****{number[-4:]}" if len(number) > 8 else number


# ---- verification ------------------------------------------------------------------------


def order_exists(session: Session, order_number: str) -> bool:
    return orders.find_order(session, order_number) is not None


def verify_owner(session: Session, order_number: str, phone_last4: str) -> bool:
    """Throttled per order (bot/services/verification_guard.py): a locked order never verifies."""
    from bot.services.verification_guard import check_owner

    return check_owner(session, order_number, phone_last4).verified


def belongs_to_customer(session: Session, order_number: str, customer_id: Optional[str]) -> bool:
    """The shop vouched for `customer_id` (a signed identity) and the order is theirs."""
    if not customer_id:
        return False
    order = orders.find_order(session, order_number)
    return order is not None and order.customer_id == customer_id


def customer_orders(session: Session, customer_id: str, *, limit: int = 5) -> List[Tuple[str, str]]:
    """`(order_number, items text)` of the customer's latest orders, newest first."""
    found = orders.orders_for_customer(session, customer_id)[:limit]
    return [(order.order_number, "、".join(item.name for item in order.items)) for order in found]


def order_items(session: Session, order_number: Optional[str]) -> List[ItemChoice]:
    order = orders.find_order(session, order_number or "")
    return [ItemChoice(item.sku, item.name) for item in order.items] if order else []


def products_in_order(session: Session, order_number: str) -> set:
    """The lexicon's product names of the order's items ("波司登…羽绒服" holds 衣服)."""
    from bot.nlu.lexicon import load_lexicon

    return {
        match.value
        for item in order_items(session, order_number)
        for match in load_lexicon().scan(item.name)
        if match.entity == "product"
    }


def order_summary(session: Session, order_number: str) -> OrderSummary:
    return OrderSummary(mask_order_number(order_number), tuple(order_items(session, order_number)))


# ---- deciding --------------------------------------------------------------------------------


# only clothes and shoes come in sizes: "松了" said of a blender's blade is a fault
SIZED_CATEGORIES = frozenset({ProductCategory.APPAREL.value})


def _situation(session: Session, order: Order, facts: CaseFacts, conversation_id: str, item=None) -> Situation:
    sub_issue = SubIssue(facts.sub_issue) if facts.sub_issue else None
    category = ComplaintCategory(facts.category) if facts.category else None
    mentioned = [SubIssue(value) for value in facts.also_mentioned]
    if order.status == OrderStatus.DELIVERED.value:
        # "还有物流也太慢了" said of a parcel that came is a grumble, not this case's problem
        kept = [value for value in mentioned if value.value not in NOT_ARRIVED_YET]
        if sub_issue is not None and sub_issue.value in NOT_ARRIVED_YET and kept:
            sub_issue = SubIssue(most_telling_sub_issue(value.value for value in kept))
        mentioned = kept
    service = [value for value in mentioned if SUB_ISSUE_CATEGORY[value] is ComplaintCategory.SERVICE]
    if (
        category is ComplaintCategory.SERVICE
        and service
        and sub_issue is not None
        and SUB_ISSUE_CATEGORY[sub_issue] is ComplaintCategory.NO_REASON
    ):
        # "留言问换码的事，两天了没人回": the size was the question nobody answered. Without a
        # word about the service it stays a no-reason request, whatever the classifier read
        # ("没任何毛病，送的人用不着了" is N2; "用了没效果，能退不" is N4)
        sub_issue = SubIssue(most_telling_sub_issue(value.value for value in service))
    if sub_issue is SubIssue.SIZE and item is not None and item.category not in SIZED_CATEGORIES:
        sub_issue = SubIssue.DEFECT
        category = ComplaintCategory.QUALITY if category in (None, ComplaintCategory.NO_REASON) else category
    faults = [value for value in mentioned if SUB_ISSUE_CATEGORY[value] is ComplaintCategory.QUALITY]
    if sub_issue is not None and SUB_ISSUE_CATEGORY[sub_issue] is ComplaintCategory.NO_REASON and faults:
        # "有点小，关键是腋下线都开了": the policy's size rule holds "unless the buyer says the item
        # itself is faulty"; the fault is the case (and its ticket's problem)
        sub_issue = SubIssue(most_telling_sub_issue(value.value for value in faults))
        category = ComplaintCategory.QUALITY
    if category is None:
        category = SUB_ISSUE_CATEGORY[sub_issue] if sub_issue is not None else ComplaintCategory.QUALITY
    return Situation(
        category=category,
        sub_issue=sub_issue,
        evidence_given=bool(facts.evidence),
        item_unused=facts.item_unused,
        also_mentioned=tuple(mentioned),
        repeat_contacts=contacts.earlier_contact_count(session, order, conversation_id),
        earlier_ticket_overdue=contacts.earlier_ticket_overdue(session, order),
    )


def _order_and_item(session: Session, order_number: str, item_sku: Optional[str]):
    order = orders.find_order(session, order_number)
    if order is None:
        raise LookupError(f"订单 {order_number} 不存在。")
    item = orders.item_for(order, item_sku) or order.items[0]
    return order, item


def assess(
    session: Session,
    order_number: str,
    item_sku: Optional[str],
    facts: CaseFacts,
    *,
    conversation_id: str,
    today: date,
    policy: PolicyConfig,
    now: Optional[datetime] = None,
) -> Decision:
    order, item = _order_and_item(session, order_number, item_sku)
    situation = _situation(session, order, facts, conversation_id, item)
    return decide(orders.order_facts_for(order, item), situation, today, policy, now=now)


def missing_facts(
    session: Session, order_number: str, item_sku: Optional[str], facts: CaseFacts, **context
) -> Tuple[str, ...]:
    return assess(session, order_number, item_sku, facts, **context).missing_facts


def _evidence_files(attachments: Sequence[Dict[str, Any]]) -> List[tickets.EvidenceFile]:
    return [
        tickets.EvidenceFile(
            reference=str(item.get("url") or item.get("reference") or item.get("sha256")),
            sha256=str(item.get("sha256") or ""),
            size_bytes=item.get("size"),
            media_type=item.get("media_type") or item.get("type"),
            original_filename=item.get("name"),
        )
        for item in attachments
        if item.get("sha256")
    ]


def active_ticket_for(session: Session, order: Order, category: str) -> Optional[Ticket]:
    return (
        session.execute(
            select(Ticket)
            .where(Ticket.order_id == order.id, Ticket.category == category, Ticket.status.in_(ACTIVE_TICKET_STATUSES))
            .order_by(Ticket.id)
        )
        .scalars()
        .first()
    )


def decide_and_open_ticket(
    session: Session,
    *,
    order_number: str,
    item_sku: Optional[str],
    facts: CaseFacts,
    conversation_id: str,
    channel: str,
    today: date,
    now: datetime,
    policy: PolicyConfig,
) -> CaseOutcome:
    """Decide the case and record it: every decision in `case_decisions`; a decision that leaves
    work also on a ticket, new or the one already open for this order and category (a repeated
    complaint adds to it instead of opening a second one). A remedy the buyer need not pick (the
    only one, or the check that comes first) is recorded on the ticket at once."""
    order, item = _order_and_item(session, order_number, item_sku)
    situation = _situation(session, order, facts, conversation_id, item)
    decision = decide(orders.order_facts_for(order, item), situation, today, policy, now=now)
    contacts.record_contact(session, order, conversation_id, channel=channel)
    category = ComplaintCategory.SERVICE.value if decision.rule_id in SERVICE_RULES else situation.rule_family.value
    record = CaseDecision(
        conversation_id=conversation_id,
        order_id=order.id,
        item_sku=item.sku,
        category=category,
        sub_issue=situation.sub_issue.value if situation.sub_issue else None,
        rule_id=decision.rule_id,
        remedies=[remedy.value for remedy in decision.remedies],
    )
    session.add(record)
    if not decision.opens_ticket:
        session.flush()
        return CaseOutcome(decision, None, False)
    existing = active_ticket_for(session, order, category)
    evidence = _evidence_files(facts.evidence)
    if existing is not None and existing.conversation_id != conversation_id:
        for piece in evidence:
            tickets.add_evidence(session, existing, piece)
        _apply_new_decision(session, existing, decision, situation)
        ticket, created = existing, False
    else:
        ticket, created = tickets.open_ticket(
            session,
            order=order,
            item=item,
            category=category,
            sub_issue=situation.sub_issue.value if situation.sub_issue else None,
            decision=decision,
            conversation_id=conversation_id,
            channel=channel,
            description=facts.description,
            evidence=evidence,
        )
    record.ticket_id = ticket.id
    _settle_remedy_if_due(session, ticket)
    session.flush()
    return CaseOutcome(decision, ticket, created)


def complains_of_an_item_not_received(session: Session, order_number: str, facts: CaseFacts) -> bool:
    """A fault of the item itself on an order that was never delivered: most likely the buyer gave
    the number of another order. Asking beats deciding the order's logistics rule on it."""
    order = orders.find_order(session, order_number)
    if order is None or order.status not in UNDELIVERED_STATUSES or facts.sub_issue is None:
        return False
    named = facts.sub_issue in facts.also_mentioned  # said in so many words, not just assumed
    return named and SUB_ISSUE_CATEGORY[SubIssue(facts.sub_issue)] is ComplaintCategory.QUALITY


# problems that mean "the parcel has not come": on an order marked delivered they say nothing,
# and L4 needs the buyer to say it was not received
NOT_ARRIVED_YET = frozenset({SubIssue.DELAY.value, SubIssue.NOT_SHIPPED.value})


def parcel_delivered(session: Session, order_number: Optional[str]) -> bool:
    order = orders.find_order(session, order_number or "")
    return order is not None and order.status == OrderStatus.DELIVERED.value


def problem_of_an_undelivered_order(session: Session, order_number: Optional[str]) -> Optional[str]:
    """An order not delivered yet is judged by its logistics state (L1/L2/L3/L7) whatever problem
    the buyer names: the problem question need not be asked."""
    order = orders.find_order(session, order_number or "")
    return _UNDELIVERED_SUB_ISSUE.get(order.status) if order is not None else None


def record_objection(session: Session, conversation_id: str, words: str) -> Optional[str]:
    """The buyer disagrees with the latest decision of this conversation: their words go on the
    decision record (and its ticket's audit trail) for the agent who takes over. Returns the rule."""
    record = latest_decision(session, conversation_id)
    if record is None:
        return None
    record.buyer_objection = words[:2000]
    if record.ticket_id is not None:
        ticket = session.get(Ticket, record.ticket_id)
        tickets.update_ticket(session, ticket, "bot", note=f"买家对处理结果有异议：{words[:500]}")
    session.flush()
    return record.rule_id


def latest_decision(session: Session, conversation_id: str) -> Optional[CaseDecision]:
    return (
        session.execute(
            select(CaseDecision).where(CaseDecision.conversation_id == conversation_id).order_by(CaseDecision.id.desc())
        )
        .scalars()
        .first()
    )


def _apply_new_decision(session: Session, ticket: Ticket, decision: Decision, situation: Situation) -> None:
    """A repeated complaint may change the facts (now overdue, now the third contact ...): the
    open ticket takes the new decision, unless the buyer already chose a remedy on it, and
    never becomes less urgent. An address change is a request of its own, not the earlier
    complaint again: it takes the ticket over with its own remedy, whatever was chosen before."""
    changes: Dict[str, Any] = {"priority": _more_urgent(ticket.priority, decision.priority.value)}
    if decision.escalate:
        changes["escalate"] = True
    new_request = situation.sub_issue is SubIssue.ADDRESS_CHANGE and ticket.sub_issue != SubIssue.ADDRESS_CHANGE.value
    if new_request:
        changes["chosen_remedy"] = None  # settled again below: L6's check with the carrier
    if (ticket.chosen_remedy is None or new_request) and decision.rule_id != ticket.rule_id:
        changes.update(
            rule_id=decision.rule_id,
            offered_remedies=[remedy.value for remedy in decision.remedies],
            shipping_payer=decision.shipping_payer.value if decision.shipping_payer else None,
            sub_issue=situation.sub_issue.value if situation.sub_issue else ticket.sub_issue,
            decision_explanation=decision.explanation,
        )
    tickets.update_ticket(session, ticket, "bot", note=f"同一订单再次反映（规则 {decision.rule_id}）", **changes)


def settle_remedy_if_due(session: Session, ticket_number: str) -> None:
    _settle_remedy_if_due(session, tickets.require_ticket(session, ticket_number))


def _settle_remedy_if_due(session: Session, ticket: Ticket) -> None:
    """Record at once a remedy the buyer need not pick (the only one, or the check that comes
    first), unless the ticket still waits for evidence or a remedy is chosen already."""
    if ticket.chosen_remedy is not None or ticket.status == TicketStatus.AWAITING_EVIDENCE.value:
        return
    settled = settled_remedy(ticket.rule_id or "", tuple(Remedy(r) for r in ticket.offered_remedies or ()))
    if settled is not None:
        _record_remedy(session, ticket, settled.value)


def _record_remedy(session: Session, ticket: Ticket, remedy: str) -> None:
    tickets.choose_remedy(session, ticket, remedy, "bot")


def choose_remedy(session: Session, ticket_number: str, remedy: str, *, today: date, policy: PolicyConfig) -> NextSteps:
    ticket = tickets.require_ticket(session, ticket_number)
    if ticket.chosen_remedy != remedy:
        _record_remedy(session, ticket, remedy)
    return next_steps(ticket, today=today, policy=policy)


def settled_next_steps(
    session: Session, ticket_number: str, *, today: date, policy: PolicyConfig
) -> Optional[NextSteps]:
    ticket = tickets.require_ticket(session, ticket_number)
    return next_steps(ticket, today=today, policy=policy) if ticket.chosen_remedy else None


def next_steps(ticket: Ticket, *, today: date, policy: PolicyConfig) -> NextSteps:
    """What the buyer is told after the remedy of `ticket` is settled."""
    remedy = ticket.chosen_remedy
    returns_item = remedy in RETURNED_ITEM_REMEDIES
    return NextSteps(
        remedy=remedy,
        shipping_payer=ticket.shipping_payer or "none",
        return_deadline=today + timedelta(days=policy.return_ship_within_days) if returns_item else None,
        return_address=policy.return_address,
        return_processing_hours=policy.return_processing_hours,
        refund_working_days=policy.refund_working_days[PaymentMethod(ticket.order.payment_method)],
        refund_due=ticket.refund_due,
        first_response_due=ticket.first_response_due,
    )


# ---- follow-up -------------------------------------------------------------------------------


def tracking_report(session: Session, order_number: str) -> TrackingReport:
    order = orders.find_order(session, order_number)
    zone = shop_zone()
    lines = tuple(
        f"{to_shop_time(event.at, zone):%m-%d %H:%M}  {event.text}" for event in orders.tracking_events(order)
    )
    follow_up = _UNDELIVERED_SUB_ISSUE.get(order.status)
    return TrackingReport(mask_order_number(order.order_number), order.carrier, order.tracking_number, lines, follow_up)


_UNDELIVERED_SUB_ISSUE = {
    OrderStatus.IN_TRANSIT.value: SubIssue.DELAY.value,
    OrderStatus.AWAITING_SHIPMENT.value: SubIssue.NOT_SHIPPED.value,
    OrderStatus.LOST.value: SubIssue.LOST.value,
}


def _report(ticket: Ticket) -> TicketReport:
    return TicketReport(
        ticket.ticket_number,
        ticket.status,
        ticket.chosen_remedy,
        ticket.resolution_due,
        tuple(ticket.offered_remedies or ()),
        ticket.first_response_due,
        ticket.rule_id,
    )


def ticket_report(session: Session, ticket_number: str) -> Optional[TicketReport]:
    ticket = tickets.find_ticket(session, ticket_number)
    return _report(ticket) if ticket else None


def owned_ticket_report(
    session: Session,
    ticket_number: str,
    proven_orders: Iterable[str],
    conversation_id: Optional[str] = None,
) -> Optional[TicketReport]:
    """The report of a ticket whose order the buyer proved in this conversation, or that was
    opened in this very conversation (e.g. a message left there); None for any other ticket,
    as for a number that does not exist: a ticket number alone is no proof, and the answer
    does not tell whether it exists."""
    ticket = tickets.find_ticket(session, ticket_number)
    if ticket is not None and is_conversation_ticket(ticket, conversation_id):
        return _report(ticket)
    if ticket is None or ticket.order is None or ticket.order.order_number not in set(proven_orders):
        return None
    return _report(ticket)


def is_conversation_ticket(ticket, conversation_id: Optional[str]) -> bool:
    return bool(conversation_id) and ticket.conversation_id == conversation_id


def opened_in_conversation(session: Session, ticket_number: Optional[str], conversation_id: str) -> bool:
    """The ticket was opened in this conversation: asking about it needs no order check (the
    buyer is in the chat that left it, e.g. a REST client told to ask with the number)."""
    ticket = tickets.find_ticket(session, ticket_number) if ticket_number else None
    return ticket is not None and is_conversation_ticket(ticket, conversation_id)


def ticket_reports_for_order(session: Session, order_number: str) -> List[TicketReport]:
    order = orders.find_order(session, order_number)
    return [_report(ticket) for ticket in tickets.tickets_for_order(session, order)] if order else []


def add_ticket_evidence(
    session: Session, ticket_number: str, attachments: Sequence[Dict[str, Any]], *, actor: str
) -> AddedEvidence:
    ticket = tickets.require_ticket(session, ticket_number)
    added = sum(
        1 for piece in _evidence_files(attachments) if tickets.add_evidence(session, ticket, piece, actor=actor)[1]
    )
    return AddedEvidence(added)


def request_handoff(
    session: Session,
    *,
    conversation_id: str,
    ticket_number: Optional[str],
    reason: str,
    channel: str,
    policy: PolicyConfig,
    at_least: str = Priority.NORMAL.value,
) -> QueuedHandoff:
    """Queue the chat for a person, as urgent as its ticket or `at_least` (an angry buyer: high)."""
    ticket = tickets.find_ticket(session, ticket_number) if ticket_number else None
    if ticket is None:  # the bot lost the ticket slot (e.g. it fell back to its order question)
        in_progress = tickets.open_tickets_for_conversation(session, conversation_id)
        ticket = in_progress[-1] if in_progress else None
    priority = _more_urgent(ticket.priority if ticket is not None else Priority.NORMAL.value, at_least)
    handoff, created = handoffs.enqueue_handoff(
        session,
        conversation_id=conversation_id,
        reason=reason,
        priority=priority,
        ticket=ticket,
        channel=channel,
    )
    if ticket is not None:
        tickets.handoff_requested(session, ticket, reason, "bot")
    wait = waiting.estimate(session, conversation_id, policy.handoff_minutes_per_waiting_chat)
    available = leave_message.availability(session, policy)
    return QueuedHandoff(
        wait_minutes=wait.wait_minutes,
        already_waiting=not created,
        unavailable=available.unavailable,
        office_hours=available.office_hours,
    )


_URGENCY = (Priority.NORMAL.value, Priority.HIGH.value, Priority.URGENT.value)


def _more_urgent(first: str, second: str) -> str:
    return max(first, second, key=lambda value: _URGENCY.index(value) if value in _URGENCY else 0)


def rating_due(session: Session, ticket_number: Optional[str], *, already_asked: bool = False) -> bool:
    """Whether to ask the buyer for the satisfaction score now (bot/domain/tickets.py: rating_wanted)."""
    rated = bool(ticket_number) and not already_asked and satisfaction_recorded(session, ticket_number)
    return rating_wanted(ticket_number, rated=rated, already_asked=already_asked)


def satisfaction_recorded(session: Session, ticket_number: str) -> bool:
    ticket = tickets.find_ticket(session, ticket_number)
    return (
        ticket is not None
        and session.execute(select(SatisfactionScore.id).where(SatisfactionScore.ticket_id == ticket.id)).first()
        is not None
    )


def record_buyer_satisfaction(session: Session, ticket_number: str, score: int, *, conversation_id: str) -> None:
    tickets.record_satisfaction(
        session, tickets.require_ticket(session, ticket_number), score, conversation_id=conversation_id
    )


# ---- policy questions ------------------------------------------------------------------------


def policy_answer_values(policy: PolicyConfig) -> Dict[str, Any]:
    """Values for the ask_policy responses in domain.yml, read from the shop's policy."""
    names = policy.category_display_names
    warranty = "，".join(f"{names[category]}{days}天" for category, days in policy.warranty_days.items())
    exempt = "、".join(names[category] for category in sorted(policy.no_reason_exempt_categories, key=str))
    return {
        "no_reason_days": policy.no_reason_window_days,
        "quality_return_days": policy.quality_return_window_days,
        "quality_exchange_days": policy.quality_exchange_window_days,
        "online_refund_days": policy.refund_working_days[PaymentMethod.ONLINE],
        "cod_refund_days": policy.refund_working_days[PaymentMethod.COD],
        "warranty_summary": warranty,
        "return_processing_hours": policy.return_processing_hours,
        "first_response_hours": policy.first_response_hours,
        "resolution_days": policy.resolution_days,
        "cross_border_delivery_days": policy.promised_delivery_days_cross_border,
        "domestic_delivery_days": policy.promised_delivery_days_domestic,
        "not_shipped_hours": policy.ship_within_hours,
        "exempt_summary": exempt,
        "complaint_channels": "；".join(policy.complaint_channels),
        "return_address": policy.return_address,
    }


# ---- after the decision ----------------------------------------------------------------------


@dataclass(frozen=True)
class AddressChange:
    changed: bool  # the order itself now has the new address (not shipped yet)
    ticket_number: Optional[str]  # or: the address went onto this ticket for the carrier check
    masked_address: str
    first_response_due: Optional[datetime] = None


def mask_address(address: str) -> str:
    """Enough for the buyer to recognise the address, never all of it."""
    address = " ".join(address.split())
    return f"{address[:6]}****" if len(address) > 6 else "****"


def take_new_address(
    session: Session, *, order_number: str, address: str, ticket_number: Optional[str], conversation_id: str
) -> Optional[AddressChange]:
    """L6: an order not shipped yet gets the new address at once; a shipped one's ticket carries it
    to the carrier check. None when neither is possible (a person has to handle it)."""
    order = orders.find_order(session, order_number)
    if order is None:
        return None
    address = address.strip()[:300]
    if order.status == OrderStatus.AWAITING_SHIPMENT.value:
        order.address = address
        contacts.record_contact(session, order, conversation_id)
        session.flush()
        return AddressChange(True, None, mask_address(address))
    ticket = tickets.find_ticket(session, ticket_number) if ticket_number else None
    if ticket is None or ticket.order_id != order.id or not tickets.is_active(ticket):
        return None
    tickets.update_ticket(session, ticket, "bot", note=f"买家提供的新收货地址：{address}")
    return AddressChange(False, ticket.ticket_number, mask_address(address), ticket.first_response_due)


def add_remark(session: Session, ticket_number: str, words: str) -> bool:
    """What the buyer added after the decision goes onto the ticket's audit trail; nothing said,
    nothing added."""
    words = words.strip()
    ticket = tickets.find_ticket(session, ticket_number) if words else None
    if ticket is None or not tickets.is_active(ticket):
        return False
    tickets.update_ticket(session, ticket, "bot", note=f"买家补充：{words[:1000]}")
    return True


def withdraw_ticket(session: Session, ticket_number: str, reason: str) -> bool:
    """A ticket the bot opened on an order the buyer then said was the wrong one: nobody should
    work it. Only a ticket nobody has touched yet (no agent, no return under way) is withdrawn."""
    ticket = tickets.find_ticket(session, ticket_number)
    if ticket is None:
        return False
    return tickets.withdraw(session, ticket, reason, "bot")


def closed_order_status(session: Session, order_number: str) -> Optional[str]:
    """`refunded` / `cancelled` for an order with nothing left to handle, else None."""
    order = orders.find_order(session, order_number)
    if order is not None and order.status in (OrderStatus.REFUNDED.value, OrderStatus.CANCELLED.value):
        return order.status
    return None


def record_where_to_complain(session: Session, *, conversation_id: str, order_number: Optional[str]) -> None:
    """Rule S3 answered as a question ("还能去哪投诉？"): information only, recorded for reports."""
    order = orders.find_order(session, order_number) if order_number else None
    session.add(
        CaseDecision(
            conversation_id=conversation_id,
            order_id=order.id if order is not None else None,
            category=ComplaintCategory.SERVICE.value,
            sub_issue=SubIssue.WHERE_TO_COMPLAIN.value,
            rule_id="S3",
            remedies=[Remedy.INFO.value],
        )
    )
    session.flush()


def closed_order_answer(
    session: Session,
    *,
    order_number: str,
    conversation_id: str,
    channel: str,
    today: date,
    now: datetime,
    policy: PolicyConfig,
) -> Optional[Decision]:
    """ "退款到了没" about a refunded or cancelled order: the order's state is the answer (rule X1,
    information only), recorded like every decision; None for an order still in progress."""
    if closed_order_status(session, order_number) is None:
        return None
    order, item = _order_and_item(session, order_number, None)
    # a status question names no problem: any family but service leads to X1 on a closed order
    decision = decide(
        orders.order_facts_for(order, item), Situation(category=ComplaintCategory.LOGISTICS), today, policy, now=now
    )
    contacts.record_contact(session, order, conversation_id, channel=channel)
    session.add(
        CaseDecision(
            conversation_id=conversation_id,
            order_id=order.id,
            item_sku=item.sku,
            category=None,
            rule_id=decision.rule_id,
            remedies=[remedy.value for remedy in decision.remedies],
        )
    )
    session.flush()
    return decision
