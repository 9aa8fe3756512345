"""Tell the services every user and team again, as they are now.

    python -m gateway.identity.announce

Each user and team is announced as ``user.updated`` / ``team.updated`` at its current
version, through the outbox like any change. The services keep a version-guarded copy of
users and teams (``common.directory``): one that already holds that version ignores the
event, one whose copy is new or empty (a service added later, a database restored from an
older backup) learns everyone. Safe to run at any time, as often as needed.
"""
from __future__ import annotations

import argparse

import sqlalchemy as sa

from common.uow import UnitOfWork
from gateway.outbox import command_unit_of_work
from gateway.identity.records import TEAM, USER, announce, require_admin


def announce_all(uow: UnitOfWork) -> dict[str, int]:
    """Announce every team and user in one transaction; how many of each."""
    require_admin(uow.actor)
    counts = {}
    for published in (TEAM, USER):
        model = published.model
        rows = uow.session.scalars(sa.select(model).order_by(model.id)).all()
        for row in rows:
            announce(uow, published, row, "updated")
        counts[published.name] = len(rows)
    uow.commit()
    return counts


def main(argv=None) -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    with command_unit_of_work("announce") as uow:
        counts = announce_all(uow)
    print(f"announced {counts['user']} user(s) and {counts['team']} team(s)")


if __name__ == "__main__":
    main()
