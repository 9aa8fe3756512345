"""Leads from a file (``common.import_jobs`` runs the job): each row is checked by the API's
own create schema and placement rule and captured by the API's own use case in the job's unit
of work, so a team named without an owner goes through its assignment rule and a new owner
hears of it; a row that duplicates a lead the importer may see (company, email or phone, as
``leads`` compares them) is skipped, updated (only the file's columns) or created all the
same, as the job says."""
from __future__ import annotations

from common import importing
from common.actor import Actor
from common.errors import Conflict, CrmError
from common.import_jobs import ImportJobs
from common.uow import UnitOfWork
from services.sales import access, leads
from services.sales import schemas as s
from services.sales.models import ImportJob, ImportRow

LEAD_IN = s.LeadCreateSchema()
AMBIGUOUS = ("The row matches {count} leads you may see; update them one by one, or import "
             "it with on_duplicate create.")


class LeadRows:
    """How a row becomes a lead (``common.import_jobs.Target``)."""

    entity = "leads"
    columns = s.TRANSFER_COLUMNS
    create_schema = s.LeadCreateSchema

    def require_write(self, actor: Actor) -> None:
        access.can_write(actor)

    def check(self, uow: UnitOfWork, cells: dict[str, str]) -> dict:
        lead, _ = importing.load_row(LEAD_IN, cells)
        leads.check_placement(uow, lead)
        return {"lead": lead}

    def store(self, uow: UnitOfWork, checked: list[dict],
              on_duplicate: str) -> list[tuple[str, object] | CrmError]:
        outcomes = []
        for row in checked:
            try:
                outcomes.append(self._store(uow, row, on_duplicate))
            except CrmError as exc:
                outcomes.append(exc)
        return outcomes

    @staticmethod
    def _store(uow: UnitOfWork, checked: dict, on_duplicate: str) -> tuple[str, object]:
        lead = checked["lead"]
        # Asked here, not in check: the rows before it in the batch are stored by now.
        similar = leads.similar_to_new(uow, lead) if on_duplicate != "create" else []
        if on_duplicate != "create" and similar:
            if on_duplicate == "skip":
                return "skipped", similar[0][0].id
            if len(similar) > 1:
                raise Conflict(AMBIGUOUS.format(count=len(similar)))
            found = similar[0][0]
            version = found.version
            after = leads.update_lead(uow, str(found.id), {**lead, "version": version})
            return ("updated" if after["version"] != version else "skipped"), found.id
        made = leads.create_lead(uow, None, {**lead, "allow_duplicate": True})
        return "created", made["id"]


IMPORTER = ImportJobs(LeadRows(), ImportJob, ImportRow)
