"""The users use cases: each function is one use case run inside a unit of work.

Admins list, read, create and change users; every creation and change is announced as
``user.created`` / ``user.updated`` for the services' copies, and a new password or a
deactivation ends the user's sessions in the same transaction.
"""
from __future__ import annotations

import sqlalchemy as sa

from common.uow import UnitOfWork
from common.validation import load
from gateway.auth.passwords import hash_password
from gateway.auth import callers
from gateway.auth.tokens import revoke_user
from gateway.identity import schemas as s
from gateway.identity.records import USER, create, edit, load_change, require_admin
from gateway.models import User


def list_users(uow: UnitOfWork, query_args) -> dict:
    """Every user for an admin; for a manager, the active users of their own team (whom they
    may give records to, as the sales service's rules allow)."""
    args = load(s.UserListQuerySchema, query_args)
    conditions = [getattr(User, name) == args[name] for name in ("role", "team_id", "active")
                  if name in args]
    if uow.actor.role == "manager" and uow.actor.team_id is not None and uow.actor.user_id:
        conditions += [User.team_id == uow.actor.team_uuid, User.active.is_(True)]
    else:
        require_admin(uow.actor)
    if args.get("q"):
        pattern = f"%{args['q'].lower()}%"
        conditions.append(sa.or_(
            User.username.like(pattern),
            sa.func.lower(User.display_name).like(pattern),
            sa.func.lower(User.email).like(pattern),
        ))
    return USER.page(uow, args, conditions)


def get_user(uow: UnitOfWork, user_id) -> dict:
    require_admin(uow.actor)
    return USER.out.dump(USER.find(uow, user_id))


def _password_hashed(data: dict) -> dict:
    """``data`` with its ``password``, if any, as the ``password_hash`` stored."""
    if "password" in data:
        data["password_hash"] = hash_password(data.pop("password"))
    return data


def create_user(uow: UnitOfWork, payload) -> dict:
    require_admin(uow.actor)
    data = _password_hashed(load(s.UserInputSchema, payload))
    data.setdefault("display_name", data["username"])
    return create(uow, USER, data)


def update_user(uow: UnitOfWork, user_id, payload) -> dict:
    """Change a user; nothing changed answers the user as it is and announces nothing."""
    require_admin(uow.actor)
    data, version = load_change(s.UserPatchSchema, payload)
    data = _password_hashed(data)

    def after_change(user: User) -> None:
        if "password_hash" in data or data.get("active") is False:
            revoke_user(uow.session, user.id)  # which forgets the user too
        else:
            callers.forget_user(user.id)  # role or team: read again on the next request

    return edit(uow, USER, user_id, data, version, on_change=after_change)
