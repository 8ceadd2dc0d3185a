"""tickets without an order: a message left while no agent could answer need not name one

Revision ID: 0006_tickets_without_order
Revises: 0005_ticket_assignee
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_tickets_without_order"
down_revision = "0005_ticket_assignee"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column("order_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column("order_id", existing_type=sa.Integer(), nullable=False)
