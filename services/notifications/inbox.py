"""The in-app inbox and the user's notification preferences."""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from common.db import utcnow
from common.errors import NotFound
from common.listing import order_by, paginate
from common.uow import UnitOfWork
from common.validation import load
from services.notifications import schemas as s
from services.notifications.access import me
from services.notifications.models import Notification, Preference
from services.notifications.reminders import settings_of

notification_out = s.NotificationSchema()


def _mine(uow: UnitOfWork):
    return sa.select(Notification).where(Notification.user_id == me(uow))


def list_notifications(uow: UnitOfWork, query_args) -> dict:
    args = load(s.NotificationListQuerySchema(), query_args)
    query = _mine(uow)
    if args.get("unread") is not None:
        query = query.where(Notification.read_at.is_(None) if args["unread"]
                            else Notification.read_at.is_not(None))
    query = query.order_by(*order_by(Notification, args["sort"], s.NOTIFICATION_SORT_FIELDS))
    return paginate(uow.session, query, page=args["page"], per_page=args["per_page"],
                    dump=notification_out.dump)


def unread_count(uow: UnitOfWork) -> dict:
    unread = _mine(uow).where(Notification.read_at.is_(None)).subquery()
    return {"count": uow.session.scalar(sa.select(sa.func.count()).select_from(unread))}


def mark_read(uow: UnitOfWork, notification_id) -> dict:
    try:
        key = uuid.UUID(str(notification_id))
    except ValueError:
        key = None
    notification = uow.session.scalar(_mine(uow).where(Notification.id == key)) if key else None
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


def set_preferences(uow: UnitOfWork, payload) -> dict:
    data = load(s.PreferencesSchema(), payload)
    user_id = me(uow)
    preference = uow.session.get(Preference, user_id) or Preference(user_id=user_id)
    preference.channels = [channel for channel in s.CHANNELS
                           if channel == "in_app" or channel in data["channels"]]
    preference.language = data["language"]
    preference.timezone = data["timezone"]
    uow.session.add(preference)
    uow.commit()
    return get_preferences(uow)
