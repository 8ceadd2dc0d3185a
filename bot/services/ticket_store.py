"""Loading a ticket row into the life-cycle model (bot/domain/tickets.py) and saving the model's
changes back: the row's status, timestamps and remedy, plus one `TicketEvent` audit row per
status or field change the model recorded. The only code that writes a ticket's status.

Both bot/services/tickets.py and bot/services/handoffs.py move tickets through here, so
neither needs the other.

The events saved are also kept with the session (`committed_events` takes them once the
transaction has committed), so that the unit of work can hand them to the process's message
bus (bot/bootstrap.py); a rollback, a savepoint's included, drops the events recorded in it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, TypeVar

from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from bot.db.tables import Ticket, TicketEvent
from bot.domain.events import DomainEvent, TicketChanged, TicketStatusChanged
from bot.domain.tickets import TicketLifecycle
from bot.services.errors import TicketConflict

Result = TypeVar("Result")
_OUTBOX = "aftersales_domain_events"


def lifecycle(ticket: Ticket) -> TicketLifecycle:
    return TicketLifecycle(
        ticket_number=ticket.ticket_number,
        status=ticket.status,
        offered_remedies=tuple(ticket.offered_remedies or ()),
        chosen_remedy=ticket.chosen_remedy,
        resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
        updated_at=ticket.updated_at,
    )


def apply(session: Session, ticket: Ticket, move: Callable[[TicketLifecycle], Result]) -> Result:
    """Load `ticket`, make `move` on it (e.g. `lambda t: t.claimed(actor, now)`), save the result."""
    model = lifecycle(ticket)
    result = move(model)
    save(session, ticket, model)
    return result


def save(session: Session, ticket: Ticket, model: TicketLifecycle) -> Optional[TicketEvent]:
    """Write what `model` recorded since it was loaded (or last saved) onto `ticket`; returns the
    last audit row written, None when nothing changed."""
    events = model.collect_events()
    if any(isinstance(event, TicketStatusChanged) for event in events):
        try:
            # the changes are made inside the savepoint: begin_nested() flushes what is pending first
            with session.begin_nested():
                _copy(ticket, model)
        except IntegrityError:
            # only reopening can collide: a newer ticket of the same conversation/order/category is in progress
            raise TicketConflict(
                f"工单 {ticket.ticket_number} 不能重新打开：同一会话中该订单已有进行中的同类工单。"
            ) from None
    elif events:
        _copy(ticket, model)
    written = None
    for event in events:
        if isinstance(event, TicketStatusChanged):
            written = write_event(
                session,
                ticket,
                event.actor,
                from_status=event.from_status,
                to_status=event.to_status,
                note=event.note,
                now=event.at,
            )
        elif isinstance(event, TicketChanged):
            written = write_event(
                session, ticket, event.actor, details=dict(event.details) or None, note=event.note, now=event.at
            )
    _keep(session, events)
    return written


def _copy(ticket: Ticket, model: TicketLifecycle) -> None:
    ticket.status = model.status.value
    ticket.chosen_remedy = model.chosen_remedy
    ticket.resolved_at = model.resolved_at
    ticket.closed_at = model.closed_at
    ticket.updated_at = model.updated_at


def write_event(
    session: Session,
    ticket: Ticket,
    actor: str,
    *,
    from_status: Optional[str] = None,
    to_status: Optional[str] = None,
    details: Optional[Dict[str, Any]] = None,
    note: Optional[str] = None,
    now: datetime,
) -> TicketEvent:
    event = TicketEvent(
        ticket_id=ticket.id,
        from_status=from_status,
        to_status=to_status,
        details=details,
        actor=actor,
        note=note,
        at=now,
    )
    session.add(event)
    session.flush()
    return event


def _keep(session: Session, events: Sequence[DomainEvent]) -> None:
    """Keep `events` with the transaction (the innermost savepoint) they were saved in."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    outbox: List[Tuple[Any, DomainEvent]] = session.info.setdefault(_OUTBOX, [])
    outbox.extend((transaction, event) for event in events)


def committed_events(session: Session) -> List[DomainEvent]:
    """The events saved in `session` since the last call, oldest first; call it once the
    transaction has committed."""
    return [event for _, event in session.info.pop(_OUTBOX, [])]


@sqlalchemy_event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, rolled_back: SessionTransaction) -> None:
    """A rolled-back transaction or savepoint saved nothing: its events (and those of the
    savepoints inside it) are dropped, so nobody hears of a change that was not made."""
    outbox = session.info.get(_OUTBOX)
    if outbox:
        session.info[_OUTBOX] = [(kept, event) for kept, event in outbox if not _inside(kept, rolled_back)]


def _inside(transaction: Optional[SessionTransaction], outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False
