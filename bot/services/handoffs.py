"""The human hand-over queue (转人工).

    waiting ──claim──> claimed ──resolve──> resolved
       │                  ╰──return──> returned   (the chat goes back to the bot)
       ╰──return──> returned                      (nobody needed any more)

One hand-over per conversation is waiting or claimed at a time (partial unique index).
Claiming is a single `UPDATE ... WHERE status = 'waiting'`, so of two agents clicking at the
same moment exactly one wins; the other gets `HandoffUnavailable`.

Claiming and returning move the hand-over's ticket through the ticket model
(bot/domain/tickets.py, saved by bot/services/ticket_store.py); this module does not use
bot/services/tickets.py, nor that one this.
"""

from __future__ import annotations

from datetime import datetime
from typing import List, Optional, Tuple

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.tables import Handoff, Ticket
from bot.db.types import utcnow
from bot.domain.vocabulary import ACTIVE_HANDOFF_STATUSES, HandoffStatus, Priority
from bot.services import ticket_store
from bot.services.errors import HandoffNotFound, HandoffUnavailable, InvalidChange


_PRIORITY_RANK = case(
    (Handoff.priority == Priority.URGENT.value, 0),
    (Handoff.priority == Priority.HIGH.value, 1),
    else_=2,
)


def agent_actor(agent: str) -> str:
    """The audit name of an agent: "agent:alice"."""
    return agent if agent.startswith("agent:") else f"agent:{agent}"


def active_handoff(session: Session, conversation_id: str) -> Optional[Handoff]:
    return session.execute(
        select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status.in_(ACTIVE_HANDOFF_STATUSES))
    ).scalar_one_or_none()


def enqueue_handoff(
    session: Session,
    *,
    conversation_id: str,
    reason: str,
    priority: str = Priority.NORMAL.value,
    ticket: Optional[Ticket] = None,
    channel: Optional[str] = None,
    note: Optional[str] = None,
    now: Optional[datetime] = None,
) -> Tuple[Handoff, bool]:
    """Put the conversation in the queue: `(handoff, created)`; an active one is returned as is."""
    now = now or utcnow()
    priority = str(priority.value if isinstance(priority, Priority) else priority)
    if priority not in {member.value for member in Priority}:
        raise InvalidChange(f"转人工优先级「{priority}」无效，可选：{', '.join(p.value for p in Priority)}。")
    existing = active_handoff(session, conversation_id)
    if existing is not None:
        return existing, False
    handoff = Handoff(
        conversation_id=conversation_id,
        ticket_id=ticket.id if ticket is not None else None,
        reason=reason,
        priority=priority,
        status=HandoffStatus.WAITING.value,
        channel=str(channel) if channel is not None else None,
        note=note,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(handoff)
    except IntegrityError:  # the same conversation asked twice at the same moment
        return active_handoff(session, conversation_id), False
    return handoff, True


def waiting_handoffs(session: Session, *, limit: Optional[int] = None) -> List[Handoff]:
    """The queue an agent sees: most urgent first, then oldest first."""
    query = (
        select(Handoff)
        .where(Handoff.status == HandoffStatus.WAITING.value)
        .order_by(_PRIORITY_RANK, Handoff.created_at, Handoff.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.execute(query).scalars())


def claim_handoff(session: Session, handoff_id: int, agent: str, *, now: Optional[datetime] = None) -> Handoff:
    """`agent` takes the conversation; raises `HandoffUnavailable` if someone else was first."""
    now = now or utcnow()
    claimed = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status == HandoffStatus.WAITING.value)
        .values(status=HandoffStatus.CLAIMED.value, agent=agent, claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    handoff = _load(session, handoff_id)
    if claimed != 1:
        who = f"（已由 {handoff.agent} 接手）" if handoff.agent else ""
        raise HandoffUnavailable(f"转人工请求 #{handoff_id} 当前状态为 {handoff.status}，不能接手{who}。")
    if handoff.ticket is not None:
        ticket_store.apply(session, handoff.ticket, lambda model: model.claimed(agent_actor(agent), now))
    return handoff


def return_handoff(
    session: Session,
    handoff_id: int,
    agent: Optional[str] = None,
    *,
    note: Optional[str] = None,
    now: Optional[datetime] = None,
) -> Handoff:
    """Give the conversation back to the bot (or withdraw a waiting request)."""
    now = now or utcnow()
    handoff = _load(session, handoff_id)
    _require_active(handoff, agent)
    handoff.status = HandoffStatus.RETURNED.value
    handoff.ended_at = now
    handoff.note = note or handoff.note
    session.flush()
    if handoff.ticket is not None:
        actor = agent_actor(agent) if agent else "bot"
        ticket_store.apply(session, handoff.ticket, lambda model: model.returned_to_bot(actor, now))
    return handoff


def resolve_handoff(
    session: Session, handoff_id: int, agent: str, *, note: Optional[str] = None, now: Optional[datetime] = None
) -> Handoff:
    """The agent finished the conversation (the ticket's own status is changed separately)."""
    now = now or utcnow()
    handoff = _load(session, handoff_id)
    if handoff.status != HandoffStatus.CLAIMED.value:
        raise HandoffUnavailable(f"转人工请求 #{handoff_id} 当前状态为 {handoff.status}，只有已接手的请求才能结束。")
    _require_active(handoff, agent)
    handoff.status = HandoffStatus.RESOLVED.value
    handoff.ended_at = now
    handoff.note = note or handoff.note
    session.flush()
    return handoff


def _load(session: Session, handoff_id: int) -> Handoff:
    handoff = session.execute(
        select(Handoff).where(Handoff.id == handoff_id).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if handoff is None:
        raise HandoffNotFound(handoff_id)
    return handoff


def _require_active(handoff: Handoff, agent: Optional[str]) -> None:
    if handoff.status not in ACTIVE_HANDOFF_STATUSES:
        raise HandoffUnavailable(f"转人工请求 #{handoff.id} 已结束（{handoff.status}）。")
    if handoff.status == HandoffStatus.CLAIMED.value and agent is not None and handoff.agent != agent:
        raise HandoffUnavailable(f"转人工请求 #{handoff.id} 由 {handoff.agent} 接手，{agent} 不能操作。")
