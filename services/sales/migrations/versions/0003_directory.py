"""directory of people replaces members and teams

Sales kept its own copy of users (``members``) and teams; every service now keeps the same
copy in the platform's directory tables (``common.directory``). What sales knew moves over,
with its versions, so no user has to be announced again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 06:00:00
"""
from alembic import op
import sqlalchemy as sa

from common.migrations import create_directory_tables, drop_directory_tables

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_directory_tables()
    op.execute(
        "INSERT INTO directory_users (id, username, display_name, email, role, team_id, active, "
        "version) SELECT id, username, display_name, email, role, team_id, active, version "
        "FROM members")
    op.execute("INSERT INTO directory_teams (id, name, manager_id, version) "
               "SELECT id, name, manager_id, version FROM teams")
    op.drop_index('ix_members_team_id', table_name='members')
    op.drop_table('members')
    op.drop_table('teams')


def downgrade() -> None:
    op.create_table(
        'members',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('username', sa.String(length=150), nullable=False),
        sa.Column('display_name', sa.String(length=200), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('team_id', sa.Uuid(), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_members_team_id', 'members', ['team_id'], unique=False)
    op.create_table(
        'teams',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('manager_id', sa.Uuid(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.execute(
        "INSERT INTO members (id, username, display_name, email, role, team_id, active, version) "
        "SELECT id, COALESCE(username, ''), display_name, email, COALESCE(role, ''), team_id, "
        "active, version FROM directory_users WHERE version > 0")
    op.execute("INSERT INTO teams (id, name, manager_id, version) "
               "SELECT id, COALESCE(name, ''), manager_id, version FROM directory_teams "
               "WHERE version > 0")
    drop_directory_tables()
