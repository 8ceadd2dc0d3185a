"""ORM models of the orders/tickets database.

Enumerated values (statuses, categories, remedies ...) are the strings of
`bot.domain.vocabulary`, kept in plain string columns so adding a value needs no migration.
Times are `UtcDateTime` (naive UTC in the database, aware UTC in Python); calendar days that
the policy computes (warranty end, refund due) are plain dates in the shop's time zone.
Money is stored in integer cents (exact on SQLite too); the `total`/`unit_price` properties
give `Decimal` yuan.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import declarative_base, relationship

from bot.db.types import UtcDateTime, utcnow
from bot.domain.vocabulary import ACTIVE_HANDOFF_STATUSES, ACTIVE_TICKET_STATUSES

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))


def _status_in(statuses: tuple):
    return text("status IN ({})".format(", ".join(f"'{status}'" for status in statuses)))


# the partial unique indexes count only in-progress rows: a change of these lists needs a migration
_ACTIVE_TICKET_WHERE = _status_in(ACTIVE_TICKET_STATUSES)
_ACTIVE_HANDOFF_WHERE = _status_in(ACTIVE_HANDOFF_STATUSES)


def _cents_to_yuan(cents: int | None) -> Decimal | None:
    return None if cents is None else (Decimal(cents) / 100).quantize(Decimal("0.01"))


class Order(Base):
    __tablename__ = "orders"

    id = Column(Integer, primary_key=True)
    order_number = Column(String(64), nullable=False, unique=True)
    customer_id = Column(String(128), index=True)
    buyer_name = Column(String(100), nullable=False)
    buyer_phone = Column(String(32), nullable=False)
    address = Column(Text)
    cross_border = Column(Boolean, nullable=False, default=False)
    origin_country = Column(String(8))
    payment_method = Column(String(16), nullable=False)
    status = Column(String(32), nullable=False)
    paid_at = Column(UtcDateTime)
    shipped_at = Column(UtcDateTime)
    delivered_at = Column(UtcDateTime)
    promised_delivery_days = Column(Integer)
    carrier = Column(String(64))
    tracking_number = Column(String(64))
    total_cents = Column(BigInteger, nullable=False)
    note = Column(Text)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    updated_at = Column(UtcDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    items = relationship(
        "OrderItem", back_populates="order", order_by="OrderItem.position", cascade="all, delete-orphan"
    )
    tracking_events = relationship(
        "TrackingEvent", back_populates="order", order_by="TrackingEvent.position", cascade="all, delete-orphan"
    )
    tickets = relationship("Ticket", back_populates="order", order_by="Ticket.id")

    @property
    def total(self) -> Decimal | None:
        return _cents_to_yuan(self.total_cents)

    def __repr__(self) -> str:
        return f"<Order {self.order_number} {self.status}>"


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (UniqueConstraint("order_id", "sku"),)

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)
    position = Column(Integer, nullable=False)
    sku = Column(String(64), nullable=False)
    name = Column(String(200), nullable=False)
    category = Column(String(32), nullable=False)
    unit_price_cents = Column(BigInteger, nullable=False)
    quantity = Column(Integer, nullable=False)

    order = relationship("Order", back_populates="items")

    @property
    def unit_price(self) -> Decimal | None:
        return _cents_to_yuan(self.unit_price_cents)

    def __repr__(self) -> str:
        return f"<OrderItem {self.sku} x{self.quantity}>"


class TrackingEvent(Base):
    __tablename__ = "tracking_events"
    __table_args__ = (Index(None, "order_id", "position"),)

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)
    position = Column(Integer, nullable=False)
    at = Column(UtcDateTime, nullable=False)
    text = Column(Text, nullable=False)

    order = relationship("Order", back_populates="tracking_events")


class OrderContact(Base):
    """One conversation in which a buyer asked about an order (policy S2: "third contact")."""

    __tablename__ = "order_contacts"
    __table_args__ = (UniqueConstraint("order_id", "conversation_id"),)

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)
    conversation_id = Column(String(128), nullable=False)
    channel = Column(String(32))
    first_at = Column(UtcDateTime, nullable=False, default=utcnow)
    last_at = Column(UtcDateTime, nullable=False, default=utcnow)


class CaseDecision(Base):
    """Every decision the assistant states, also those that open no ticket (info, reject): the
    record reports and the agent desk read, and the link to the ticket the decision went to."""

    __tablename__ = "case_decisions"
    __table_args__ = (Index(None, "conversation_id"), Index(None, "order_id"))

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"))  # none: no order named (S3)
    item_sku = Column(String(64))
    category = Column(String(32))  # none for a status question answered by the order's state (X1)
    sub_issue = Column(String(32))
    rule_id = Column(String(16), nullable=False)
    remedies = Column(JSON, nullable=False, default=list)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="SET NULL"))
    buyer_objection = Column(Text)  # what the buyer said against the decision, for the agent
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # the idempotency guard: one in-progress ticket per conversation, order and category
        Index(
            "uq_tickets_active_conversation_order_category",
            "conversation_id",
            "order_id",
            "category",
            unique=True,
            sqlite_where=_ACTIVE_TICKET_WHERE,
            postgresql_where=_ACTIVE_TICKET_WHERE,
        ),
        Index(None, "status", "priority"),
        Index(None, "order_id"),
        Index(None, "conversation_id"),
        Index(None, "assignee"),
    )

    id = Column(Integer, primary_key=True)
    ticket_number = Column(String(32), nullable=False, unique=True)
    # NULL: a message the buyer left without naming an order (bot/console/leave_message.py)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="RESTRICT"))
    item_id = Column(Integer, ForeignKey("order_items.id", ondelete="SET NULL"))
    item_sku = Column(String(64))  # kept when a re-import drops the item row
    category = Column(String(32), nullable=False)
    sub_issue = Column(String(32))
    rule_id = Column(String(16))
    offered_remedies = Column(JSON, nullable=False, default=list)
    chosen_remedy = Column(String(32))
    shipping_payer = Column(String(16))
    evidence_required = Column(Boolean, nullable=False, default=False)
    status = Column(String(32), nullable=False)
    priority = Column(String(16), nullable=False)
    escalate = Column(Boolean, nullable=False, default=False)
    first_response_due = Column(UtcDateTime)
    resolution_due = Column(UtcDateTime)
    refund_due = Column(Date)
    warranty_end = Column(Date)
    conversation_id = Column(String(128))
    channel = Column(String(32))
    assignee = Column(String(64))  # the console agent who works the ticket (agents.username)
    description = Column(Text)
    decision_explanation = Column(Text)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    updated_at = Column(UtcDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    resolved_at = Column(UtcDateTime)
    closed_at = Column(UtcDateTime)

    order = relationship("Order", back_populates="tickets")
    item = relationship("OrderItem")
    events = relationship(
        "TicketEvent", back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )
    evidence = relationship("Evidence", back_populates="ticket", order_by="Evidence.id", cascade="all, delete-orphan")
    satisfaction = relationship(
        "SatisfactionScore", back_populates="ticket", uselist=False, cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Ticket {self.ticket_number} {self.status}>"


class Evidence(Base):
    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("ticket_id", "sha256"),)  # a retried upload is not stored twice

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False)
    reference = Column(Text, nullable=False)  # file path under the evidence dir, or a URL
    media_type = Column(String(100))
    size_bytes = Column(BigInteger)
    sha256 = Column(String(64), nullable=False)
    original_filename = Column(String(255))
    received_at = Column(UtcDateTime, nullable=False, default=utcnow)

    ticket = relationship("Ticket", back_populates="evidence")


class TicketEvent(Base):
    """The audit trail: every status change and field change of a ticket, with who did it."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index(None, "ticket_id", "at"),)

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False)
    from_status = Column(String(32))
    to_status = Column(String(32))
    details = Column(JSON)
    actor = Column(String(128), nullable=False)
    note = Column(Text)
    at = Column(UtcDateTime, nullable=False, default=utcnow)

    ticket = relationship("Ticket", back_populates="events")


class SatisfactionScore(Base):
    __tablename__ = "satisfaction_scores"
    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
        UniqueConstraint("ticket_id"),
    )

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False)
    score = Column(Integer, nullable=False)
    comment = Column(Text)
    conversation_id = Column(String(128))
    at = Column(UtcDateTime, nullable=False, default=utcnow)

    ticket = relationship("Ticket", back_populates="satisfaction")


class Handoff(Base):
    """The human hand-over queue (转人工): waiting → claimed → returned (to the bot) / resolved."""

    __tablename__ = "handoffs"
    __table_args__ = (
        Index(
            "uq_handoffs_active_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=_ACTIVE_HANDOFF_WHERE,
            postgresql_where=_ACTIVE_HANDOFF_WHERE,
        ),
        Index(None, "status", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="SET NULL"))
    reason = Column(String(64), nullable=False)
    priority = Column(String(16), nullable=False)
    status = Column(String(16), nullable=False)
    agent = Column(String(128))
    channel = Column(String(32))
    note = Column(Text)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    claimed_at = Column(UtcDateTime)
    ended_at = Column(UtcDateTime)

    ticket = relationship("Ticket")

    def __repr__(self) -> str:
        return f"<Handoff {self.id} {self.conversation_id} {self.status}>"


class Agent(Base):
    """A person who works in the agent console (migration 0002)."""

    __tablename__ = "agents"
    __table_args__ = (CheckConstraint("role IN ('agent', 'supervisor')", name="role_known"),)

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(100), nullable=False)
    role = Column(String(16), nullable=False)
    password_hash = Column(String(255), nullable=False)  # scrypt, see bot/console/accounts.py
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    last_login_at = Column(UtcDateTime)

    def __repr__(self) -> str:
        return f"<Agent {self.username} {self.role}>"


class AgentSession(Base):
    """A console login; only the SHA-256 of the cookie token is stored."""

    __tablename__ = "agent_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    expires_at = Column(UtcDateTime, nullable=False)
    ended_at = Column(UtcDateTime)

    agent = relationship("Agent")


class ConversationNote(Base):
    """An internal note agents leave on a conversation; buyers never see it."""

    __tablename__ = "conversation_notes"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="SET NULL"))
    author = Column(String(128), nullable=False)
    body = Column(Text, nullable=False)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)


class SecurityEvent(Base):
    """The security audit trail: lock-outs (phone digits guessed for an order, console logins)
    and other refusals worth a supervisor's look. `subject` is what was protected (an order
    number, an account name, a client address); never a password or phone digits."""

    __tablename__ = "security_events"
    __table_args__ = (Index(None, "kind", "at"),)

    id = Column(Integer, primary_key=True)
    kind = Column(String(48), nullable=False)
    subject = Column(String(128), nullable=False)
    conversation_id = Column(String(128))
    details = Column(JSON)
    at = Column(UtcDateTime, nullable=False, default=utcnow)
