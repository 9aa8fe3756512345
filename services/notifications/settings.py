"""How to reach a user: the channels, language and time zone a reminder is sent with, and the
address its mail goes to.

Two sources meet here and nowhere else: the user's own choices (a ``Preference`` row, set
with ``inbox.set_preferences``) and what the gateway says of them (the directory of people,
``common.directory``, kept from its ``user.*`` events). A choice the user made wins over their
profile, and the profile over the defaults. The scheduler reads the settings of a whole batch
at once; planning reads an owner's time zone for date-based reminders.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from common import directory
from common.records import optional_uuid
from services.notifications.models import Preference, platform

DEFAULT_CHANNELS = ("in_app", "email")


@dataclass(frozen=True)
class Settings:
    """How to reach a user: their preferences over their profile over the defaults."""

    channels: tuple[str, ...]
    language: str
    timezone: str
    email: str | None
    active: bool = True


def settings_of(session, user_id) -> Settings:
    return settings_of_many(session, [user_id])[optional_uuid(user_id)]


def settings_of_many(session, user_ids) -> dict[uuid.UUID, Settings]:
    """The settings of several users in two queries (the scheduler reads a batch at once)."""
    keys = {optional_uuid(user_id) for user_id in user_ids}
    profiles = directory.users(session, platform, keys)
    preferences = {row.user_id: row for row in session.scalars(
        sa.select(Preference).where(Preference.user_id.in_(keys)))}
    return {key: _settings(profiles.get(key), preferences.get(key)) for key in keys}


def _settings(profile, preference: Preference | None) -> Settings:
    language = (preference and preference.language) or (profile and profile.language) or "en"
    timezone = (preference and preference.timezone) or (profile and profile.timezone) or "UTC"
    channels = tuple(preference.channels) if preference else DEFAULT_CHANNELS
    return Settings(
        channels=channels,
        language=language,
        timezone=timezone,
        email=profile.email if profile else None,
        active=profile.active if profile else True,
    )
