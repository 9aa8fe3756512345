"""leads(created_at, id): the creation order exports page by (``common.listing.keyset_page``),
an index range from the cursor on, not a sort of every lead at every page

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 11:30:00
"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_leads_created_at_id', 'leads', ['created_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_leads_created_at_id', table_name='leads')
