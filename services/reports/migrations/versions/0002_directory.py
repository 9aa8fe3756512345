"""directory of people (common.directory), as every service keeps it

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 06:00:00
"""
from common.migrations import create_directory_tables, drop_directory_tables

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_directory_tables()


def downgrade() -> None:
    drop_directory_tables()
