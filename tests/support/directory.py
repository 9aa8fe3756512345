"""Teach a service's directory of people (``common.directory``) who the test's actors are,
as the gateway's ``user.created`` events would, without a broker."""
from __future__ import annotations

import uuid

from common import directory
from common.actor import Actor
from common.uow import UnitOfWork


def user_event(user_id, role="sales", team_id=None, version=1, active=True) -> dict:
    return {"id": str(uuid.uuid4()), "type": "user.created", "entity_id": str(user_id),
            "entity_version": version,
            "data": {"id": str(user_id), "username": f"u{str(user_id)[:6]}", "display_name": "U",
                     "email": None, "role": role, "team_id": team_id, "language": "en",
                     "timezone": "UTC", "active": active, "version": version}}


def know(session_factory, platform, source: str, *actors: Actor) -> None:
    """Put ``actors`` in the directory of the service whose database is given, active, with
    their roles and teams."""
    with UnitOfWork(session_factory, platform, source, Actor.system("test")) as uow:
        for actor in actors:
            if actor.user_id:
                directory.apply_user(uow, user_event(actor.user_id, actor.role, actor.team_id))
        uow.commit()
