"""The use cases behind the reports' RPC entrypoints: validate the question, answer it from
the read model within the caller's scope."""
from __future__ import annotations

from common.errors import Forbidden, NotFound
from common.uow import UnitOfWork
from services.reports import query, rebuild, reports


def run_report(uow: UnitOfWork, name, args) -> dict:
    if name not in reports.REPORTS:
        raise NotFound(f"No report named {name}; the reports are: {', '.join(reports.REPORTS)}.")
    return reports.run(uow.session, query.parse(name, args, uow.actor))


def rebuild_status(uow: UnitOfWork) -> dict:
    """The latest rebuild (admins only)."""
    if not uow.actor.acts_as_admin:
        raise Forbidden("Only admins may see the reports' rebuilds.")
    found = rebuild.latest(uow)
    if found is None:
        raise NotFound("No rebuild has been asked for yet.")
    return found
