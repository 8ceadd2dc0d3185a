"""What the agent console shows and changes in the orders/tickets database: the queue, one
conversation's order, tickets, evidence and notes, ticket edits, hand-back and resolve, and the
dashboard figures. Every function returns plain dicts ready for JSON; times are ISO-8601 UTC.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.console.accounts import SignedInAgent
from bot.db.tables import (
    ACTIVE_TICKET_STATUSES,
    ConversationNote,
    Handoff,
    SatisfactionScore,
    Ticket,
    TicketEvent,
)
from bot.db.types import utcnow
from bot.domain.vocabulary import Priority, Remedy, TicketStatus
from bot.policy.config import PolicyConfig
from bot.services import handoffs, tickets
from bot.services.errors import InvalidChange
from bot.services.handoffs import HandoffStatus, agent_actor
from bot.services.orders import find_order, mask_address, mask_phone

QUEUE_VIEWS = ("waiting", "mine", "all")
MAX_NOTE_LENGTH = 2000

REASON_LABELS = {
    "buyer_request": "买家要求转人工",
    "policy_escalation": "政策规定需人工处理",
    "buyer_rejected_decision": "买家不接受处理结果",
    "not_understood": "机器人多次没听懂",
    "other": "其他",
}
HANDOFF_STATUS_LABELS = {"waiting": "等待接手", "claimed": "处理中", "returned": "已交还机器人", "resolved": "已解决"}
PRIORITY_LABELS = {"urgent": "紧急", "high": "高", "normal": "普通"}
CATEGORY_LABELS = {"quality": "质量问题", "logistics": "物流问题", "service": "服务投诉", "no_reason": "无理由退货"}
REMEDY_LABELS = {
    "return_refund": "退货退款", "exchange": "换货", "repair": "免费维修", "paid_repair": "付费维修",
    "reship": "补发", "refund_only": "仅退款", "investigate": "先核查", "info": "告知信息", "reject": "不予受理",
}
CHANNEL_LABELS = {"webchat": "网页聊天", "socketio": "网页聊天（socket.io）", "rest": "REST 接口", "wechat": "微信", "telegram": "Telegram"}


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
        "sla_breached": handoff.status in ("waiting", "claimed") and deadline < now,
        "ticket_number": ticket.ticket_number if ticket is not None else None,
        "category_label": CATEGORY_LABELS.get(ticket.category, ticket.category) if ticket is not None else None,
    }


def queue(session: Session, view: str, agent: SignedInAgent, policy: PolicyConfig, *, now: Optional[datetime] = None) -> List[Dict[str, Any]]:
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
                select(Handoff).where(Handoff.status.in_(("waiting", "claimed"))).order_by(Handoff.created_at)
            ).scalars()
        )
        finished = list(
            session.execute(
                select(Handoff).where(Handoff.status.in_(("returned", "resolved"))).order_by(Handoff.id.desc()).limit(50)
            ).scalars()
        )
        rows = active + finished
    return [handoff_summary(row, policy, now) for row in rows]


def claim(session: Session, handoff_id: int, agent: SignedInAgent) -> Handoff:
    return handoffs.claim_handoff(session, handoff_id, agent.username)


def latest_handoff(session: Session, conversation_id: str) -> Optional[Handoff]:
    return session.execute(
        select(Handoff).where(Handoff.conversation_id == conversation_id).order_by(Handoff.id.desc()).limit(1)
    ).scalar_one_or_none()


def require_owned_handoff(session: Session, conversation_id: str, agent: SignedInAgent) -> Handoff:
    """The hand-over `agent` holds for the conversation; a supervisor may act on anyone's."""
    handoff = handoffs.active_handoff(session, conversation_id)
    if handoff is None:
        raise handoffs.HandoffUnavailable("这个会话当前不在人工处理中（可能已交还机器人或已结束）。")
    if handoff.status != HandoffStatus.CLAIMED.value:
        raise handoffs.HandoffUnavailable("请先接手这个会话，再回复买家。")
    if handoff.agent != agent.username and not agent.is_supervisor:
        raise handoffs.HandoffUnavailable(f"这个会话由 {handoff.agent} 处理中，只有接手人或主管可以操作。")
    return handoff


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
        select(ConversationNote).where(ConversationNote.conversation_id == conversation_id).order_by(ConversationNote.id)
    ).scalars()
    return {
        "conversation_id": conversation_id,
        "handoff": handoff_summary(handoff, policy, now) if handoff is not None else None,
        "verified_order": verified_order(session, verified_order_number),
        "tickets": [ticket_details(ticket) for ticket in rows],
        "notes": [
            {"id": note.id, "author": note.author, "body": note.body, "created_at": _iso(note.created_at)} for note in notes
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
        "priority": ticket.priority,
        "priority_label": PRIORITY_LABELS.get(ticket.priority, ticket.priority),
        "rule_id": ticket.rule_id,
        "decision_explanation": ticket.decision_explanation,
        "offered_remedies": [{"value": r, "label": REMEDY_LABELS.get(r, r)} for r in ticket.offered_remedies or []],
        "chosen_remedy": ticket.chosen_remedy,
        "chosen_remedy_label": REMEDY_LABELS.get(ticket.chosen_remedy or "", None),
        "shipping_payer": ticket.shipping_payer,
        "first_response_due": _iso(ticket.first_response_due),
        "resolution_due": _iso(ticket.resolution_due),
        "refund_due": ticket.refund_due.isoformat() if ticket.refund_due else None,
        "warranty_end": ticket.warranty_end.isoformat() if ticket.warranty_end else None,
        "created_at": _iso(ticket.created_at),
        "order": order_summary(order),
        "item": {"sku": item.sku, "name": item.name} if item is not None else ({"sku": ticket.item_sku, "name": None} if ticket.item_sku else None),
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
        "events": [tickets.audit_record(event, _iso) for event in ticket.events],
        "remedy_choices": [{"value": r.value, "label": REMEDY_LABELS.get(r.value, r.value)} for r in Remedy],
        "priority_choices": [{"value": p.value, "label": PRIORITY_LABELS[p.value]} for p in Priority],
    }


def order_summary(order) -> Dict[str, Any]:
    """The order as an agent needs it; the phone and address stay masked."""
    return {
        "order_number": order.order_number,
        "customer_id": order.customer_id,
        "buyer_name": order.buyer_name,
        "buyer_phone": mask_phone(order.buyer_phone),
        "address": mask_address(order.address),
        "status": order.status,
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


def _refuse_if_another_agents_chat(session: Session, conversation_id: Optional[str], agent: SignedInAgent) -> None:
    """A chat another agent has claimed is theirs (and a supervisor's) to edit: its tickets and
    notes too, not only the replies. Unclaimed chats and tickets stay open to every agent."""
    if not conversation_id or agent.is_supervisor:
        return
    handoff = handoffs.active_handoff(session, conversation_id)
    if handoff is not None and handoff.status == HandoffStatus.CLAIMED.value and handoff.agent != agent.username:
        raise handoffs.HandoffUnavailable(f"这个会话由 {handoff.agent} 处理中，只有接手人或主管可以修改工单和备注。")


def add_note(session: Session, conversation_id: str, agent: SignedInAgent, body: str) -> ConversationNote:
    _refuse_if_another_agents_chat(session, conversation_id, agent)
    text = (body or "").strip()
    if not text:
        raise InvalidChange("备注内容不能为空。")
    if len(text) > MAX_NOTE_LENGTH:
        raise InvalidChange(f"备注太长了（{len(text)} 字），最多 {MAX_NOTE_LENGTH} 字。")
    open_ticket = tickets.open_tickets_for_conversation(session, conversation_id)
    note = ConversationNote(
        conversation_id=conversation_id,
        ticket_id=open_ticket[-1].id if open_ticket else None,
        author=agent.username,
        body=text,
        created_at=utcnow(),
    )
    session.add(note)
    session.flush()
    return note


def edit_ticket(session: Session, ticket_number: str, agent: SignedInAgent, changes: Dict[str, Any]) -> Ticket:
    """Status, remedy and priority changes by an agent, and notes; each lands in the audit trail."""
    ticket = tickets.require_ticket(session, ticket_number)
    _refuse_if_another_agents_chat(session, ticket.conversation_id, agent)
    actor = agent_actor(agent.username)
    unknown = sorted(set(changes) - {"status", "chosen_remedy", "priority", "note"})
    if unknown:
        raise InvalidChange(f"不能在控制台修改这些字段：{', '.join(unknown)}。")
    note = _ticket_note(changes.get("note"))
    fields = {name: changes[name] for name in ("chosen_remedy", "priority") if changes.get(name)}
    recorded = []
    if fields:
        recorded.append(tickets.update_ticket(session, ticket, actor, note=note, **fields))
    if changes.get("status"):
        recorded.append(tickets.change_status(session, ticket, changes["status"], actor, note))
    if not any(recorded):
        if note is None:
            raise InvalidChange("没有需要保存的修改：请修改状态、方案、优先级，或填写说明。")
        session.add(TicketEvent(ticket_id=ticket.id, actor=actor, note=note, at=utcnow()))
        session.flush()
        session.expire(ticket, ["events"])
    return ticket


def _ticket_note(value: Any) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidChange("变更说明（note）必须是文字。")
    text = value.strip()
    if len(text) > MAX_NOTE_LENGTH:
        raise InvalidChange(f"变更说明太长了（{len(text)} 字），最多 {MAX_NOTE_LENGTH} 字。")
    return text or None


# ---- hand back and resolve ------------------------------------------------------------------


def hand_back(session: Session, conversation_id: str, agent_name: str) -> Optional[Handoff]:
    """Mark the conversation's hand-over returned to the bot (None if nobody had it)."""
    handoff = handoffs.active_handoff(session, conversation_id)
    if handoff is None:
        return None
    return handoffs.return_handoff(session, handoff.id, handoff.agent or agent_name, note=f"{agent_name} 交还机器人")


def resolve(session: Session, conversation_id: str, agent_name: str, ticket_numbers: Iterable[str] = ()) -> Optional[str]:
    """End the hand-over as resolved and close the conversation's open tickets; returns the
    ticket number the satisfaction score belongs to (the latest ticket), if any."""
    actor = agent_actor(agent_name)
    handoff = handoffs.active_handoff(session, conversation_id)
    if handoff is not None:
        if handoff.status == HandoffStatus.WAITING.value:
            handoffs.claim_handoff(session, handoff.id, agent_name)
        handoffs.resolve_handoff(session, handoff.id, handoff.agent or agent_name, note=f"{agent_name} 标记为已解决")
    rows = conversation_tickets(session, conversation_id, ticket_numbers)
    for ticket in rows:
        if ticket.status in ACTIVE_TICKET_STATUSES:
            if TicketStatus.RESOLVED not in tickets.allowed_transitions(ticket.status):
                tickets.change_status(session, ticket, TicketStatus.OPEN, actor, "人工客服处理")
            tickets.change_status(session, ticket, TicketStatus.RESOLVED, actor, "人工客服已解决")
        if ticket.status == TicketStatus.RESOLVED.value:
            tickets.change_status(session, ticket, TicketStatus.CLOSED, actor, "人工客服结束会话")
    return rows[-1].ticket_number if rows else None


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
        select(func.count()).select_from(Ticket).where(
            Ticket.status.in_(ACTIVE_TICKET_STATUSES), Ticket.resolution_due.is_not(None), Ticket.resolution_due < now
        )
    ).scalar_one()
    open_handoffs = session.execute(select(Handoff).where(Handoff.status.in_(("waiting", "claimed")))).scalars().all()
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
        "waiting_handoffs": sum(1 for handoff in open_handoffs if handoff.status == "waiting"),
        "satisfaction": {"average": round(float(average), 2) if average is not None else None, "count": rated},
    }
