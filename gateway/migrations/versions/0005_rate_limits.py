"""rate limits: request and failed-login counts shared by every gateway worker

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 07:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # UNLOGGED on PostgreSQL: a count is worth no disk flush per request, and after a crash
    # the server empties the table, which only forgives the current windows.
    unlogged = ["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else []
    op.create_table('rate_limit_counters',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('resets_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key'),
    prefixes=unlogged,
    )
    op.create_index(op.f('ix_rate_limit_counters_resets_at'), 'rate_limit_counters', ['resets_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_rate_limit_counters_resets_at'), table_name='rate_limit_counters')
    op.drop_table('rate_limit_counters')
