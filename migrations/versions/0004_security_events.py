"""security audit trail: lock-outs and refusals

Revision ID: 0004_security_events
Revises: 0003_case_decisions
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_security_events"
down_revision = "0003_case_decisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "security_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_security_events"),
    )
    op.create_index("ix_security_events_kind_at", "security_events", ["kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_security_events_kind_at", table_name="security_events")
    op.drop_table("security_events")
