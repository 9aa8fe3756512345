"""Create the first admin (and, with ``--demo``, a small sales organisation) in the identity
database. Safe to run again: what exists is left as it is.

    python -m gateway.seed [--demo]
"""
from __future__ import annotations

import argparse
import sys

import sqlalchemy as sa
from sqlalchemy.orm import Session

from common import config
from common.db import create_db_engine
from gateway.events import identity_sessions
from gateway.auth.passwords import hash_password
from gateway.models import Team, User

DEMO_PASSWORD = "demo-password-1"
DEMO_TEAMS = ("East", "West")
# username, display name, role, team
DEMO_USERS = (
    ("maria", "Maria Manager", "manager", "East"),
    ("sam", "Sam Sales", "sales", "East"),
    ("sara", "Sara Sales", "sales", "West"),
    ("alex", "Alex Analyst", "analyst", None),
)


def ensure_user(db: Session, username: str, password: str, role: str, **fields) -> bool:
    """Create the user unless the username exists; True when created."""
    if db.scalar(sa.select(User.id).where(User.username == username)) is not None:
        return False
    db.add(User(username=username, password_hash=hash_password(password), role=role, **fields))
    db.flush()
    return True


def ensure_team(db: Session, name: str) -> tuple[Team, bool]:
    team = db.scalar(sa.select(Team).where(Team.name == name))
    if team is not None:
        return team, False
    team = Team(name=name)
    db.add(team)
    db.flush()
    return team, True


def seed(db: Session, demo: bool) -> list[str]:
    """Seed and commit; returns a line for each thing created."""
    created = []
    password = config.admin_password()
    if ensure_user(db, "admin", password, "admin", display_name="Administrator"):
        created.append("user admin (admin)")
    if demo:
        teams = {}
        for name in DEMO_TEAMS:
            teams[name], new = ensure_team(db, name)
            if new:
                created.append(f"team {name}")
        for username, display_name, role, team in DEMO_USERS:
            team_id = teams[team].id if team else None
            if ensure_user(db, username, DEMO_PASSWORD, role, display_name=display_name, team_id=team_id):
                created.append(f"user {username} ({role}{', ' + team if team else ''}), password {DEMO_PASSWORD}")
    db.commit()
    return created


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Seed the gateway's identity database")
    parser.add_argument("--demo", action="store_true", help="also create demo teams and users")
    args = parser.parse_args(argv)
    engine = create_db_engine(config.database_url("gateway"))
    try:
        session_factory, _ = identity_sessions(engine)
        with session_factory() as db:
            created = seed(db, args.demo)
    finally:
        engine.dispose()
    for line in created:
        print(f"created {line}")
    if not created:
        print("nothing to create: already seeded")
    if config.admin_password() == config.DEV_ADMIN_PASSWORD:
        print(
            "WARNING: the admin password is the development-only default "
            f"{config.DEV_ADMIN_PASSWORD!r}; set CRM_ADMIN_PASSWORD before exposing this CRM.",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
