"""What an agent changes from the console in the orders/tickets database: claiming a chat,
notes, ticket edits and assignment, hand-back and resolve, and the SLA watch's flags. The
ticket moves go through the services (bot/services/tickets.py), so the domain events they
record reach the process's message bus once the transaction commits (bot/bootstrap.py):
that is how a buyer hears of a status an agent set. What the console shows is in
bot/console/views.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console.accounts import SignedInAgent
from bot.console.views import conversation_tickets, sla_state
from bot.db.tables import Agent as AgentAccount, ConversationNote, Handoff, Ticket, TicketEvent
from bot.db.types import utcnow
from bot.domain.tickets import CLOSED, KEPT_OPEN, UNDER_WAY_STATUSES
from bot.domain.vocabulary import ACTIVE_TICKET_STATUSES, HandoffStatus, TicketStatus, label_zh
from bot.services import handoffs, tickets
from bot.services.errors import InvalidChange
from bot.services.handoffs import agent_actor

MAX_NOTE_LENGTH = 2000


def claim(session: Session, handoff_id: int, agent: SignedInAgent) -> Handoff:
    return handoffs.claim_handoff(session, handoff_id, agent.username)


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


PENDING_CHOICES = ("keep", "close")


class PendingRemedies(InvalidChange):
    """Resolving would close tickets whose remedy is still under way; `pending` lists them so
    the agent can see what is pending and choose (keep them open, or close them anyway)."""

    def __init__(self, pending: List[Dict[str, Any]]) -> None:
        numbers = "、".join(row["ticket_number"] for row in pending)
        super().__init__(
            f"工单 {numbers} 还在进行中（等待买家寄回商品或补充凭证）。请选择：保留工单继续跟进，或仍然关闭。"
        )
        self.pending = pending


def waiting_status(ticket: Ticket) -> Optional[str]:
    """The under-way status the ticket is in, or was in when an agent took the chat (claiming
    moves it to with_agent, which must not hide that the remedy still waits for the buyer)."""
    if ticket.status in UNDER_WAY_STATUSES:
        return ticket.status
    if ticket.status == TicketStatus.WITH_AGENT.value:
        for event in reversed(ticket.events):
            if event.to_status == TicketStatus.WITH_AGENT.value:
                return event.from_status if event.from_status in UNDER_WAY_STATUSES else None
    return None


def pending_remedies(rows: Iterable[Ticket]) -> List[Dict[str, Any]]:
    pending = []
    for ticket in rows:
        waiting = waiting_status(ticket)
        if waiting is None:
            continue
        pending.append(
            {
                "ticket_number": ticket.ticket_number,
                "status": ticket.status,
                "status_label": label_zh("ticket_status", ticket.status),
                "remedy_label": label_zh("remedy", ticket.chosen_remedy) if ticket.chosen_remedy else None,
                "what": _pending_text(ticket, waiting),
            }
        )
    return pending


def _pending_text(ticket: Ticket, waiting: str) -> str:
    if waiting == TicketStatus.AWAITING_EVIDENCE.value:
        return "还在等买家补充照片或视频凭证"
    remedy = label_zh("remedy", ticket.chosen_remedy) if ticket.chosen_remedy else "处理方案"
    return f"{remedy}进行中，等待买家操作（例如寄回商品）"


def resolve(
    session: Session,
    conversation_id: str,
    agent_name: str,
    ticket_numbers: Iterable[str] = (),
    pending: Optional[str] = None,
) -> Dict[str, Any]:
    """End the hand-over as resolved and finish the conversation's open tickets.

    The hand-over is linked to the conversation's latest ticket when it had none. A ticket
    whose remedy is still under way (UNDER_WAY_STATUSES) is never closed silently: without
    `pending` ("keep" or "close") this raises `PendingRemedies` and changes nothing. Returns
    the ticket the satisfaction score belongs to (the latest one), the tickets closed and
    those kept open."""
    if pending is not None and pending not in PENDING_CHOICES:
        raise InvalidChange("pending 只能是 keep（保留进行中的工单）或 close（仍然关闭）。")
    actor = agent_actor(agent_name)
    rows = conversation_tickets(session, conversation_id, ticket_numbers)
    under_way = pending_remedies(rows)
    if under_way and pending is None:
        raise PendingRemedies(under_way)
    handoff = handoffs.active_handoff(session, conversation_id)
    if handoff is not None:
        if handoff.ticket_id is None and rows:
            handoff.ticket_id = rows[-1].id
            session.flush()
            session.expire(handoff, ["ticket"])
        if handoff.status == HandoffStatus.WAITING.value:
            handoffs.claim_handoff(session, handoff.id, agent_name)
        handoffs.resolve_handoff(session, handoff.id, handoff.agent or agent_name, note=f"{agent_name} 标记为已解决")
    closed, kept = [], []
    for ticket in rows:
        under_way = waiting_status(ticket) is not None
        outcome = tickets.finish_with_agent(
            session, ticket, actor, under_way=under_way, keep_under_way=pending == "keep"
        )
        if outcome == KEPT_OPEN:
            kept.append(ticket.ticket_number)
        elif outcome == CLOSED:
            closed.append(ticket.ticket_number)
    return {"ticket_number": rows[-1].ticket_number if rows else None, "closed": closed, "kept_open": kept}


def assign_ticket(session: Session, ticket_number: str, agent: SignedInAgent, assignee: Optional[str]) -> Ticket:
    """Give the ticket to an agent (None: unassign). An agent may take a ticket or let it go;
    giving it to someone else is a supervisor's call. Audited like every ticket change."""
    ticket = tickets.require_ticket(session, ticket_number)
    target = (assignee or "").strip() or None
    if (
        target is not None
        and session.execute(select(AgentAccount).where(AgentAccount.username == target)).scalar_one_or_none() is None
    ):
        raise InvalidChange(f"没有名为「{target}」的客服账号。")
    if not agent.is_supervisor and target not in (None, agent.username):
        raise InvalidChange("只有主管可以把工单分配给其他客服。")
    if not agent.is_supervisor and target is None and ticket.assignee not in (None, agent.username):
        raise InvalidChange(f"这个工单由 {ticket.assignee} 负责，只有本人或主管可以取消分配。")
    if ticket.assignee == target:
        return ticket
    previous = ticket.assignee
    ticket.assignee = target
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            actor=agent_actor(agent.username),
            note=f"分配给 {target}" if target else "取消分配",
            details={"assignee": {"from": previous, "to": target}},
            at=utcnow(),
        )
    )
    session.flush()
    session.expire(ticket, ["events"])
    return ticket


def add_ticket_note(session: Session, ticket_number: str, agent: SignedInAgent, body: str) -> ConversationNote:
    ticket = tickets.require_ticket(session, ticket_number)
    text = (body or "").strip()
    if not text:
        raise InvalidChange("备注内容不能为空。")
    if len(text) > MAX_NOTE_LENGTH:
        raise InvalidChange(f"备注太长了（{len(text)} 字），最多 {MAX_NOTE_LENGTH} 字。")
    note = ConversationNote(
        conversation_id=ticket.conversation_id or f"ticket:{ticket.ticket_number}",
        ticket_id=ticket.id,
        author=agent.username,
        body=text,
        created_at=utcnow(),
    )
    session.add(note)
    session.flush()
    return note


# ---- the SLA watch (a periodic job in the Rasa server, channels/console.py) --------------------

SLA_FLAG_NOTES = {
    "due_soon": "SLA 提醒：{kind}将于 {due} 到期，请尽快处理",
    "breached": "SLA 超时：{kind}已于 {due} 到期，答应买家的时间没有做到",
}


def flag_sla(session: Session, *, now: Optional[datetime] = None, show_time=None) -> List[Dict[str, Any]]:
    """Flag every unfinished ticket whose deadline (the time the buyer was promised an answer
    or a resolution) is due within SLA_DUE_SOON or already past: an audit event
    `{"sla": {"kind", "state", "due"}}` written once per deadline and state, so the ticket's
    trail shows when it went late, and the workspace's SLA filter lists it. Returns the
    flags written now. `show_time(datetime) -> str` formats the deadline (the shop's zone)."""
    now = now or utcnow()
    show_time = show_time or (lambda moment: moment.isoformat())
    written = []
    rows = session.execute(select(Ticket).where(Ticket.status.in_(ACTIVE_TICKET_STATUSES))).scalars()
    for ticket in rows:
        state = sla_state(ticket, now)
        if state["state"] not in SLA_FLAG_NOTES:
            continue
        flag = {"kind": state["kind"], "state": state["state"], "due": state["due"]}
        if any((event.details or {}).get("sla") == flag for event in ticket.events):
            continue
        due = ticket.first_response_due if state["kind"] == "first_response" else ticket.resolution_due
        note = SLA_FLAG_NOTES[state["state"]].format(kind=label_zh("field", f"{state['kind']}_due"), due=show_time(due))
        session.add(TicketEvent(ticket_id=ticket.id, actor="system:sla", note=note, details={"sla": flag}, at=now))
        session.flush()
        session.expire(ticket, ["events"])
        written.append({"ticket_number": ticket.ticket_number, **flag})
    session.flush()
    return written
