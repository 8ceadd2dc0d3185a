"""The three values the policy engine works with: the order, the buyer's situation, the decision.

Conventions a reader of a `Decision` needs to know:

- **Evidence**: when a rule needs a photo or video (quality problems, transit damage) and the
  buyer has not given one yet, `evidence_required` is True, `"evidence"` is in `missing_facts`
  and `remedies` lists what *will be offered* once the evidence arrives; nothing is granted yet
  (the ticket starts in `awaiting_evidence`).
- **Missing facts**: `missing_facts` names what the assistant still has to ask
  (`"item_unused"`, `"evidence"`, `"paid_at"`). The remedies are then conditional on the answer.
- **Refund timing**: `refund_working_days` is set whenever a refund is among the remedies
  (online payment and cash on delivery have their own number of working days in the policy
  file). `refund_counted_from` says from when they count:
  `"today"` (nothing has to come back and nothing is pending: `refund_due` is the date),
  `"item_returned"` (after the returned item arrives: `refund_due` is None) or
  `"approval"` (after the evidence / investigation is approved: `refund_due` is None).
- **Secondary rules**: S2 (overdue earlier ticket, third contact) also applies on top of a
  quality, return or logistics rule; it is then listed in `secondary_rules` and raises the
  priority and escalation while the primary rule keeps its remedies.
- **Closed orders**: an order already refunded or cancelled gets rule `X1` (an `info`
  decision telling the buyer so), except for service complaints, which are judged as usual.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import Enum
from typing import Any, Dict, Optional, Tuple

from bot.domain.vocabulary import (
    SUB_ISSUE_CATEGORY,
    ComplaintCategory,
    OrderStatus,
    PaymentMethod,
    Priority,
    ProductCategory,
    Remedy,
    ShippingPayer,
    SubIssue,
)

QUALITY_RULES = tuple(f"Q{n}" for n in range(1, 10))
NO_REASON_RULES = tuple(f"N{n}" for n in range(1, 5))
LOGISTICS_RULES = tuple(f"L{n}" for n in range(1, 8))
SERVICE_RULES = tuple(f"S{n}" for n in range(1, 4))
ORDER_CLOSED_RULE = "X1"
RULE_IDS = QUALITY_RULES + NO_REASON_RULES + LOGISTICS_RULES + SERVICE_RULES + (ORDER_CLOSED_RULE,)

REFUND_FROM_TODAY = "today"
REFUND_AFTER_RETURN = "item_returned"
REFUND_AFTER_APPROVAL = "approval"


@dataclass(frozen=True)
class OrderFacts:
    """The order as the policy sees it, for the one item the buyer is talking about.

    Enum fields also accept their string values ("delivered", "cod", "digital").

    `paid_at` may also be a `datetime` (a subclass of `date`); the 48-hour shipping rule then
    counts real hours instead of whole days.
    """

    order_id: str
    cross_border: bool
    payment_method: PaymentMethod
    status: OrderStatus
    paid_at: Optional[date]
    shipped_at: Optional[date]
    delivered_at: Optional[date]
    promised_delivery_days: Optional[int]
    order_total: float
    item_category: ProductCategory
    item_name: str = ""
    item_price: float = 0.0

    def __post_init__(self) -> None:
        _coerce(self, "payment_method", PaymentMethod)
        _coerce(self, "status", OrderStatus)
        _coerce(self, "item_category", ProductCategory)


@dataclass(frozen=True)
class Situation:
    """What the buyer says about the order.

    `sub_issue` is the main problem; `also_mentioned` lists further problems raised in the same
    complaint (e.g. "I dropped it and now it smokes": human damage and a safety hazard), so the
    quality precedence Q8, Q7, Q6 can be applied to all of them.
    """

    category: ComplaintCategory
    sub_issue: Optional[SubIssue] = None
    evidence_given: bool = False
    item_unused: Optional[bool] = None
    repeat_contacts: int = 0
    earlier_ticket_overdue: bool = False
    repeated_fault_after_repair: bool = False
    buyer_asks_for_human: bool = False
    also_mentioned: Tuple[SubIssue, ...] = ()

    def __post_init__(self) -> None:
        _coerce(self, "category", ComplaintCategory)
        if self.sub_issue is not None:
            _coerce(self, "sub_issue", SubIssue)
        object.__setattr__(self, "also_mentioned", tuple(SubIssue(s) for s in self.also_mentioned))

    @classmethod
    def from_sub_issue(cls, sub_issue: SubIssue, **details: Any) -> "Situation":
        """A situation whose complaint category follows from the sub-issue alone."""
        return cls(category=SUB_ISSUE_CATEGORY[sub_issue], sub_issue=sub_issue, **details)

    @property
    def mentioned(self) -> Tuple[SubIssue, ...]:
        """Every sub-issue the buyer raised: the main one first, then `also_mentioned`."""
        main = (self.sub_issue,) if self.sub_issue is not None else ()
        return main + tuple(s for s in self.also_mentioned if s is not self.sub_issue)

    @property
    def rule_family(self) -> ComplaintCategory:
        """The family of rules that judges this situation. The sub-issue is more specific than
        the category (a size problem reported as `quality` is still a no-reason return), and a
        fault mentioned alongside a no-reason return or size problem makes it a quality case."""
        if self.sub_issue is None:
            return self.category
        family = SUB_ISSUE_CATEGORY[self.sub_issue]
        if family is ComplaintCategory.NO_REASON and any(
            SUB_ISSUE_CATEGORY[s] is ComplaintCategory.QUALITY for s in self.also_mentioned
        ):
            return ComplaintCategory.QUALITY
        return family


@dataclass(frozen=True)
class Decision:
    """What the policy says. Besides the fields every caller needs (rule, remedies, shipping,
    evidence, priority, escalation, dates, explanation) it carries:

    - `opens_ticket`: False for decisions that leave the shop no work: `info` (L1 within the
      promised time, L6 not shipped, S3, X1) and `reject` (N2-N4, Q5/Q6 without repair);
    - `refund_counted_from`: see the module docstring;
    - `action_due`: the rule's own deadline (S1 supervisor reply, L4 carrier check, L7 call);
    - `days_since_delivery` / `days_since_shipment`: the day counts the rule was judged on;
    - `secondary_rules`: rules applied on top of `rule_id` (S2).
    """

    rule_id: str
    remedies: Tuple[Remedy, ...]
    shipping_payer: ShippingPayer
    evidence_required: bool
    missing_facts: Tuple[str, ...]
    priority: Priority
    escalate: bool
    warranty_end: Optional[date]
    refund_due: Optional[date]
    refund_working_days: Optional[int]
    first_response_due: datetime
    resolution_due: datetime
    return_processing_hours: Optional[int]
    explanation: str
    opens_ticket: bool = True
    refund_counted_from: Optional[str] = None
    action_due: Optional[datetime] = None
    days_since_delivery: Optional[int] = None
    days_since_shipment: Optional[int] = None
    secondary_rules: Tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> Dict[str, Any]:
        return {f.name: _json_value(getattr(self, f.name)) for f in fields(self)}


def _coerce(instance: Any, name: str, kind: type) -> None:
    """Accept the plain string value of an enum (e.g. "delivered" from a database row)."""
    object.__setattr__(instance, name, kind(getattr(instance, name)))


def _json_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    return value
