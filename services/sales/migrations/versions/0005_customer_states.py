"""customer states: the newest customer event applied per customer (ordering of
customer.deleted / customer.restored)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 07:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'customer_states',
        sa.Column('customer_id', sa.Uuid(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('customer_id'),
    )


def downgrade() -> None:
    op.drop_table('customer_states')
