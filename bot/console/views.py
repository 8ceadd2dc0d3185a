"""What the agent console shows, read from the orders/tickets database: the queue, one
conversation's order, tickets, evidence and notes, the ticket workspace (list, page, filters)
and the dashboard figures. Reads only: what an agent changes is in bot/console/commands.py.
Every function returns plain dicts ready for JSON; times are ISO-8601 UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.console.accounts import SignedInAgent
from bot.db.tables import (
    Agent as AgentAccount,
    Order,
    ConversationNote,
    Handoff,
    SatisfactionScore,
    Ticket,
    TicketEvent,
)
from bot.db.types import utcnow
from bot.domain.vocabulary import (
    ACTIVE_HANDOFF_STATUSES,
    ACTIVE_TICKET_STATUSES,
    CARRIERS_ZH,
    LABELS_ZH,
    ComplaintCategory,
    HandoffStatus,
    Priority,
    Remedy,
    TicketStatus,
    label_zh,
)
from bot.policy.config import PolicyConfig
from bot.services import handoffs, tickets
from bot.services.errors import InvalidChange
from bot.services.orders import find_order, mask_address, mask_phone

QUEUE_VIEWS = ("waiting", "mine", "all")

# the labels come from the one catalogue, bot/domain/vocabulary.py
REASON_LABELS = LABELS_ZH["handoff_reason"]
HANDOFF_STATUS_LABELS = LABELS_ZH["handoff_status"]
PRIORITY_LABELS = LABELS_ZH["priority"]
CATEGORY_LABELS = LABELS_ZH["category"]
REMEDY_LABELS = LABELS_ZH["remedy"]
CHANNEL_LABELS = LABELS_ZH["channel"]
TICKET_FILTERS = ("status", "category", "rule", "priority", "sla", "channel", "assignee", "q")
SLA_DUE_SOON = timedelta(hours=4)
MAX_TICKET_ROWS = 200


def _iso(moment: Optional[datetime]) -> Optional[str]:
    return moment.isoformat() if moment is not None else None


def sla_deadline(handoff: Handoff, policy: PolicyConfig) -> datetime:
    """When the buyer must have had an agent's answer: the ticket's first-response deadline, or
    for a chat without a ticket the policy's first-response hours from the hand-over."""
    ticket = handoff.ticket
    if ticket is not None and ticket.first_response_due is not None:
        return ticket.first_response_due
    return handoff.created_at + timedelta(hours=policy.first_response_hours)


def handoff_summary(handoff: Handoff, policy: PolicyConfig, now: datetime) -> Dict[str, Any]:
    deadline = sla_deadline(handoff, policy)
    ticket = handoff.ticket
    end = handoff.claimed_at or now
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "status": handoff.status,
        "status_label": HANDOFF_STATUS_LABELS.get(handoff.status, handoff.status),
        "priority": handoff.priority,
        "priority_label": PRIORITY_LABELS.get(handoff.priority, handoff.priority),
        "reason": handoff.reason,
        "reason_label": REASON_LABELS.get(handoff.reason, handoff.reason),
        "channel": handoff.channel,
        "channel_label": CHANNEL_LABELS.get(handoff.channel or "", handoff.channel or "—"),
        "agent": handoff.agent,
        "created_at": _iso(handoff.created_at),
        "claimed_at": _iso(handoff.claimed_at),
        "waiting_seconds": max(0, int((end - handoff.created_at).total_seconds())),
        "sla_deadline": _iso(deadline),
        "sla_breached": handoff.status in ACTIVE_HANDOFF_STATUSES and deadline < now,
        "ticket_number": ticket.ticket_number if ticket is not None else None,
        "category_label": CATEGORY_LABELS.get(ticket.category, ticket.category) if ticket is not None else None,
    }


def queue(
    session: Session, view: str, agent: SignedInAgent, policy: PolicyConfig, *, now: Optional[datetime] = None
) -> List[Dict[str, Any]]:
    """waiting: the unclaimed queue (most urgent, then oldest first); mine: what `agent` holds;
    all: every open hand-over plus the latest 50 finished ones."""
    if view not in QUEUE_VIEWS:
        raise InvalidChange(f"队列视图「{view}」无效，可选：waiting（等待中）、mine（我的）、all（全部）。")
    now = now or utcnow()
    if view == "waiting":
        rows = handoffs.waiting_handoffs(session)
    elif view == "mine":
        rows = list(
            session.execute(
                select(Handoff)
                .where(Handoff.status == HandoffStatus.CLAIMED.value, Handoff.agent == agent.username)
                .order_by(Handoff.claimed_at)
            ).scalars()
        )
    else:
        active = list(
            session.execute(
                select(Handoff).where(Handoff.status.in_(ACTIVE_HANDOFF_STATUSES)).order_by(Handoff.created_at)
            ).scalars()
        )
        finished = list(
            session.execute(
                select(Handoff)
                .where(Handoff.status.in_((HandoffStatus.RETURNED.value, HandoffStatus.RESOLVED.value)))
                .order_by(Handoff.id.desc())
                .limit(50)
            ).scalars()
        )
        rows = active + finished
    return [handoff_summary(row, policy, now) for row in rows]


def latest_handoff(session: Session, conversation_id: str) -> Optional[Handoff]:
    return session.execute(
        select(Handoff).where(Handoff.conversation_id == conversation_id).order_by(Handoff.id.desc()).limit(1)
    ).scalar_one_or_none()


# ---- conversation -------------------------------------------------------------------------


def conversation_details(
    session: Session,
    conversation_id: str,
    policy: PolicyConfig,
    *,
    verified_order_number: Optional[str] = None,
    ticket_numbers: Iterable[str] = (),
    now: Optional[datetime] = None,
) -> Dict[str, Any]:
    now = now or utcnow()
    handoff = latest_handoff(session, conversation_id)
    rows = conversation_tickets(session, conversation_id, ticket_numbers)
    notes = session.execute(
        select(ConversationNote)
        .where(ConversationNote.conversation_id == conversation_id)
        .order_by(ConversationNote.id)
    ).scalars()
    return {
        "conversation_id": conversation_id,
        "handoff": handoff_summary(handoff, policy, now) if handoff is not None else None,
        "verified_order": verified_order(session, verified_order_number),
        "tickets": [ticket_details(ticket) for ticket in rows],
        "notes": [
            {"id": note.id, "author": note.author, "body": note.body, "created_at": _iso(note.created_at)}
            for note in notes
        ],
    }


def conversation_tickets(session: Session, conversation_id: str, ticket_numbers: Iterable[str] = ()) -> List[Ticket]:
    """The tickets opened in the conversation, plus those it is about although another
    conversation opened them (a buyer who comes back about the same order: the tracker's
    ticket slot, the hand-over's ticket)."""
    rows = {
        ticket.id: ticket
        for ticket in session.execute(select(Ticket).where(Ticket.conversation_id == conversation_id)).scalars()
    }
    handoff = latest_handoff(session, conversation_id)
    if handoff is not None and handoff.ticket is not None:
        rows.setdefault(handoff.ticket.id, handoff.ticket)
    for number in ticket_numbers:
        ticket = tickets.find_ticket(session, number) if number else None
        if ticket is not None:
            rows.setdefault(ticket.id, ticket)
    return [rows[key] for key in sorted(rows)]


def ticket_details(ticket: Ticket) -> Dict[str, Any]:
    order = ticket.order
    item = ticket.item
    return {
        "ticket_number": ticket.ticket_number,
        "status": ticket.status,
        "status_label": tickets.TICKET_STATUS_LABELS.get(TicketStatus(ticket.status), ticket.status),
        "allowed_statuses": [
            {"value": status.value, "label": tickets.TICKET_STATUS_LABELS[status]}
            for status in TicketStatus
            if status in tickets.allowed_transitions(ticket.status)
        ],
        "category": ticket.category,
        "category_label": CATEGORY_LABELS.get(ticket.category, ticket.category),
        "sub_issue": ticket.sub_issue,
        "sub_issue_label": label_zh("sub_issue", ticket.sub_issue),
        "assignee": ticket.assignee,
        "conversation_id": ticket.conversation_id,
        "channel": ticket.channel,
        "channel_label": label_zh("channel", ticket.channel),
        "sla": sla_state(ticket, utcnow()),
        "priority": ticket.priority,
        "priority_label": PRIORITY_LABELS.get(ticket.priority, ticket.priority),
        "rule_id": ticket.rule_id,
        "decision_explanation": ticket.decision_explanation,
        "description": ticket.description,
        "offered_remedies": [{"value": r, "label": REMEDY_LABELS.get(r, r)} for r in ticket.offered_remedies or []],
        "chosen_remedy": ticket.chosen_remedy,
        "chosen_remedy_label": REMEDY_LABELS.get(ticket.chosen_remedy or "", None),
        "shipping_payer": ticket.shipping_payer,
        "shipping_payer_label": label_zh("shipping_payer", ticket.shipping_payer),
        "first_response_due": _iso(ticket.first_response_due),
        "resolution_due": _iso(ticket.resolution_due),
        "refund_due": ticket.refund_due.isoformat() if ticket.refund_due else None,
        "warranty_end": ticket.warranty_end.isoformat() if ticket.warranty_end else None,
        "created_at": _iso(ticket.created_at),
        "order": order_summary(order) if order is not None else None,
        "item": {"sku": item.sku, "name": item.name}
        if item is not None
        else ({"sku": ticket.item_sku, "name": None} if ticket.item_sku else None),
        "evidence": [
            {
                "sha256": piece.sha256,
                "url": evidence_url(piece.sha256, piece.reference),
                "media_type": piece.media_type,
                "size": piece.size_bytes,
                "name": piece.original_filename,
                "received_at": _iso(piece.received_at),
            }
            for piece in ticket.evidence
        ],
        "events": [audit_line(event) for event in ticket.events],
        "remedy_choices": [{"value": r.value, "label": REMEDY_LABELS.get(r.value, r.value)} for r in Remedy],
        "priority_choices": [{"value": p.value, "label": PRIORITY_LABELS[p.value]} for p in Priority],
    }


# the audit trail's field names and the vocabulary each field's values come from
_FIELD_VOCABULARY = {
    "chosen_remedy": "remedy",
    "priority": "priority",
    "shipping_payer": "shipping_payer",
    "sub_issue": "sub_issue",
    "category": "category",
}


def audit_line(event: TicketEvent) -> Dict[str, Any]:
    """An audit record with Chinese labels for the statuses, fields and values it names."""
    record = tickets.audit_record(event, _iso)
    record["from_label"] = label_zh("ticket_status", event.from_status) if event.from_status else None
    record["to_label"] = label_zh("ticket_status", event.to_status) if event.to_status else None
    changes = []
    for name, value in (event.details or {}).items():
        field = label_zh("field", name)
        if isinstance(value, dict) and "to" in value:
            kind = _FIELD_VOCABULARY.get(name)
            shown = [
                label_zh(kind, value.get(end)) if kind else ("—" if value.get(end) is None else str(value.get(end)))
                for end in ("from", "to")
            ]
            changes.append(f"{field}：{shown[0]} → {shown[1]}")
        elif name == "sla" and isinstance(value, dict):
            changes.append("SLA：" + {"breached": "已超时", "due_soon": "即将到期"}.get(value.get("state"), "—"))
        elif name == "offered_remedies" and isinstance(value, list):
            changes.append(f"{field}：" + "、".join(label_zh("remedy", item) for item in value))
        elif isinstance(value, (str, int)) and not isinstance(value, bool):
            kind = _FIELD_VOCABULARY.get(name)
            changes.append(f"{field}：{label_zh(kind, value) if kind else value}")
        else:
            changes.append(field)
    record["changes"] = changes
    return record


def order_summary(order) -> Dict[str, Any]:
    """The order as an agent needs it; the phone and address stay masked."""
    return {
        "order_number": order.order_number,
        "customer_id": order.customer_id,
        "buyer_name": order.buyer_name,
        "buyer_phone": mask_phone(order.buyer_phone),
        "address": mask_address(order.address),
        "status": order.status,
        "status_label": label_zh("order_status", order.status),
        "payment_method_label": label_zh("payment_method", order.payment_method),
        "cross_border": order.cross_border,
        "payment_method": order.payment_method,
        "total": str(order.total),
        "paid_at": _iso(order.paid_at),
        "delivered_at": _iso(order.delivered_at),
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "items": [
            {"sku": line.sku, "name": line.name, "quantity": line.quantity, "unit_price": str(line.unit_price)}
            for line in order.items
        ],
    }


def verified_order(session: Session, order_number: Optional[str]) -> Optional[Dict[str, Any]]:
    if not order_number:
        return None
    order = find_order(session, order_number)
    return order_summary(order) if order is not None else None


def evidence_url(sha256: str, reference: Optional[str]) -> str:
    """Evidence is shown through the project's own /evidence/ route, never a buyer-given URL."""
    extension = (reference or "").rsplit(".", 1)[-1].lower() if reference and "." in reference else "bin"
    return f"/evidence/{sha256}.{extension}"


# ---- dashboard ------------------------------------------------------------------------------


def dashboard(session: Session, policy: PolicyConfig, *, now: Optional[datetime] = None) -> Dict[str, Any]:
    now = now or utcnow()
    counts = session.execute(
        select(Ticket.category, Ticket.priority, func.count())
        .where(Ticket.status.in_(ACTIVE_TICKET_STATUSES))
        .group_by(Ticket.category, Ticket.priority)
    ).all()
    by_category: Dict[str, Dict[str, int]] = {}
    for category, priority, count in counts:
        by_category.setdefault(category, {p.value: 0 for p in Priority})[priority] = count
    overdue_tickets = session.execute(
        select(func.count())
        .select_from(Ticket)
        .where(
            Ticket.status.in_(ACTIVE_TICKET_STATUSES), Ticket.resolution_due.is_not(None), Ticket.resolution_due < now
        )
    ).scalar_one()
    open_handoffs = session.execute(select(Handoff).where(Handoff.status.in_(ACTIVE_HANDOFF_STATUSES))).scalars().all()
    late_handoffs = sum(1 for handoff in open_handoffs if sla_deadline(handoff, policy) < now)
    average, rated = session.execute(select(func.avg(SatisfactionScore.score), func.count(SatisfactionScore.id))).one()
    return {
        "open_by_category": [
            {
                "category": category,
                "label": CATEGORY_LABELS.get(category, category),
                "priorities": [
                    {"priority": p.value, "label": PRIORITY_LABELS[p.value], "count": by_category[category][p.value]}
                    for p in (Priority.URGENT, Priority.HIGH, Priority.NORMAL)
                ],
                "total": sum(by_category[category].values()),
            }
            for category in sorted(by_category)
        ],
        "open_tickets": sum(sum(values.values()) for values in by_category.values()),
        "sla_breaches": {"tickets_past_resolution_due": overdue_tickets, "handoffs_past_deadline": late_handoffs},
        "waiting_handoffs": sum(1 for handoff in open_handoffs if handoff.status == HandoffStatus.WAITING.value),
        "satisfaction": {"average": round(float(average), 2) if average is not None else None, "count": rated},
    }


# ---- the ticket workspace -------------------------------------------------------------------


def sla_state(ticket: Ticket, now: datetime) -> Dict[str, Any]:
    """The earliest deadline the ticket still has to meet and how it stands: the first
    response (while no agent has taken the ticket) and the resolution. `state` is breached,
    due_soon (within SLA_DUE_SOON), ok or none (a finished ticket, or no deadline)."""
    if ticket.status not in ACTIVE_TICKET_STATUSES:
        return {"state": "none", "kind": None, "due": None}
    deadlines = []
    if (
        ticket.assignee is None
        and ticket.status in (TicketStatus.AWAITING_EVIDENCE.value, TicketStatus.OPEN.value)
        and ticket.first_response_due is not None
    ):
        deadlines.append((ticket.first_response_due, "first_response"))
    if ticket.resolution_due is not None:
        deadlines.append((ticket.resolution_due, "resolution"))
    if not deadlines:
        return {"state": "none", "kind": None, "due": None}
    due, kind = min(deadlines)
    state = "breached" if due < now else ("due_soon" if due < now + SLA_DUE_SOON else "ok")
    return {"state": state, "kind": kind, "due": _iso(due)}


def _search_clause(query: str):
    """Search by ticket number, order number, buyer name, customer id or the phone's last 4."""
    text = query.strip()
    pattern = f"%{text}%"
    clauses = [
        Ticket.ticket_number.ilike(pattern),
        Order.order_number.like(pattern),
        Order.buyer_name.like(pattern),
        Order.customer_id.like(pattern),
    ]
    if text.isdigit() and len(text) == 4:
        clauses.append(Order.buyer_phone.like(f"%{text}"))
    return or_(*clauses)


def ticket_list(
    session: Session, filters: Dict[str, str], agent: SignedInAgent, *, now: Optional[datetime] = None
) -> Dict[str, Any]:
    """Every ticket (not only hand-overs), most urgent and oldest deadline first, filtered by
    status (a status, or "active" for every unfinished one), category, rule, priority, sla
    (breached / due_soon), channel, assignee (a username, "me" or "none") and a search `q`."""
    now = now or utcnow()
    unknown = sorted(set(k for k, v in filters.items() if v) - set(TICKET_FILTERS))
    if unknown:
        raise InvalidChange(f"不认识的筛选条件：{', '.join(unknown)}。")
    statement = select(Ticket).outerjoin(Order, Ticket.order_id == Order.id)
    status = filters.get("status") or ""
    if status == "active":
        statement = statement.where(Ticket.status.in_(ACTIVE_TICKET_STATUSES))
    elif status:
        if status not in {s.value for s in TicketStatus}:
            raise InvalidChange(f"工单状态「{status}」无效。")
        statement = statement.where(Ticket.status == status)
    for name, column in (
        ("category", Ticket.category),
        ("rule", Ticket.rule_id),
        ("priority", Ticket.priority),
        ("channel", Ticket.channel),
    ):
        if filters.get(name):
            statement = statement.where(column == filters[name])
    assignee = filters.get("assignee") or ""
    if assignee == "none":
        statement = statement.where(Ticket.assignee.is_(None))
    elif assignee:
        statement = statement.where(Ticket.assignee == (agent.username if assignee == "me" else assignee))
    if filters.get("q"):
        statement = statement.where(_search_clause(filters["q"]))
    rows = list(session.execute(statement.order_by(Ticket.id.desc())).scalars())
    sla = filters.get("sla") or ""
    if sla and sla not in ("breached", "due_soon"):
        raise InvalidChange("SLA 筛选只能是 breached（已超时）或 due_soon（即将超时）。")
    summaries = []
    for ticket in rows:
        state = sla_state(ticket, now)
        if sla and state["state"] != sla:
            continue
        summaries.append(ticket_row(ticket, state))
    rank = {"urgent": 0, "high": 1, "normal": 2}
    summaries.sort(key=lambda row: (row["finished"], rank.get(row["priority"], 3), row["sla"]["due"] or "9999"))
    return {
        "tickets": summaries[:MAX_TICKET_ROWS],
        "total": len(summaries),
        "choices": filter_choices(session),
    }


def ticket_row(ticket: Ticket, state: Dict[str, Any]) -> Dict[str, Any]:
    order = ticket.order
    return {
        "ticket_number": ticket.ticket_number,
        "status": ticket.status,
        "status_label": label_zh("ticket_status", ticket.status),
        "finished": ticket.status not in ACTIVE_TICKET_STATUSES,
        "category_label": label_zh("category", ticket.category),
        "sub_issue_label": label_zh("sub_issue", ticket.sub_issue) if ticket.sub_issue else None,
        "rule_id": ticket.rule_id,
        "priority": ticket.priority,
        "priority_label": label_zh("priority", ticket.priority),
        "channel_label": label_zh("channel", ticket.channel),
        "assignee": ticket.assignee,
        "order_number": order.order_number if order is not None else None,
        "buyer_name": order.buyer_name if order is not None else None,
        "conversation_id": ticket.conversation_id,
        "created_at": _iso(ticket.created_at),
        "sla": state,
    }


def filter_choices(session: Session) -> Dict[str, List[Dict[str, str]]]:
    """The values each filter can take, with their Chinese labels."""
    rules = sorted(r for (r,) in session.execute(select(Ticket.rule_id).distinct()) if r)
    channels = sorted(c for (c,) in session.execute(select(Ticket.channel).distinct()) if c)
    agents = [a for (a,) in session.execute(select(AgentAccount.username).order_by(AgentAccount.username))]
    return {
        "status": [{"value": "active", "label": "所有未完结"}]
        + [{"value": s.value, "label": label_zh("ticket_status", s.value)} for s in TicketStatus],
        "category": [{"value": c.value, "label": label_zh("category", c.value)} for c in ComplaintCategory],
        "rule": [{"value": r, "label": r} for r in rules],
        "priority": [
            {"value": p.value, "label": label_zh("priority", p.value)}
            for p in (Priority.URGENT, Priority.HIGH, Priority.NORMAL)
        ],
        "sla": [{"value": "breached", "label": "已超时"}, {"value": "due_soon", "label": "4 小时内到期"}],
        "channel": [{"value": c, "label": label_zh("channel", c)} for c in channels],
        "assignee": [{"value": "me", "label": "我负责的"}, {"value": "none", "label": "未分配"}]
        + [{"value": a, "label": a} for a in agents],
    }


def ticket_page(session: Session, ticket_number: str) -> Dict[str, Any]:
    """One ticket as its page shows it: the details, the audit trail and the ticket's notes."""
    ticket = tickets.require_ticket(session, ticket_number)
    notes = session.execute(
        select(ConversationNote).where(ConversationNote.ticket_id == ticket.id).order_by(ConversationNote.id)
    ).scalars()
    details = ticket_details(ticket)
    details["notes"] = [
        {"id": note.id, "author": note.author, "body": note.body, "created_at": _iso(note.created_at)} for note in notes
    ]
    handoff = latest_handoff(session, ticket.conversation_id) if ticket.conversation_id else None
    details["handoff_status_label"] = label_zh("handoff_status", handoff.status) if handoff is not None else None
    details["carrier_choices"] = list(CARRIERS_ZH)
    return details
