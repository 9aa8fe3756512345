"""The gateway's outbox: how identity's events (``gateway.identity.schemas``) get out.

A use case records them on its unit of work, which writes them to the identity database's
outbox in the same transaction as the change, exactly as in a service: the relay publishes
them right after the commit, and a sweeper thread in each gateway process publishes anything
left behind (broker down at commit, process killed). Commands (the seed, the announce
command) run the same use cases in a unit of work of their own.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from flask import Flask, current_app
from sqlalchemy.orm import sessionmaker

from common import config, retention
from common.actor import Actor
from common.db import create_db_engine, make_session_factory
from common.outbox import OutboxRelay
from common.uow import UnitOfWork
from gateway import database
from gateway.auth import ratelimit
from gateway.models import platform

log = logging.getLogger(__name__)

SOURCE = "gateway"
SWEEP_INTERVAL = 5.0
PRUNE_INTERVAL = 3600.0
EXTENSION = "identity_outbox"
SWEEPER = "identity_outbox_sweeper"


class IdentityOutbox:
    """Units of work of the identity database whose events the relay publishes on commit."""

    def __init__(self, session_factory: sessionmaker):
        self.session_factory = session_factory
        self.relay = OutboxRelay(session_factory, platform.Outbox, config.amqp_uri())

    def unit_of_work(self, actor: Actor) -> UnitOfWork:
        return UnitOfWork(self.session_factory, platform, SOURCE, actor,
                          on_commit=self.relay.publish_ids)


class OutboxSweeper(threading.Thread):
    """Publishes leftovers (broker down at commit, process killed) every few seconds, and
    forgets idempotency keys past their retention and ended rate-limit windows every hour,
    as a service's timers do."""

    def __init__(self, relay: OutboxRelay, interval: float = SWEEP_INTERVAL):
        super().__init__(name="outbox-sweeper", daemon=True)
        self.relay = relay
        self.interval = interval
        self._stopped = threading.Event()
        self._pruned_at = 0.0

    def run(self):
        while not self._stopped.wait(self.interval):
            try:
                self.relay.sweep()
                if time.monotonic() - self._pruned_at > PRUNE_INTERVAL:
                    self._pruned_at = time.monotonic()
                    retention.prune(self.relay.session_factory, platform, also=ratelimit.prune)
            except Exception:  # noqa: BLE001 - keep sweeping; the next round retries
                log.exception("gateway outbox sweep failed")

    def stop(self):
        self._stopped.set()


def init_app(app: Flask) -> None:
    """The app's identity outbox, over ``gateway.database``'s session factory, and its sweeper."""
    outbox = app.extensions[EXTENSION] = IdentityOutbox(database.session_factory(app))
    sweeper = app.extensions[SWEEPER] = OutboxSweeper(outbox.relay)
    sweeper.start()


def unit_of_work(actor: Actor) -> UnitOfWork:
    """A unit of work of this app's identity database, acting as ``actor``."""
    return current_app.extensions[EXTENSION].unit_of_work(actor)


@contextmanager
def command_unit_of_work(name: str) -> Iterator[UnitOfWork]:
    """A unit of work of the identity database for the command ``name``, which acts as
    ``Actor.system(name)``; the engine is closed when it ends."""
    engine = create_db_engine(config.database_url("gateway"))
    outbox = IdentityOutbox(make_session_factory(engine))
    try:
        with outbox.unit_of_work(Actor.system(name)) as uow:
            yield uow
    finally:
        outbox.relay.close()
        engine.dispose()
