"""How often a buyer has come back about an order (policy S2: repeat contacts, overdue tickets)."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import String, cast, func, literal, or_, select, union
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
    """Distinct earlier conversations about `order` (contacts and tickets), not counting this one.
    A ticket with no conversation (opened by an agent) counts as one of its own. One statement:
    the case form asks this on every call."""
    contact_conversations = select(OrderContact.conversation_id.label("conversation")).where(
        OrderContact.order_id == order.id
    )
    ticket_conversations = select(
        func.coalesce(Ticket.conversation_id, literal("ticket:") + cast(Ticket.id, String)).label("conversation")
    ).where(Ticket.order_id == order.id)
    conversations = union(contact_conversations, ticket_conversations).subquery()
    count = select(func.count()).select_from(conversations)
    if conversation_id is not None:
        count = count.where(conversations.c.conversation != conversation_id)
    return session.execute(count).scalar_one()


def earlier_ticket_overdue(session: Session, order: Order, now: Optional[datetime] = None) -> bool:
    """Whether the buyer of `order` (same phone or customer id) has an in-progress ticket past its
    resolution deadline."""
    same_buyer = [Order.buyer_phone == order.buyer_phone]
    if order.customer_id:
        same_buyer.append(Order.customer_id == order.customer_id)
    overdue = (
        select(Ticket.id)
        .join(Order, Ticket.order_id == Order.id)
        .where(
            or_(*same_buyer),
            Ticket.status.in_(ACTIVE_TICKET_STATUSES),
            Ticket.resolution_due.is_not(None),
            Ticket.resolution_due < (now or utcnow()),
        )
    )
    return session.execute(select(overdue.exists())).scalar_one()


def _contact(session: Session, order: Order, conversation_id: str) -> Optional[OrderContact]:
    return session.execute(
        select(OrderContact).where(OrderContact.order_id == order.id, OrderContact.conversation_id == conversation_id)
    ).scalar_one_or_none()
