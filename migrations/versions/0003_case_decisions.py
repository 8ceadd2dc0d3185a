"""case decisions: every stated decision, also those that open no ticket

Revision ID: 0003_case_decisions
Revises: 0002_agent_console
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_case_decisions"
down_revision = "0002_agent_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("item_sku", sa.String(64), nullable=True),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("sub_issue", sa.String(32), nullable=True),
        sa.Column("rule_id", sa.String(16), nullable=False),
        sa.Column("remedies", sa.JSON(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("buyer_objection", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_case_decisions_order_id_orders", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_case_decisions_ticket_id_tickets", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_case_decisions"),
    )
    op.create_index("ix_case_decisions_conversation_id", "case_decisions", ["conversation_id"])
    op.create_index("ix_case_decisions_order_id", "case_decisions", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_case_decisions_order_id", table_name="case_decisions")
    op.drop_index("ix_case_decisions_conversation_id", table_name="case_decisions")
    op.drop_table("case_decisions")
