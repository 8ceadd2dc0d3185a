"""After-sales tickets: opening (idempotently), changes, evidence and satisfaction. Every change
of a ticket writes a `TicketEvent` naming the actor.

Where a ticket may go, and every move it makes, is decided in ONE place: the ticket model,
bot/domain/tickets.py (`TICKET_TRANSITIONS` and `TicketLifecycle`). The functions here load the
row, make the move on the model and save it with bot/services/ticket_store.py; any status
change the life cycle does not allow raises `InvalidTransition`.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.tables import Evidence, Order, OrderItem, SatisfactionScore, Ticket, TicketEvent
from bot.db.types import utcnow
from bot.domain.tickets import TICKET_TRANSITIONS, TicketLifecycle, allowed_transitions, opening_status  # noqa: F401  (part of the ticket API)
from bot.domain.vocabulary import (
    ACTIVE_TICKET_STATUSES,
    LABELS_ZH,
    ComplaintCategory,
    Priority,
    Remedy,
    ShippingPayer,
    SubIssue,
    TicketStatus,
)
from bot.services.clock import shop_date, shop_zone
from bot.services import ticket_store
from bot.services.errors import InvalidChange, InvalidScore, ServiceError, TicketNotFound
from bot.services.ticket_store import write_event as _write_event

TICKET_NUMBER_PREFIX = "AS"
_TICKET_NUMBER_ATTEMPTS = 8
TICKET_NUMBERS_PER_DAY = 10_000
_SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")

TICKET_STATUS_LABELS = LABELS_ZH["ticket_status"]

# fields update_ticket may change, with the check each value must pass
_CHANGEABLE_FIELDS = (
    "chosen_remedy",
    "offered_remedies",
    "priority",
    "escalate",
    "shipping_payer",
    "rule_id",
    "sub_issue",
    "decision_explanation",
    "description",
    "first_response_due",
    "resolution_due",
    "refund_due",
    "warranty_end",
)


@dataclass(frozen=True)
class TicketDecision:
    """The parts of a policy decision a ticket records. `from_decision` accepts any object with
    these attribute names (e.g. `bot.policy.Decision`, whose `remedies`/`explanation` map to
    `offered_remedies`/`decision_explanation`)."""

    rule_id: Optional[str] = None
    remedies: Tuple[str, ...] = ()
    shipping_payer: Optional[str] = None
    evidence_required: bool = False
    priority: str = Priority.NORMAL.value
    escalate: bool = False
    first_response_due: Optional[datetime] = None
    resolution_due: Optional[datetime] = None
    refund_due: Optional[date] = None
    warranty_end: Optional[date] = None
    explanation: Optional[str] = None

    @classmethod
    def from_decision(cls, decision: Any) -> "TicketDecision":
        if isinstance(decision, cls):
            return decision
        values = {name: getattr(decision, name) for name in cls.__dataclass_fields__ if hasattr(decision, name)}
        values["remedies"] = tuple(_text(remedy) for remedy in values.get("remedies") or ())
        for name in ("shipping_payer", "priority"):
            if values.get(name) is not None:
                values[name] = _text(values[name])
        return cls(**values)


@dataclass(frozen=True)
class EvidenceFile:
    """A received photo/video (or other file) to attach to a ticket."""

    reference: str  # path under the evidence directory, or a URL
    sha256: str
    size_bytes: Optional[int] = None
    media_type: Optional[str] = None
    original_filename: Optional[str] = None

    @classmethod
    def from_path(
        cls, path: Path, *, reference: Optional[str] = None, media_type: Optional[str] = None
    ) -> "EvidenceFile":
        path = Path(path)
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                digest.update(chunk)
        return cls(
            reference=reference or str(path),
            sha256=digest.hexdigest(),
            size_bytes=path.stat().st_size,
            media_type=media_type or mimetypes.guess_type(path.name)[0],
            original_filename=path.name,
        )


# ---- reading ----------------------------------------------------------------------------


def normalize_ticket_number(ticket_number: str) -> str:
    return str(ticket_number).strip().upper()


def find_ticket(session: Session, ticket_number: str) -> Optional[Ticket]:
    number = normalize_ticket_number(ticket_number)
    return session.execute(select(Ticket).where(Ticket.ticket_number == number)).scalar_one_or_none()


def require_ticket(session: Session, ticket_number: str) -> Ticket:
    ticket = find_ticket(session, ticket_number)
    if ticket is None:
        raise TicketNotFound(normalize_ticket_number(ticket_number))
    return ticket


def tickets_for_order(session: Session, order: Order) -> List[Ticket]:
    return list(session.execute(select(Ticket).where(Ticket.order_id == order.id).order_by(Ticket.id)).scalars())


def open_tickets_for_conversation(session: Session, conversation_id: str) -> List[Ticket]:
    """The conversation's tickets that are still in progress (not resolved or closed)."""
    return list(
        session.execute(
            select(Ticket)
            .where(Ticket.conversation_id == conversation_id, Ticket.status.in_(ACTIVE_TICKET_STATUSES))
            .order_by(Ticket.id)
        ).scalars()
    )


def list_tickets(session: Session, *, status: Optional[str] = None, limit: Optional[int] = 50) -> List[Ticket]:
    """Newest first, optionally of one status."""
    query = select(Ticket).order_by(Ticket.id.desc())
    if status is not None:
        query = query.where(Ticket.status == _vocabulary_value(TicketStatus, status, "status"))
    if limit is not None:
        query = query.limit(limit)
    return list(session.execute(query).scalars())


def is_active(ticket: Ticket) -> bool:
    return ticket.status in ACTIVE_TICKET_STATUSES


# ---- opening ----------------------------------------------------------------------------


def open_ticket(
    session: Session,
    *,
    order: Optional[Order],
    category: str,
    conversation_id: Optional[str] = None,
    item: Optional[OrderItem] = None,
    sub_issue: Optional[str] = None,
    decision: Any = None,
    channel: Optional[str] = None,
    description: Optional[str] = None,
    evidence: Iterable[EvidenceFile] = (),
    actor: str = "bot",
    now: Optional[datetime] = None,
    zone: Optional[ZoneInfo] = None,
) -> Tuple[Ticket, bool]:
    """Open a ticket, or return the one already in progress: `(ticket, created)`.

    Idempotent per (conversation_id, order, category) while that ticket is not resolved or
    closed; a partial unique index guards the same rule against concurrent callers. Evidence
    given with a repeated call is attached to the existing ticket (duplicates are skipped).
    `decision` is a `bot.policy.Decision`, a `TicketDecision` or None (no rule applied yet).
    """
    now = now or utcnow()
    category = _vocabulary_value(ComplaintCategory, category, "category")
    sub_issue = _vocabulary_value(SubIssue, sub_issue, "sub_issue") if sub_issue is not None else None
    if order is not None and order.id is None:
        session.flush()
    if item is not None and (order is None or item.order_id != order.id):
        raise InvalidChange(f"商品 {item.sku} 不属于订单 {order.order_number if order is not None else '（无）'}。")
    plan = TicketDecision.from_decision(decision) if decision is not None else TicketDecision()
    remedies = [_vocabulary_value(Remedy, remedy, "offered_remedies") for remedy in plan.remedies]
    evidence = list(evidence)
    initial_status = opening_status(bool(plan.evidence_required), bool(evidence))

    for _ in range(_TICKET_NUMBER_ATTEMPTS):
        existing = _active_ticket(session, conversation_id, order, category)
        if existing is not None:
            for piece in evidence:
                add_evidence(session, existing, piece, actor=actor, now=now)
            return existing, False
        ticket = Ticket(
            ticket_number=_next_ticket_number(session, now, zone),
            order_id=order.id if order is not None else None,
            item_id=item.id if item is not None else None,
            item_sku=item.sku if item is not None else None,
            category=category,
            sub_issue=sub_issue,
            rule_id=plan.rule_id,
            offered_remedies=remedies,
            shipping_payer=_vocabulary_value(ShippingPayer, plan.shipping_payer, "shipping_payer")
            if plan.shipping_payer is not None
            else None,
            evidence_required=bool(plan.evidence_required),
            status=initial_status.value,
            priority=_vocabulary_value(Priority, plan.priority, "priority"),
            escalate=bool(plan.escalate),
            first_response_due=plan.first_response_due,
            resolution_due=plan.resolution_due,
            refund_due=_calendar_date(plan.refund_due, zone),
            warranty_end=_calendar_date(plan.warranty_end, zone),
            conversation_id=conversation_id,
            channel=_text(channel) if channel is not None else None,
            description=description,
            decision_explanation=plan.explanation,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(ticket)
        except IntegrityError:
            # a concurrent caller took this ticket number or opened the same ticket: look again
            continue
        _write_event(
            session,
            ticket,
            actor,
            from_status=None,
            to_status=ticket.status,
            details={"rule_id": ticket.rule_id, "offered_remedies": remedies, "priority": ticket.priority},
            note="工单创建",
            now=now,
        )
        for piece in evidence:
            _store_evidence(session, ticket, piece, actor, now)
        return ticket, True
    raise ServiceError("工单创建失败：多次尝试仍与其他请求冲突，请稍后重试。")


def _active_ticket(
    session: Session, conversation_id: Optional[str], order: Optional[Order], category: str
) -> Optional[Ticket]:
    if conversation_id is None:
        return None
    return session.execute(
        select(Ticket).where(
            Ticket.conversation_id == conversation_id,
            Ticket.order_id == order.id if order is not None else Ticket.order_id.is_(None),
            Ticket.category == category,
            Ticket.status.in_(ACTIVE_TICKET_STATUSES),
        )
    ).scalar_one_or_none()


def _next_ticket_number(session: Session, now: datetime, zone: Optional[ZoneInfo]) -> str:
    """AS + shop-local date + 4 random digits (AS202611218305): the visible format buyers are
    told, but a number says nothing about its neighbours, so tickets cannot be walked one by
    one. Numbers taken that day are skipped; a concurrent caller taking the same one raises
    IntegrityError and the caller draws again."""
    prefix = f"{TICKET_NUMBER_PREFIX}{shop_date(now, zone or shop_zone()):%Y%m%d}"
    taken = set(session.execute(select(Ticket.ticket_number).where(Ticket.ticket_number.like(prefix + "%"))).scalars())
    free = TICKET_NUMBERS_PER_DAY - sum(1 for number in taken if len(number) == len(prefix) + 4)
    if free <= 0:
        raise ServiceError("今天的工单号已用完，请联系店铺管理员。")
    while True:
        candidate = f"{prefix}{secrets.randbelow(TICKET_NUMBERS_PER_DAY):04d}"
        if candidate not in taken:
            return candidate


# ---- life cycle and changes ---------------------------------------------------------------


def change_status(
    session: Session,
    ticket: Ticket,
    new_status: str,
    actor: str,
    note: Optional[str] = None,
    *,
    now: Optional[datetime] = None,
) -> Optional[TicketEvent]:
    """A person (an agent in the console, staff with the CLI) moves `ticket` to `new_status` if
    the life cycle allows it; None when it is already there. The buyer is told once the
    transaction commits (the `TicketStatusSet` event's handler, bot/bootstrap.py)."""
    now = now or utcnow()
    target = _vocabulary_value(TicketStatus, new_status, "status")
    model = ticket_store.lifecycle(ticket)
    if not model.set_status_by_person(target, actor, now, note):
        return None
    return ticket_store.save(session, ticket, model)


def choose_remedy(session: Session, ticket: Ticket, remedy: Any, actor: str, *, now: Optional[datetime] = None) -> None:
    """The remedy is settled (picked by the buyer, or the only one); a return or an exchange then
    waits for the item to come back."""
    model = ticket_store.lifecycle(ticket)
    model.require_changeable()
    remedy = _vocabulary_value(Remedy, remedy, "chosen_remedy")
    model.choose_remedy(remedy, actor, now or utcnow())
    ticket_store.save(session, ticket, model)


def handoff_requested(
    session: Session, ticket: Ticket, reason: str, actor: str, *, now: Optional[datetime] = None
) -> None:
    ticket_store.apply(session, ticket, lambda model: model.handoff_requested(reason, actor, now or utcnow()))


def withdraw(session: Session, ticket: Ticket, reason: str, actor: str, *, now: Optional[datetime] = None) -> bool:
    """Close a ticket opened on the wrong order, if nobody has touched it yet."""
    return ticket_store.apply(session, ticket, lambda model: model.withdraw(reason, actor, now or utcnow()))


def finish_with_agent(
    session: Session,
    ticket: Ticket,
    actor: str,
    *,
    under_way: bool,
    keep_under_way: bool,
    now: Optional[datetime] = None,
) -> Optional[str]:
    """An agent ended the conversation: `TicketLifecycle.finish_with_agent` (KEPT_OPEN, CLOSED or None)."""
    return ticket_store.apply(
        session,
        ticket,
        lambda model: model.finish_with_agent(
            actor, now or utcnow(), under_way=under_way, keep_under_way=keep_under_way
        ),
    )


def add_tracking_number(
    session: Session,
    ticket: Ticket,
    carrier: str,
    tracking_number: str,
    previous: str,
    actor: str,
    *,
    now: Optional[datetime] = None,
) -> None:
    ticket_store.apply(
        session,
        ticket,
        lambda model: model.tracking_number_added(carrier, tracking_number, previous, actor, now or utcnow()),
    )


def update_ticket(
    session: Session,
    ticket: Ticket,
    actor: str,
    *,
    note: Optional[str] = None,
    now: Optional[datetime] = None,
    **changes: Any,
) -> Optional[TicketEvent]:
    """Change remedy, priority, deadlines ... of `ticket`, recording old and new values.

    The bot may only pick a remedy the decision offered; an agent (`agent:<name>`) may pick any.
    A note alone (the buyer's new address, an objection, a message) is recorded too. Returns
    None when nothing changed and there is no note.
    """
    now = now or utcnow()
    unknown = sorted(set(changes) - set(_CHANGEABLE_FIELDS))
    if unknown:
        raise InvalidChange(f"工单字段不可修改或不存在：{', '.join(unknown)}。")
    model = ticket_store.lifecycle(ticket)
    model.require_changeable()
    values = {name: _checked_change(model, name, value, actor) for name, value in changes.items()}
    details = {}
    for name, value in values.items():
        old = getattr(ticket, name)
        if old != value:
            details[name] = {"from": _json_value(old), "to": _json_value(value)}
            setattr(ticket, name, value)
    if not model.record_change(actor, now, details, note):
        return None
    return ticket_store.save(session, ticket, model)


def _checked_change(model: TicketLifecycle, name: str, value: Any, actor: str) -> Any:
    if name == "chosen_remedy":
        if value is None:
            return None
        return model.check_remedy(_vocabulary_value(Remedy, value, name), actor)
    if name == "offered_remedies":
        return [_vocabulary_value(Remedy, remedy, name) for remedy in value or ()]
    if name == "priority":
        return _vocabulary_value(Priority, value, name)
    if name == "shipping_payer":
        return None if value is None else _vocabulary_value(ShippingPayer, value, name)
    if name == "sub_issue":
        return None if value is None else _vocabulary_value(SubIssue, value, name)
    if name == "escalate":
        return bool(value)
    if name in ("refund_due", "warranty_end"):
        return _calendar_date(value, None)
    return value


# ---- evidence -----------------------------------------------------------------------------


def add_evidence(
    session: Session, ticket: Ticket, evidence: EvidenceFile, *, actor: str = "bot", now: Optional[datetime] = None
) -> Tuple[Evidence, bool]:
    """Attach a file to `ticket`: `(evidence, created)`; the same content (sha256) is stored once.

    A ticket waiting for evidence moves to `open`.
    """
    now = now or utcnow()
    model = ticket_store.lifecycle(ticket)
    model.evidence_added(actor, now)
    stored, created = _store_evidence(session, ticket, evidence, actor, now)
    ticket_store.save(session, ticket, model)
    return stored, created


def _store_evidence(
    session: Session, ticket: Ticket, evidence: EvidenceFile, actor: str, now: datetime
) -> Tuple[Evidence, bool]:
    digest = (evidence.sha256 or "").strip().lower()
    if not _SHA256_PATTERN.fullmatch(digest):
        raise InvalidChange(f"凭证的 sha256 校验值无效：{evidence.sha256!r}。")
    existing = _evidence_by_hash(session, ticket, digest)
    if existing is not None:
        return existing, False
    stored = Evidence(
        ticket_id=ticket.id,
        reference=evidence.reference,
        media_type=evidence.media_type,
        size_bytes=evidence.size_bytes,
        sha256=digest,
        original_filename=evidence.original_filename,
        received_at=now,
    )
    try:
        with session.begin_nested():
            session.add(stored)
    except IntegrityError:  # the same upload arrived twice at the same moment
        return _evidence_by_hash(session, ticket, digest), False
    _write_event(
        session,
        ticket,
        actor,
        details={
            "evidence_added": {"sha256": digest, "media_type": evidence.media_type, "reference": evidence.reference}
        },
        note="补充凭证",
        now=now,
    )
    return stored, True


def _evidence_by_hash(session: Session, ticket: Ticket, digest: str) -> Optional[Evidence]:
    return session.execute(
        select(Evidence).where(Evidence.ticket_id == ticket.id, Evidence.sha256 == digest)
    ).scalar_one_or_none()


# ---- satisfaction -------------------------------------------------------------------------


def record_satisfaction(
    session: Session,
    ticket: Ticket,
    score: Any,
    *,
    comment: Optional[str] = None,
    conversation_id: Optional[str] = None,
    actor: str = "bot",
    now: Optional[datetime] = None,
) -> SatisfactionScore:
    """The buyer's 1–5 score for `ticket`; a second score replaces the first (both audited)."""
    now = now or utcnow()
    value = _score_value(score)
    existing = session.execute(
        select(SatisfactionScore).where(SatisfactionScore.ticket_id == ticket.id)
    ).scalar_one_or_none()
    previous = existing.score if existing is not None else None
    if existing is None:
        existing = SatisfactionScore(ticket_id=ticket.id)
        session.add(existing)
    existing.score = value
    existing.comment = comment
    existing.conversation_id = conversation_id or ticket.conversation_id
    existing.at = now
    session.flush()
    change = {"satisfaction": {"from": previous, "to": value}}
    _write_event(session, ticket, actor, details=change, note=comment, now=now)
    return existing


def _score_value(score: Any) -> int:
    if isinstance(score, str) and score.strip().isdigit():
        score = int(score.strip())
    if isinstance(score, float) and score.is_integer():
        score = int(score)
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise InvalidScore(score)
    return score


def audit_record(event: TicketEvent, show_time: Callable[[Optional[datetime]], Optional[str]]) -> Dict[str, Any]:
    """One line of a ticket's audit trail as the console and the CLI show it."""
    return {
        "at": show_time(event.at),
        "actor": event.actor,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "details": event.details,
        "note": event.note,
    }


# ---- helpers ------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return value.value if isinstance(value, Enum) else str(value)


def _vocabulary_value(vocabulary, value: Any, field_name: str) -> str:
    text = _text(value)
    allowed = [member.value for member in vocabulary]
    if text not in allowed:
        raise InvalidChange(f"{field_name} 的取值「{text}」无效，可选：{', '.join(allowed)}。")
    return text


def _calendar_date(value: Any, zone: Optional[ZoneInfo]) -> Optional[date]:
    if value is None:
        return None
    if isinstance(value, datetime):
        return shop_date(value, zone or shop_zone())
    if isinstance(value, date):
        return value
    raise InvalidChange(f"需要日期，收到的是 {value!r}。")


def _json_value(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return value
