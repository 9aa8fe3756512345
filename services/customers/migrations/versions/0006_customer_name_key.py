"""customers.name_key: the name as duplicates are found by, stored and indexed so that
finding them is a query; existing customers get theirs, and contacts' phone_normalized is
computed again by the rule that makes the country code optional (common.normalize)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 08:00:00
"""
from alembic import op
import sqlalchemy as sa

from common.migrations import digits_only, recompute
from common.normalize import name_key, phone

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers') as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=200), nullable=False,
                                      server_default=''))
    recompute('customers', 'name_key', 'name', name_key)
    with op.batch_alter_table('customers') as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_name_key'), ['name_key'], unique=False)
    recompute('contacts', 'phone_normalized', 'phone', phone)


def downgrade() -> None:
    recompute('contacts', 'phone_normalized', 'phone', digits_only)
    with op.batch_alter_table('customers') as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_name_key'))
        batch_op.drop_column('name_key')
