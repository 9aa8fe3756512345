"""read model (live and rebuild copies), rebuilds, platform tables

Revision ID: 0001
Revises:
Create Date: 2026-12-02 12:17:29.856154
"""
from alembic import op
import sqlalchemy as sa

from common.migrations import create_platform_tables, drop_platform_tables


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

# name -> (columns, indexes): the tables a rebuild fills, made twice (live and "_next").
REBUILT = {
    'customers': (lambda: [
        sa.Column('id', sa.Uuid(), primary_key=True),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('industry', sa.String(length=100), nullable=True),
        *_region(),
        sa.Column('tier', sa.String(length=1), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        *_owner(),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        _version()], [('owner_id',), ('team_id',)]),
    'contacts': (lambda: [
        sa.Column('id', sa.Uuid(), primary_key=True),
        sa.Column('customer_id', sa.Uuid(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('phone', sa.String(length=50), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('is_primary', sa.Boolean(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        _version()], [('customer_id',)]),
    'activities': (lambda: [
        sa.Column('id', sa.Uuid(), primary_key=True),
        sa.Column('customer_id', sa.Uuid(), nullable=False),
        sa.Column('deal_id', sa.Uuid(), nullable=True),
        sa.Column('user_id', sa.Uuid(), nullable=True),
        sa.Column('type', sa.String(length=16), nullable=False),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        _version()], [('customer_id', 'occurred_at'), ('occurred_at',)]),
    'products': (lambda: [
        sa.Column('id', sa.Uuid(), primary_key=True),
        sa.Column('sku', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('category', sa.String(length=100), nullable=True),
        _version()], []),
    'leads': (lambda: [
        sa.Column('id', sa.Uuid(), primary_key=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        *_region(),
        *_owner(),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('converted_at', sa.DateTime(timezone=True), nullable=True),
        _version()], [('created_at',)]),
    'stages': (lambda: [
        sa.Column('key', sa.String(length=40), primary_key=True),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('probability', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('pipeline_version', sa.Integer(), nullable=False)], []),
    'deals': (lambda: [
        sa.Column('id', sa.Uuid(), primary_key=True),
        sa.Column('customer_id', sa.Uuid(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('stage', sa.String(length=40), nullable=False),
        sa.Column('probability', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('expected_close_date', sa.Date(), nullable=True),
        *_owner(),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('stages', sa.Text(), nullable=False),
        _version()], [('currency', 'status', 'closed_at'), ('currency', 'created_at'),
                      ('customer_id',), ('owner_id',), ('team_id',)]),
    'deal_lines': (lambda: [
        sa.Column('deal_id', sa.Uuid(), primary_key=True),
        sa.Column('position', sa.Integer(), primary_key=True),
        sa.Column('product_id', sa.Uuid(), nullable=False),
        sa.Column('quantity', sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column('unit_price', sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column('discount', sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False)],
        [('product_id',)]),
}


def _region():
    return [sa.Column(name, sa.String(length=100), nullable=True)
            for name in ('country', 'province', 'city')]


def _owner():
    return [sa.Column('owner_id', sa.Uuid(), nullable=True),
            sa.Column('team_id', sa.Uuid(), nullable=True)]


def _version():
    return sa.Column('version', sa.Integer(), nullable=False)


def upgrade() -> None:
    create_platform_tables()
    for suffix in ('', '_next'):
        for name, (columns, indexes) in REBUILT.items():
            table = f'reports_{name}{suffix}'
            op.create_table(table, *columns())
            for index in indexes:
                op.create_index(f"ix_{table}_{'_'.join(index)}", table, list(index))
    op.create_table(
        'reports_users',
        sa.Column('id', sa.Uuid(), primary_key=True),
        sa.Column('username', sa.String(length=150), nullable=False),
        sa.Column('display_name', sa.String(length=200), nullable=True),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('team_id', sa.Uuid(), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        _version())
    op.create_table(
        'reports_teams',
        sa.Column('id', sa.Uuid(), primary_key=True),
        sa.Column('name', sa.String(length=200), nullable=False),
        _version())
    op.create_table(
        'reports_freshness',
        sa.Column('source', sa.String(length=40), primary_key=True),
        sa.Column('as_of', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'reports_rebuilds',
        sa.Column('id', sa.Uuid(), primary_key=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('requested_by', sa.Uuid(), nullable=True),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.Text(), nullable=True))
    op.create_index('ix_reports_rebuilds_status', 'reports_rebuilds', ['status'])


def downgrade() -> None:
    for table in ('reports_rebuilds', 'reports_freshness', 'reports_teams', 'reports_users'):
        op.drop_table(table)
    for suffix in ('', '_next'):
        for name in REBUILT:
            op.drop_table(f'reports_{name}{suffix}')
    drop_platform_tables()
