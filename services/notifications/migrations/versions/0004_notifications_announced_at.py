"""notifications.announced_at: a sent reminder's events are written after its inbox entry, in
a transaction of their own (services.notifications.scheduler); entries already there were
announced with it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 19:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("announced_at", sa.DateTime(timezone=True),
                                             nullable=True))
    op.execute("UPDATE notifications SET announced_at = created_at")
    op.create_index("ix_notifications_announced_at", "notifications", ["announced_at"])


def downgrade() -> None:
    op.drop_index("ix_notifications_announced_at", "notifications")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("announced_at")
