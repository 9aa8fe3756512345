"""Identity events: ``user.*`` and ``team.*`` facts for the services that keep a local copy
(sales learns team membership, notifications each user's email, language and time zone).

They go through the gateway's own transactional outbox, written by session hooks so that
every path that creates or changes a user or team — the API, the seed command — publishes,
and nothing that rolled back does. The relay publishes right after commit; a background
sweep in each gateway process publishes anything left behind.
"""
from __future__ import annotations

import logging
import threading

from marshmallow import Schema, fields
from sqlalchemy import event as sa_event
from sqlalchemy.orm import sessionmaker

from common import config
from common.actor import Actor
from common.db import make_session_factory
from common.events import envelope, exchange_name
from common.outbox import OutboxRelay, outbox_row
from gateway.models import Team, User, platform

log = logging.getLogger(__name__)

SOURCE = "gateway"
SWEEP_INTERVAL = 5.0


class UserEventSchema(Schema):
    id = fields.UUID()
    username = fields.String()
    display_name = fields.String()
    email = fields.String(allow_none=True)
    role = fields.String(metadata={"description": "admin, manager, sales or analyst"})
    team_id = fields.UUID(allow_none=True)
    language = fields.String(metadata={"description": "en or zh-CN"})
    timezone = fields.String(metadata={"description": "IANA time zone, e.g. Asia/Shanghai"})
    active = fields.Boolean()
    version = fields.Integer()


class TeamEventSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    manager_id = fields.UUID(allow_none=True)
    version = fields.Integer()


EVENTS = {
    "user.created": (UserEventSchema, "A user was created."),
    "user.updated": (UserEventSchema, "A user changed (role, team, language, time zone, "
                                      "active...); data is the new state."),
    "team.created": (TeamEventSchema, "A team was created."),
    "team.updated": (TeamEventSchema, "A team changed; data is the new state."),
}

_PUBLISHED = {User: ("user", UserEventSchema()), Team: ("team", TeamEventSchema())}


def identity_sessions(engine, actor=lambda: None) -> tuple[sessionmaker, OutboxRelay]:
    """A session factory of the identity database whose user and team changes publish."""
    session_factory = make_session_factory(engine)
    relay = OutboxRelay(session_factory, platform.Outbox, config.amqp_uri())
    install(session_factory, relay, actor)
    return session_factory, relay


def install(session_factory: sessionmaker, relay: OutboxRelay, actor) -> None:
    """Write an event for every user or team a session of ``session_factory`` creates or
    changes; ``actor()`` names who did it (``None`` for the system)."""

    @sa_event.listens_for(session_factory, "after_flush")
    def _collect(session, _context):
        changes = session.info.setdefault("identity_changes", [])
        changes += [(obj, "created") for obj in session.new if type(obj) in _PUBLISHED]
        changes += [(obj, "updated") for obj in session.dirty
                    if type(obj) in _PUBLISHED and session.is_modified(obj)]

    @sa_event.listens_for(session_factory, "after_flush_postexec")
    def _write(session, _context):
        ids = session.info.setdefault("outbox_ids", [])
        who = (actor() or Actor.system("gateway")).as_event_actor()
        for obj, action in session.info.pop("identity_changes", []):
            kind, schema = _PUBLISHED[type(obj)]
            message = envelope(source=SOURCE, event_type=f"{kind}.{action}", entity_id=obj.id,
                               entity_version=obj.version, data=schema.dump(obj), actor=who)
            row = outbox_row(platform.Outbox, message, exchange_name(SOURCE), message["type"])
            session.add(row)
            ids.append(row.id)

    @sa_event.listens_for(session_factory, "after_commit")
    def _publish(session):
        ids = session.info.pop("outbox_ids", [])
        if ids:
            relay.publish_ids(ids)

    @sa_event.listens_for(session_factory, "after_rollback")
    def _forget(session):
        session.info.pop("identity_changes", None)
        session.info.pop("outbox_ids", None)


class OutboxSweeper(threading.Thread):
    """Publishes leftovers (broker down at commit, process killed) every few seconds."""

    def __init__(self, relay: OutboxRelay, interval: float = SWEEP_INTERVAL):
        super().__init__(name="outbox-sweeper", daemon=True)
        self.relay = relay
        self.interval = interval
        self._stopped = threading.Event()

    def run(self):
        while not self._stopped.wait(self.interval):
            try:
                self.relay.sweep()
            except Exception:  # noqa: BLE001 - keep sweeping; the next round retries
                log.exception("gateway outbox sweep failed")

    def stop(self):
        self._stopped.set()
