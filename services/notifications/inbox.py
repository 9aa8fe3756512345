"""The in-app inbox and the user's notification preferences."""
from __future__ import annotations

import sqlalchemy as sa

from common.db import utcnow
from common.errors import NotFound
from common.listing import order_by, paginate
from common.records import as_uuid
from common.uow import UnitOfWork
from common.validation import load
from services.notifications import schemas as s
from services.notifications.access import me
from services.notifications.models import Notification, Preference
from services.notifications.settings import DEFAULT_CHANNELS, settings_of

notification_out = s.NotificationSchema()


def _mine(uow: UnitOfWork):
    return sa.select(Notification).where(Notification.user_id == me(uow))


def list_notifications(uow: UnitOfWork, query_args) -> dict:
    args = load(s.NotificationListQuerySchema, query_args)
    query = _mine(uow)
    if args.get("unread") is not None:
        query = query.where(Notification.read_at.is_(None) if args["unread"]
                            else Notification.read_at.is_not(None))
    query = query.order_by(*order_by(Notification, args["sort"], s.NOTIFICATION_SORT_FIELDS))
    return paginate(uow.session, query, args, dump=notification_out.dump)


def unread_count(uow: UnitOfWork) -> dict:
    unread = _mine(uow).where(Notification.read_at.is_(None)).subquery()
    return {"count": uow.session.scalar(sa.select(sa.func.count()).select_from(unread))}


def mark_read(uow: UnitOfWork, notification_id) -> dict:
    key = as_uuid(notification_id, "notification")
    notification = uow.session.scalar(_mine(uow).where(Notification.id == key))
    if notification is None:
        raise NotFound(f"No notification with id {notification_id}.")
    if notification.read_at is None:
        notification.read_at = utcnow()
        uow.commit()
    return notification_out.dump(notification)


def mark_all_read(uow: UnitOfWork) -> dict:
    result = uow.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == me(uow), Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    uow.commit()
    return {"updated": result.rowcount}


def get_preferences(uow: UnitOfWork) -> dict:
    settings = settings_of(uow.session, me(uow))
    return {"channels": list(settings.channels), "language": settings.language,
            "timezone": settings.timezone}


def _choices(preference: Preference | None) -> dict:
    """What a user chose (a user who never chose has the default channels and follows their
    profile)."""
    if preference is None:
        return {"channels": list(DEFAULT_CHANNELS), "language": None, "timezone": None}
    return {"channels": list(preference.channels), "language": preference.language,
            "timezone": preference.timezone}


def set_preferences(uow: UnitOfWork, payload) -> dict:
    """Replace the user's choices; choices as they already are write nothing."""
    data = load(s.PreferencesSchema, payload)
    user_id = me(uow)
    preference = uow.session.get(Preference, user_id)
    wanted = {"channels": [channel for channel in s.CHANNELS
                           if channel == "in_app" or channel in data["channels"]],
              "language": data["language"], "timezone": data["timezone"]}
    if wanted != _choices(preference):
        preference = preference or Preference(user_id=user_id)
        for name, value in wanted.items():
            setattr(preference, name, value)
        uow.session.add(preference)
        uow.commit()
    return get_preferences(uow)
