"""What a service's import timer gives ``common.import_jobs`` (its ``ServiceDatabase``), for
tests that run import jobs without a broker."""
from common.uow import UnitOfWork


class TimerDatabase:
    """Sessions of a service's database, and units of work of an actor in it."""

    def __init__(self, factory, platform, source: str):
        self.session_factory = factory
        self.platform = platform
        self.source = source
        self.actor = None

    def act_as(self, actor) -> None:
        self.actor = actor

    def unit_of_work(self, actor=None) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.platform, self.source,
                          actor or self.actor)
