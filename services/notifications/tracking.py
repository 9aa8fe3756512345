"""The newest version applied of each source entity (an activity, a customer, a lead, a deal,
a contract), and the little state reminders need of it (a deal's idle time, a customer in the
trash and the follow-ups its deletion cancelled).

Events arrive at least once and in any order: an entity's event is applied only when its
``entity_version`` is newer than the one held here, so a late or repeated one never takes a
plan backwards. Users and teams are not tracked here: the directory of people
(``common.directory``) keeps their versions.
"""
from __future__ import annotations

from common.events import version_of
from common import records
from common.records import locked_row
from common.uow import UnitOfWork
from services.notifications.models import TrackedEntity


def newer(uow: UnitOfWork, entity_type: str, event: dict, entity_id=None,
          version: int | None = None) -> TrackedEntity | None:
    """The tracked row of the event's entity (``data.id``, or ``entity_id``), locked, when the
    event (or ``version``) is newer than the version held (now recorded); ``None`` when it is
    older or the same: ignore it (``common.records.newer``)."""
    key = (entity_type, str(entity_id or event["data"]["id"]))
    return records.newer(uow.session, TrackedEntity, key,
                         version if version is not None else version_of(event), state={})


def tracked(uow: UnitOfWork, entity_type: str, entity_id) -> TrackedEntity:
    """The tracked row of one entity, locked until the transaction ends (made when missing)."""
    return locked_row(uow.session, TrackedEntity, (entity_type, str(entity_id)),
                      version=0, state={})
