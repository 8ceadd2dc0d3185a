"""How often a buyer has come back about an order (policy S2: repeat contacts, overdue tickets)."""

from __future__ import annotations

from datetime import datetime
from typing import List, Optional

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.tables import Order, OrderContact, Ticket
from bot.db.types import utcnow
from bot.domain.vocabulary import ACTIVE_TICKET_STATUSES


def record_contact(
    session: Session,
    order: Order,
    conversation_id: str,
    *,
    channel: Optional[str] = None,
    now: Optional[datetime] = None,
) -> OrderContact:
    """Note that `conversation_id` is about `order`; repeating it only refreshes `last_at`."""
    now = now or utcnow()
    contact = _contact(session, order, conversation_id)
    if contact is None:
        try:
            with session.begin_nested():
                contact = OrderContact(
                    order_id=order.id, conversation_id=conversation_id, channel=channel, first_at=now, last_at=now
                )
                session.add(contact)
        except IntegrityError:  # the same conversation recorded it concurrently
            contact = _contact(session, order, conversation_id)
    contact.last_at = now
    session.flush()
    return contact


def earlier_contact_count(session: Session, order: Order, conversation_id: Optional[str] = None) -> int:
    """Distinct earlier conversations about `order` (contacts and tickets), not counting this one."""
    conversations = set(
        session.execute(select(OrderContact.conversation_id).where(OrderContact.order_id == order.id)).scalars()
    )
    ticket_conversations = session.execute(
        select(Ticket.id, Ticket.conversation_id).where(Ticket.order_id == order.id)
    ).all()
    for ticket_id, ticket_conversation in ticket_conversations:
        conversations.add(ticket_conversation or f"ticket:{ticket_id}")
    conversations.discard(conversation_id)
    return len(conversations)


def overdue_tickets_of_buyer(session: Session, order: Order, now: Optional[datetime] = None) -> List[Ticket]:
    """In-progress tickets of the buyer of `order` (same phone or customer id) past their resolution deadline."""
    now = now or utcnow()
    same_buyer = [Order.buyer_phone == order.buyer_phone]
    if order.customer_id:
        same_buyer.append(Order.customer_id == order.customer_id)
    return list(
        session.execute(
            select(Ticket)
            .join(Order, Ticket.order_id == Order.id)
            .where(
                or_(*same_buyer),
                Ticket.status.in_(ACTIVE_TICKET_STATUSES),
                Ticket.resolution_due.is_not(None),
                Ticket.resolution_due < now,
            )
            .order_by(Ticket.resolution_due)
        ).scalars()
    )


def earlier_ticket_overdue(session: Session, order: Order, now: Optional[datetime] = None) -> bool:
    return bool(overdue_tickets_of_buyer(session, order, now))


def _contact(session: Session, order: Order, conversation_id: str) -> Optional[OrderContact]:
    return session.execute(
        select(OrderContact).where(OrderContact.order_id == order.id, OrderContact.conversation_id == conversation_id)
    ).scalar_one_or_none()
