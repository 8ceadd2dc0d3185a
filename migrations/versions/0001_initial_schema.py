"""initial schema: orders, items, tracking, contacts, tickets, evidence, audit, satisfaction, hand-overs

Revision ID: 0001_initial_schema
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_initial_schema"
down_revision = None
branch_labels = None
depends_on = None

ACTIVE_TICKET_WHERE = "status IN ('awaiting_evidence', 'open', 'pending_buyer', 'with_agent')"
ACTIVE_HANDOFF_WHERE = "status IN ('waiting', 'claimed')"


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=True),
        sa.Column("buyer_name", sa.String(100), nullable=False),
        sa.Column("buyer_phone", sa.String(32), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("cross_border", sa.Boolean(), nullable=False),
        sa.Column("origin_country", sa.String(8), nullable=True),
        sa.Column("payment_method", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.Column("shipped_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("promised_delivery_days", sa.Integer(), nullable=True),
        sa.Column("carrier", sa.String(64), nullable=True),
        sa.Column("tracking_number", sa.String(64), nullable=True),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("order_number", name="uq_orders_order_number"),
    )
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])

    op.create_table(
        "order_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("unit_price_cents", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_order_items_order_id_orders", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_order_items"),
        sa.UniqueConstraint("order_id", "sku", name="uq_order_items_order_id_sku"),
    )

    op.create_table(
        "tracking_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_tracking_events_order_id_orders", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tracking_events"),
    )
    op.create_index("ix_tracking_events_order_id_position", "tracking_events", ["order_id", "position"])

    op.create_table(
        "order_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("first_at", sa.DateTime(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_order_contacts_order_id_orders", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_order_contacts"),
        sa.UniqueConstraint("order_id", "conversation_id", name="uq_order_contacts_order_id_conversation_id"),
    )

    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_number", sa.String(32), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("item_sku", sa.String(64), nullable=True),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("sub_issue", sa.String(32), nullable=True),
        sa.Column("rule_id", sa.String(16), nullable=True),
        sa.Column("offered_remedies", sa.JSON(), nullable=False),
        sa.Column("chosen_remedy", sa.String(32), nullable=True),
        sa.Column("shipping_payer", sa.String(16), nullable=True),
        sa.Column("evidence_required", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("escalate", sa.Boolean(), nullable=False),
        sa.Column("first_response_due", sa.DateTime(), nullable=True),
        sa.Column("resolution_due", sa.DateTime(), nullable=True),
        sa.Column("refund_due", sa.Date(), nullable=True),
        sa.Column("warranty_end", sa.Date(), nullable=True),
        sa.Column("conversation_id", sa.String(128), nullable=True),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("decision_explanation", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_tickets_order_id_orders", ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(
            ["item_id"], ["order_items.id"], name="fk_tickets_item_id_order_items", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
        sa.UniqueConstraint("ticket_number", name="uq_tickets_ticket_number"),
    )
    op.create_index(
        "uq_tickets_active_conversation_order_category",
        "tickets",
        ["conversation_id", "order_id", "category"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_TICKET_WHERE),
        postgresql_where=sa.text(ACTIVE_TICKET_WHERE),
    )
    op.create_index("ix_tickets_status_priority", "tickets", ["status", "priority"])
    op.create_index("ix_tickets_order_id", "tickets", ["order_id"])
    op.create_index("ix_tickets_conversation_id", "tickets", ["conversation_id"])

    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("original_filename", sa.String(255), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_evidence_ticket_id_tickets", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_evidence"),
        sa.UniqueConstraint("ticket_id", "sha256", name="uq_evidence_ticket_id_sha256"),
    )

    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_ticket_events_ticket_id_tickets", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_events"),
    )
    op.create_index("ix_ticket_events_ticket_id_at", "ticket_events", ["ticket_id", "at"])

    op.create_table(
        "satisfaction_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("conversation_id", sa.String(128), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="ck_satisfaction_scores_score_range"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_satisfaction_scores_ticket_id_tickets", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_satisfaction_scores"),
        sa.UniqueConstraint("ticket_id", name="uq_satisfaction_scores_ticket_id"),
    )

    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("agent", sa.String(128), nullable=True),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_handoffs_ticket_id_tickets", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_handoffs"),
    )
    op.create_index(
        "uq_handoffs_active_conversation",
        "handoffs",
        ["conversation_id"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_HANDOFF_WHERE),
        postgresql_where=sa.text(ACTIVE_HANDOFF_WHERE),
    )
    op.create_index("ix_handoffs_status_created_at", "handoffs", ["status", "created_at"])


def downgrade() -> None:
    op.drop_table("handoffs")
    op.drop_table("satisfaction_scores")
    op.drop_table("ticket_events")
    op.drop_table("evidence")
    op.drop_table("tickets")
    op.drop_table("order_contacts")
    op.drop_table("tracking_events")
    op.drop_table("order_items")
    op.drop_table("orders")
