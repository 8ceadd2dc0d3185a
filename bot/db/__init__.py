"""Persistence of orders, tickets, evidence, satisfaction scores and hand-overs.

`make_engine()` / `session_scope()` for transactions, `tables` for the ORM models,
`upgrade_database()` to create or migrate the schema (Alembic, folder `migrations/`).
"""

from bot.db.engine import make_engine, session_scope, shared_engine
from bot.db.schema import current_revision, head_revision, upgrade_database
from bot.db.tables import (
    Base,
    Evidence,
    Handoff,
    Order,
    OrderContact,
    OrderItem,
    SatisfactionScore,
    Ticket,
    TicketEvent,
    TrackingEvent,
)

__all__ = [
    "Base",
    "Evidence",
    "Handoff",
    "Order",
    "OrderContact",
    "OrderItem",
    "SatisfactionScore",
    "Ticket",
    "TicketEvent",
    "TrackingEvent",
    "current_revision",
    "head_revision",
    "make_engine",
    "session_scope",
    "shared_engine",
    "upgrade_database",
]
