"""Create the first admin (and, with ``--demo``, a small sales organisation) in the identity
database. Safe to run again: what exists is left as it is.

    python -m gateway.seed [--demo]

Users and teams are made by identity's use cases, acting as ``Actor.system("seed")``, so they
are validated and announced to the services exactly as if an admin had made them.
"""
from __future__ import annotations

import argparse
import sys

import sqlalchemy as sa

from common import config
from common.errors import ValidationError
from common.uow import UnitOfWork
from gateway.outbox import command_unit_of_work
from gateway.identity import teams, users
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


def ensure_user(uow: UnitOfWork, username: str, password: str, role: str, **fields) -> bool:
    """Create the user unless the username exists; True when created."""
    if uow.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        return False
    users.create_user(uow, {"username": username, "password": password, "role": role, **fields})
    return True


def ensure_team(uow: UnitOfWork, name: str) -> tuple[str, bool]:
    """The team's id, made unless the name exists; True when created."""
    team_id = uow.session.scalar(sa.select(Team.id).where(Team.name == name))
    if team_id is not None:
        return str(team_id), False
    return teams.create_team(uow, {"name": name})["id"], True


def seed(uow: UnitOfWork, demo: bool) -> list[str]:
    """Seed (each creation commits); returns a line for each thing created."""
    created = []
    if ensure_user(uow, "admin", config.admin_password(), "admin", display_name="Administrator"):
        created.append("user admin (admin)")
    if demo:
        team_ids = {}
        for name in DEMO_TEAMS:
            team_ids[name], new = ensure_team(uow, name)
            if new:
                created.append(f"team {name}")
        for username, display_name, role, team in DEMO_USERS:
            team_id = team_ids[team] if team else None
            if ensure_user(uow, username, DEMO_PASSWORD, role, display_name=display_name,
                           team_id=team_id):
                created.append(f"user {username} ({role}{', ' + team if team else ''}), password {DEMO_PASSWORD}")
    return created


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Seed the gateway's identity database")
    parser.add_argument("--demo", action="store_true", help="also create demo teams and users")
    args = parser.parse_args(argv)
    try:
        with command_unit_of_work("seed") as uow:
            created = seed(uow, args.demo)
    except ValidationError as exc:
        sys.exit(f"cannot seed: {exc.details}")
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
