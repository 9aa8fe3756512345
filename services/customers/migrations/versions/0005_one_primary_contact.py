"""one primary contact per customer: a unique partial index (two made at the same moment
cannot both be primary)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 07:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

LIVE_PRIMARY = "is_primary AND deleted_at IS NULL"


def upgrade() -> None:
    # Should two primaries exist already (made concurrently before this index), the newest
    # of each customer's stays primary.
    op.execute(
        "UPDATE contacts SET is_primary = false WHERE is_primary AND deleted_at IS NULL AND id "
        "NOT IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY customer_id ORDER "
        "BY created_at DESC, id) AS n FROM contacts WHERE is_primary AND deleted_at IS NULL) "
        "ranked WHERE n = 1)")
    op.create_index("uq_contacts_one_primary", "contacts", ["customer_id"], unique=True,
                    postgresql_where=sa.text(LIVE_PRIMARY), sqlite_where=sa.text(LIVE_PRIMARY))


def downgrade() -> None:
    op.drop_index("uq_contacts_one_primary", table_name="contacts")
