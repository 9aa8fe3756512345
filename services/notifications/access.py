"""Who may do what here: reminders, the inbox and preferences belong to the signed-in user
(another user's record is not found, never shown); webhooks are for admins and API keys."""
from __future__ import annotations

import uuid

from common.errors import Forbidden
from common.uow import UnitOfWork


def me(uow: UnitOfWork) -> uuid.UUID:
    if not uow.actor.user_id:
        raise Forbidden("Reminders and notifications belong to a user; sign in as one.")
    return uow.actor.user_uuid


def require_admin(uow: UnitOfWork) -> None:
    if not uow.actor.acts_as_admin:
        raise Forbidden("Only admins and API keys manage webhooks.")

