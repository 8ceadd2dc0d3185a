"""`decide`: which after-sales rule applies to an order and a buyer's situation, and what follows.

Rule families and their precedence (see the policy specification):

- service complaints: S3 (where else to complain), S2 (overdue earlier ticket / Nth contact), S1;
- an order already refunded or cancelled: X1 (`info`), for every other family;
- logistics, and any complaint about an order not yet delivered: L6, L5, L3, L4, L7/L1, L2/L1
  (on a delivered order a logistics complaint other than damage or an address change is read
  as "tracking says signed, buyer has nothing": L4);
- returns without a reason (including apparel size problems): N2, N3, N4, then N1;
- quality: Q8, Q7, Q6, Q9, then Q1–Q5 by date.

Day counts are whole calendar days from the reference date to `today` (the reference day is
day 0) and a window of N days covers day 0..N. Quality windows and no-reason returns count from
delivery; the warranty counts from the ship date for cross-border orders and from delivery for
domestic ones (both configurable); a cross-border order without a ship date falls back to its
delivery date. See `bot.policy.model` for how evidence, missing facts and refund timing are
represented in a `Decision`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Dict, Optional, Tuple
from zoneinfo import ZoneInfo

from bot.domain.vocabulary import (
    ComplaintCategory,
    OrderStatus,
    Priority,
    ProductCategory,
    Remedy,
    ShippingPayer,
    SubIssue,
)
from bot.policy import explanations
from bot.policy.config import WARRANTY_FROM_DELIVERED, WARRANTY_FROM_SHIPPED, PolicyConfig
from bot.policy.model import (
    ORDER_CLOSED_RULE,
    REFUND_AFTER_APPROVAL,
    REFUND_AFTER_RETURN,
    REFUND_FROM_TODAY,
    Decision,
    OrderFacts,
    Situation,
)
from bot.policy.workdays import add_working_days

CLOSED_STATUSES = (OrderStatus.REFUNDED, OrderStatus.CANCELLED)
REFUND_REMEDIES = (Remedy.RETURN_REFUND, Remedy.REFUND_ONLY)
RETURNED_ITEM_REMEDIES = (Remedy.RETURN_REFUND, Remedy.EXCHANGE)
# decisions that leave the shop's people nothing to do open no ticket (policy: "Which decisions
# open a ticket"); a buyer who objects is handed over with the decision instead
NO_WORK_REMEDIES = (Remedy.INFO, Remedy.REJECT)
# rules under which the shop checks first: the other remedies are offered only after the check
CHECK_FIRST_RULES = ("L4",)
# rules whose one remedy the buyer may also decline (L7: refund, or keep waiting for the parcel)
MAY_KEEP_WAITING_RULES = ("L7",)


def buyer_choices(rule_id: str, remedies: Tuple[Remedy, ...]) -> Tuple[Remedy, ...]:
    """The remedies the buyer picks from now (an `investigate` always runs, it is no choice)."""
    if rule_id in CHECK_FIRST_RULES:
        return ()
    return tuple(r for r in remedies if r not in NO_WORK_REMEDIES and r is not Remedy.INVESTIGATE)


def settled_remedy(rule_id: str, remedies: Tuple[Remedy, ...]) -> Optional[Remedy]:
    """The remedy recorded at once, without asking: the only choice, or the check that comes
    first; None when the buyer has two or more to pick from, or the decision leaves no work."""
    choices = buyer_choices(rule_id, remedies)
    if len(choices) == 1 and rule_id not in MAY_KEEP_WAITING_RULES:
        return choices[0]
    if not choices and Remedy.INVESTIGATE in remedies:
        return Remedy.INVESTIGATE
    return None


SECONDARY_RULE_S2 = "S2"


class OrderFactsError(ValueError):
    """The order facts contradict each other (e.g. delivered without a delivery date)."""


@dataclass(frozen=True)
class _Outcome:
    rule_id: str
    template: str
    remedies: Tuple[Remedy, ...]
    shipping_payer: ShippingPayer
    missing_facts: Tuple[str, ...] = ()
    escalate: bool = False
    action_hours: Optional[int] = None


@dataclass(frozen=True)
class _Dates:
    days_since_delivery: Optional[int]
    days_since_shipment: Optional[int]
    warranty_start_kind: str
    days_since_warranty_start: Optional[int]
    warranty_end: Optional[date]


def decide(
    order: OrderFacts,
    situation: Situation,
    today: date,
    policy: PolicyConfig,
    now: Optional[datetime] = None,
) -> Decision:
    """Apply the policy. `now` (for deadlines and the shipping-hours rule) defaults to the current
    time in the shop's time zone, or to the start of `today` when `today` is another day."""
    now = _resolve_now(today, now)
    dates = _dates(order, today, policy)
    outcome = _primary_outcome(order, situation, today, now, policy, dates)
    return _finish(outcome, order, situation, today, now, policy, dates)


def _primary_outcome(
    order: OrderFacts, situation: Situation, today: date, now: datetime, policy: PolicyConfig, dates: _Dates
) -> _Outcome:
    family = situation.rule_family
    if family is ComplaintCategory.SERVICE or _complains_of_handling_again(situation):
        # "又是我，上回说补发，到现在也没动静，效率太低": the buyer came back about the order and
        # complains of how it is handled: a service complaint (S1, or S2 on the third contact)
        return _service_rule(situation, policy)
    if order.status in CLOSED_STATUSES:
        return _closed_order(order, situation)
    if family is ComplaintCategory.LOGISTICS or order.status is not OrderStatus.DELIVERED:
        return _logistics_rule(order, situation, today, now, policy, dates)
    if dates.days_since_delivery is None:
        raise OrderFactsError(f"订单 {order.order_id} 状态为已签收，但没有签收日期")
    if family is ComplaintCategory.NO_REASON:
        return _no_reason_rule(order, situation, policy, dates)
    return _quality_rule(order, situation, policy, dates)


# --- rule families -------------------------------------------------------------------------


def _quality_rule(order: OrderFacts, situation: Situation, policy: PolicyConfig, dates: _Dates) -> _Outcome:
    mentioned = situation.mentioned
    repairable = policy.is_repairable(order.item_category)
    if SubIssue.SAFETY in mentioned:
        return _Outcome("Q8", "Q8", (Remedy.RETURN_REFUND,), ShippingPayer.SELLER)
    if SubIssue.COUNTERFEIT in mentioned:
        return _Outcome("Q7", "Q7", (Remedy.RETURN_REFUND,), ShippingPayer.SELLER)
    if SubIssue.HUMAN_DAMAGE in mentioned:
        if repairable:
            return _Outcome("Q6", "Q6_paid_repair", (Remedy.PAID_REPAIR,), ShippingPayer.BUYER)
        return _Outcome("Q6", "Q6_reject", (Remedy.REJECT,), ShippingPayer.NONE)

    days, since_warranty_start = dates.days_since_delivery, dates.days_since_warranty_start
    assert days is not None and since_warranty_start is not None  # delivered: checked in _primary_outcome
    in_warranty = since_warranty_start <= policy.warranty_days[order.item_category]
    if order.item_category is ProductCategory.FRESH and in_warranty:
        return _Outcome("Q9", "Q9", (Remedy.REFUND_ONLY, Remedy.RESHIP), ShippingPayer.NONE)
    if not in_warranty:
        if repairable:
            return _Outcome("Q5", "Q5_paid_repair", (Remedy.PAID_REPAIR,), ShippingPayer.BUYER)
        return _Outcome("Q5", "Q5_reject", (Remedy.REJECT,), ShippingPayer.NONE)

    if days <= policy.quality_return_window_days:
        return _Outcome("Q1", "Q1", (Remedy.RETURN_REFUND, Remedy.EXCHANGE), ShippingPayer.SELLER)
    if days <= policy.quality_exchange_window_days:
        remedies = (Remedy.EXCHANGE, Remedy.REPAIR) if repairable else (Remedy.EXCHANGE,)
        return _Outcome("Q2", "Q2", remedies, ShippingPayer.SELLER)
    if not repairable:
        return _Outcome("Q4", "Q4", (Remedy.EXCHANGE,), ShippingPayer.SELLER)
    if situation.repeated_fault_after_repair:
        return _Outcome(
            "Q3", "Q3_repeated", (Remedy.EXCHANGE, Remedy.RETURN_REFUND), ShippingPayer.SELLER, escalate=True
        )
    return _Outcome("Q3", "Q3", (Remedy.REPAIR,), ShippingPayer.SELLER)


def _no_reason_rule(order: OrderFacts, situation: Situation, policy: PolicyConfig, dates: _Dates) -> _Outcome:
    category = order.item_category
    if not policy.allows_no_reason_return(category):
        return _Outcome("N2", "N2", (Remedy.REJECT,), ShippingPayer.NONE)
    assert dates.days_since_delivery is not None  # delivered: checked in _primary_outcome
    if dates.days_since_delivery > policy.no_reason_window_days:
        return _Outcome("N3", "N3", (Remedy.REJECT,), ShippingPayer.NONE)
    if situation.item_unused is False:
        return _Outcome("N4", "N4", (Remedy.REJECT,), ShippingPayer.NONE)
    size_exchange = situation.sub_issue is SubIssue.SIZE and category is ProductCategory.APPAREL
    remedies = (Remedy.RETURN_REFUND, Remedy.EXCHANGE) if size_exchange else (Remedy.RETURN_REFUND,)
    missing = ("item_unused",) if situation.item_unused is None else ()
    return _Outcome("N1", "N1", remedies, ShippingPayer.BUYER, missing_facts=missing)


def _logistics_rule(
    order: OrderFacts, situation: Situation, today: date, now: datetime, policy: PolicyConfig, dates: _Dates
) -> _Outcome:
    sub_issue = situation.sub_issue
    status = order.status
    if sub_issue is SubIssue.ADDRESS_CHANGE:
        if status is OrderStatus.AWAITING_SHIPMENT:
            return _Outcome("L6", "L6_not_shipped", (Remedy.INFO,), ShippingPayer.NONE)
        return _Outcome("L6", "L6_shipped", (Remedy.INVESTIGATE,), ShippingPayer.NONE)
    if sub_issue is SubIssue.DAMAGED_IN_TRANSIT:
        return _Outcome("L5", "L5", (Remedy.RESHIP, Remedy.RETURN_REFUND), ShippingPayer.SELLER)
    if status is OrderStatus.LOST:
        return _Outcome("L3", "L3", (Remedy.RESHIP, Remedy.REFUND_ONLY), ShippingPayer.NONE)
    if status is OrderStatus.DELIVERED:
        return _Outcome(
            "L4",
            "L4",
            (Remedy.INVESTIGATE, Remedy.RESHIP, Remedy.REFUND_ONLY),
            ShippingPayer.NONE,
            action_hours=policy.delivery_check_hours,
        )
    if status is OrderStatus.AWAITING_SHIPMENT:
        return _not_shipped_rule(order, situation, today, now, policy)
    if dates.days_since_shipment is None:
        raise OrderFactsError(f"订单 {order.order_id} 状态为运输中，但没有发货日期")
    if dates.days_since_shipment > _promised_days(order, policy):
        return _Outcome("L2", "L2", (Remedy.INVESTIGATE, Remedy.RESHIP, Remedy.REFUND_ONLY), ShippingPayer.NONE)
    return _Outcome("L1", "L1_in_transit", (Remedy.INFO,), ShippingPayer.NONE)


def _not_shipped_rule(
    order: OrderFacts, situation: Situation, today: date, now: datetime, policy: PolicyConfig
) -> _Outcome:
    hours = hours_since_payment(order.paid_at, today, now)
    if hours is not None and hours > policy.ship_within_hours:
        return _Outcome(
            "L7", "L7", (Remedy.REFUND_ONLY,), ShippingPayer.NONE, action_hours=policy.stockout_contact_hours
        )
    return _Outcome(
        "L1",
        "L1_awaiting_shipment",
        (Remedy.INFO,),
        ShippingPayer.NONE,
        missing_facts=("paid_at",) if hours is None else (),
    )


def _service_rule(situation: Situation, policy: PolicyConfig) -> _Outcome:
    if SubIssue.WHERE_TO_COMPLAIN in situation.mentioned:
        return _Outcome("S3", "S3", (Remedy.INFO,), ShippingPayer.NONE)
    if _s2_applies(situation, policy):
        return _Outcome("S2", "S2", (Remedy.INVESTIGATE,), ShippingPayer.NONE)
    return _Outcome("S1", "S1", (Remedy.INVESTIGATE,), ShippingPayer.NONE, action_hours=policy.supervisor_reply_hours)


def _closed_order(order: OrderFacts, situation: Situation) -> _Outcome:
    template = f"{ORDER_CLOSED_RULE}_{order.status.value}"
    return _Outcome(ORDER_CLOSED_RULE, template, (Remedy.INFO,), ShippingPayer.NONE)


HANDLING_SUB_ISSUES = frozenset({SubIssue.SLOW, SubIssue.NO_REPLY, SubIssue.SHIRKING, SubIssue.RUDE})
SERVICE_RULES = frozenset({"S1", "S2", "S3"})


def _complains_of_handling_again(situation: Situation) -> bool:
    came_back = situation.repeat_contacts >= 1 or situation.earlier_ticket_overdue
    return came_back and any(issue in HANDLING_SUB_ISSUES for issue in situation.mentioned)


def _s2_applies(situation: Situation, policy: PolicyConfig) -> bool:
    this_contact_number = situation.repeat_contacts + 1
    return situation.earlier_ticket_overdue or this_contact_number >= policy.urgent_contact_number


# --- what every decision carries -----------------------------------------------------------


def _finish(
    outcome: _Outcome,
    order: OrderFacts,
    situation: Situation,
    today: date,
    now: datetime,
    policy: PolicyConfig,
    dates: _Dates,
) -> Decision:
    secondary = (SECONDARY_RULE_S2,) if outcome.rule_id != SECONDARY_RULE_S2 and _s2_applies(situation, policy) else ()
    applied = (outcome.rule_id,) + secondary
    evidence_required = outcome.rule_id in policy.evidence_required_rules and not situation.evidence_given
    missing_facts = outcome.missing_facts + (("evidence",) if evidence_required else ())
    escalate = (
        outcome.escalate or situation.buyer_asks_for_human or any(rule in policy.escalate_rules for rule in applied)
    )
    refund_days, refund_from, refund_due = _refund_timing(outcome, order, today, policy, missing_facts)
    returns_item = any(r in RETURNED_ITEM_REMEDIES for r in outcome.remedies)
    return_hours = policy.return_processing_hours if returns_item else None
    decision_fields: Dict[str, Any] = dict(
        rule_id=outcome.rule_id,
        remedies=outcome.remedies,
        shipping_payer=outcome.shipping_payer,
        evidence_required=evidence_required,
        missing_facts=missing_facts,
        priority=_priority(applied, order, policy),
        escalate=escalate,
        warranty_end=dates.warranty_end,
        refund_due=refund_due,
        refund_working_days=refund_days,
        first_response_due=now + timedelta(hours=policy.first_response_hours),
        resolution_due=now + timedelta(days=policy.resolution_days),
        return_processing_hours=return_hours,
        opens_ticket=any(remedy not in NO_WORK_REMEDIES for remedy in outcome.remedies),
        refund_counted_from=refund_from,
        action_due=now + timedelta(hours=outcome.action_hours) if outcome.action_hours is not None else None,
        days_since_delivery=dates.days_since_delivery,
        days_since_shipment=dates.days_since_shipment,
        secondary_rules=secondary,
    )
    explanation = _explain(outcome, order, policy, dates, decision_fields)
    return Decision(explanation=explanation, **decision_fields)


def _priority(applied_rules: Tuple[str, ...], order: OrderFacts, policy: PolicyConfig) -> Priority:
    if any(rule in policy.urgent_rules for rule in applied_rules):
        return Priority.URGENT
    if any(rule in policy.high_rules for rule in applied_rules):
        return Priority.HIGH
    if order.order_total >= policy.high_value_threshold_cny:
        return Priority.HIGH
    return Priority.NORMAL


def _refund_timing(
    outcome: _Outcome, order: OrderFacts, today: date, policy: PolicyConfig, missing_facts: Tuple[str, ...]
) -> Tuple[Optional[int], Optional[str], Optional[date]]:
    remedies = outcome.remedies
    if not any(r in REFUND_REMEDIES for r in remedies):
        return None, None, None
    working_days = policy.refund_working_days[order.payment_method]
    if Remedy.REFUND_ONLY not in remedies:
        return working_days, REFUND_AFTER_RETURN, None
    if missing_facts or Remedy.INVESTIGATE in remedies:
        return working_days, REFUND_AFTER_APPROVAL, None
    return working_days, REFUND_FROM_TODAY, add_working_days(today, working_days)


# --- dates ---------------------------------------------------------------------------------


def _dates(order: OrderFacts, today: date, policy: PolicyConfig) -> _Dates:
    delivered = _day(order.delivered_at)
    shipped = _day(order.shipped_at)
    start_kind = policy.warranty_starts_from(order.cross_border)
    start = shipped if start_kind == WARRANTY_FROM_SHIPPED else delivered
    if start is None and start_kind == WARRANTY_FROM_SHIPPED:
        start, start_kind = delivered, WARRANTY_FROM_DELIVERED
    warranty_days = policy.warranty_days[order.item_category]
    return _Dates(
        days_since_delivery=_days_between(delivered, today),
        days_since_shipment=_days_between(shipped, today),
        warranty_start_kind=start_kind,
        days_since_warranty_start=_days_between(start, today),
        warranty_end=start + timedelta(days=warranty_days) if start is not None else None,
    )


def _day(value: Optional[date]) -> Optional[date]:
    if isinstance(value, datetime):
        return value.date()
    return value


def _days_between(start: Optional[date], today: date) -> Optional[int]:
    return None if start is None else (today - start).days


def _promised_days(order: OrderFacts, policy: PolicyConfig) -> int:
    if order.promised_delivery_days is not None:
        return order.promised_delivery_days
    return policy.default_promised_delivery_days(order.cross_border)


def hours_since_payment(paid_at: Optional[date], today: date, now: datetime) -> Optional[float]:
    """Hours between payment and now; a payment date without a time counts whole days × 24."""
    if paid_at is None:
        return None
    if isinstance(paid_at, datetime):
        paid = paid_at if paid_at.tzinfo is not None else paid_at.replace(tzinfo=now.tzinfo)
        return (now - paid).total_seconds() / 3600
    return (today - paid_at).days * 24.0


def _resolve_now(today: date, now: Optional[datetime]) -> datetime:
    from bot.config import get_settings

    zone = ZoneInfo(get_settings().timezone)
    if now is None:
        current = datetime.now(zone).replace(microsecond=0)
        return current if current.date() == today else datetime.combine(today, time.min, tzinfo=zone)
    return now if now.tzinfo is not None else now.replace(tzinfo=zone)


# --- explanation ---------------------------------------------------------------------------


def _explain(
    outcome: _Outcome, order: OrderFacts, policy: PolicyConfig, dates: _Dates, decision: Dict[str, Any]
) -> str:
    context = _explanation_context(outcome, order, policy, dates, decision)
    parts = [explanations.render(outcome.template, context)]
    if "item_unused" in decision["missing_facts"]:
        parts.append(explanations.fragment("ask_item_unused", context))
    if "paid_at" in decision["missing_facts"]:
        parts.append(explanations.fragment("ask_paid_at", context))
    if decision["evidence_required"]:
        parts.append(explanations.fragment("evidence_needed", context))
    refund_from = decision["refund_counted_from"]
    if refund_from is not None:
        parts.append(explanations.fragment(_REFUND_FRAGMENTS[refund_from], context))
    if decision["return_processing_hours"] is not None:
        parts.append(explanations.fragment("return_processing", context))
    for rule in decision["secondary_rules"]:
        parts.append(explanations.fragment(f"secondary_{rule}", context))
    if decision["escalate"]:
        parts.append(explanations.fragment("escalate", context))
    return "".join(parts)


_REFUND_FRAGMENTS = {
    REFUND_FROM_TODAY: "refund_from_today",
    REFUND_AFTER_RETURN: "refund_after_return",
    REFUND_AFTER_APPROVAL: "refund_after_approval",
}


def _explanation_context(
    outcome: _Outcome, order: OrderFacts, policy: PolicyConfig, dates: _Dates, decision: Dict[str, Any]
) -> Dict[str, Any]:
    """Only facts that are known go in: a template asking for an unknown one fails loudly."""
    category = order.item_category
    context: Dict[str, Any] = {
        "rule": outcome.rule_id,
        "item": order.item_name or explanations.default_item_name(),
        "category_label": explanations.category_label(category.value),
        "remedies": explanations.join_remedies(outcome.remedies),
        "warranty_days": policy.warranty_days[category],
        "warranty_start_label": explanations.warranty_start_label(dates.warranty_start_kind),
        "quality_return_days": policy.quality_return_window_days,
        "quality_exchange_days": policy.quality_exchange_window_days,
        "no_reason_days": policy.no_reason_window_days,
        "promised_days": _promised_days(order, policy),
        "ship_within_hours": policy.ship_within_hours,
        "check_hours": policy.delivery_check_hours,
        "contact_hours": policy.stockout_contact_hours,
        "supervisor_hours": policy.supervisor_reply_hours,
        "channels": explanations.join_list(policy.complaint_channels),
    }
    for name in ("refund_working_days", "return_processing_hours"):
        if decision[name] is not None:
            context[name] = decision[name]
    if category in policy.no_reason_conditions:
        context["condition"] = policy.no_reason_conditions[category]
    if dates.days_since_delivery is not None:
        context["days_since_delivery"] = dates.days_since_delivery
    if dates.days_since_shipment is not None:
        context["days_since_shipment"] = dates.days_since_shipment
        shipped = _day(order.shipped_at)
        assert shipped is not None  # days_since_shipment counts from it
        context["expected_date"] = explanations.chinese_date(shipped + timedelta(days=_promised_days(order, policy)))
    if dates.warranty_end is not None:
        context["warranty_end"] = explanations.chinese_date(dates.warranty_end)
    if decision["refund_due"] is not None:
        context["refund_due"] = explanations.chinese_date(decision["refund_due"])
    return context
