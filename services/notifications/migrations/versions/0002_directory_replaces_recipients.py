"""directory of people replaces recipients: the local copy of users every service keeps
(common.directory) holds what the notifications service knew of its recipients

Every ``recipients`` row becomes a ``directory_users`` row, at the version of the user's last
applied event (its ``tracked_entities`` row, else 1); users' versions are no longer tracked
there. Downgrading copies them back.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 07:00:00
"""
import uuid

import sqlalchemy as sa
from alembic import op

from common.migrations import create_directory_tables, drop_directory_tables

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

PROFILE = ("username", "display_name", "email", "role", "team_id", "language", "timezone",
           "active")

tracked_entities = sa.table(
    "tracked_entities",
    sa.column("entity_type", sa.String), sa.column("entity_id", sa.String),
    sa.column("version", sa.Integer), sa.column("state", sa.JSON),
)


def _recipient_columns() -> list[sa.Column]:
    """``recipients`` as revision 0001 made it."""
    text = {"username": 64, "display_name": 100, "email": 254, "role": 16}
    return [sa.Column("user_id", sa.Uuid(), primary_key=True),
            *[sa.Column(name, sa.String(length=length)) for name, length in text.items()],
            sa.Column("team_id", sa.Uuid()),
            sa.Column("language", sa.String(length=8), nullable=False),
            sa.Column("timezone", sa.String(length=64), nullable=False),
            sa.Column("active", sa.Boolean(), nullable=False)]


recipients = sa.Table("recipients", sa.MetaData(), *_recipient_columns())
directory_users = sa.table("directory_users", sa.column("id", sa.Uuid),
                           sa.column("version", sa.Integer),
                           *[sa.column(name, recipients.c[name].type) for name in PROFILE])


def _user_versions(conn) -> dict:
    """The version of each user's last applied event, by user id."""
    versions = {}
    for entity_id, version in conn.execute(
            sa.select(tracked_entities.c.entity_id, tracked_entities.c.version)
            .where(tracked_entities.c.entity_type == "user")):
        try:
            versions[uuid.UUID(entity_id)] = version
        except ValueError:
            continue  # not a user id: nothing to carry over
    return versions


def upgrade() -> None:
    create_directory_tables()
    conn = op.get_bind()
    versions = _user_versions(conn)
    rows = [{"id": row.user_id, **{name: getattr(row, name) for name in PROFILE},
             "version": versions.get(row.user_id) or 1}
            for row in conn.execute(sa.select(recipients))]
    if rows:
        op.bulk_insert(directory_users, rows)
    op.execute(tracked_entities.delete().where(tracked_entities.c.entity_type == "user"))
    op.drop_table("recipients")


def downgrade() -> None:
    op.create_table("recipients", *_recipient_columns())
    conn = op.get_bind()
    users = conn.execute(sa.select(directory_users).where(directory_users.c.version > 0)).all()
    if users:
        op.bulk_insert(recipients, [
            {"user_id": row.id, **{name: getattr(row, name) for name in PROFILE},
             "language": row.language or "en", "timezone": row.timezone or "UTC"}
            for row in users])
        op.bulk_insert(tracked_entities, [
            {"entity_type": "user", "entity_id": str(row.id), "version": row.version,
             "state": {}} for row in users])
    # Teams were not kept before: they are dropped with the directory.
    drop_directory_tables()
