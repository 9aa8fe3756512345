"""import jobs and their rows (common.import_jobs): an uploaded file's rows kept with the
job that imports them, so a job survives a restart of its service

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 09:00:00
"""
from common.migrations import create_import_tables, drop_import_tables

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_import_tables()


def downgrade() -> None:
    drop_import_tables()
