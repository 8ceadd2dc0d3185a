"""ticket assignee: the console agent who works a ticket

Revision ID: 0005_ticket_assignee
Revises: 0004_security_events
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_ticket_assignee"
down_revision = "0004_security_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("assignee", sa.String(64), nullable=True))
    op.create_index("ix_tickets_assignee", "tickets", ["assignee"])


def downgrade() -> None:
    op.drop_index("ix_tickets_assignee", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("assignee")
