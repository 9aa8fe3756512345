"""Leads from a file (``common.import_jobs`` runs the job): each row is checked by the API's
own create schema and placement rule, once, and stored by the create's own steps
(``leads.new_lead``, ``leads.add_lead``) in the job's unit of work, so a team named without an
owner goes through its assignment rule and a new owner hears of it; a row that duplicates a
lead or a customer the importer may see (company, email or phone, as a lead's capture
compares them) is skipped, updated (a lead, only the file's columns; a row matching
customers alone is refused) or created all the same, as the job says."""
from __future__ import annotations

from common import importing
from common.actor import Actor
from common.errors import Conflict, CrmError
from common.import_jobs import ImportJobs
from common.uow import UnitOfWork
from services.sales import access, leads
from services.sales import schemas as s
from services.sales.models import ImportJob, ImportRow, Lead

LEAD_IN = s.LeadCreateSchema()
CUSTOMERS_MATCH = ("The row matches {count} customers you may see and no lead: a lead import "
                   "updates leads only; skip it, or import it with on_duplicate create.")
AMBIGUOUS = ("The row matches {count} leads you may see; update them one by one, or import "
             "it with on_duplicate create.")


class LeadRows:
    """How a row becomes a lead (``common.import_jobs.Target``)."""

    entity = "leads"
    columns = s.TRANSFER_COLUMNS
    create_schema = s.LeadCreateSchema
    compared = (Lead.__table__,)

    def require_write(self, actor: Actor) -> None:
        access.can_write(actor)

    def check(self, uow: UnitOfWork, cells: dict[str, str]) -> dict:
        """``lead``: the create payload of the row; ``placement``: its owner and team."""
        lead, _ = importing.load_row(LEAD_IN, cells)
        return {"lead": lead, "placement": leads.placement(uow, lead)}

    def store(self, uow: UnitOfWork, checked: list[dict], on_duplicate: str,
              services: dict) -> list[tuple[str, object] | CrmError]:
        """Each row as ``create_lead`` or ``update_lead`` would store it; the customers the
        batch's rows duplicate asked of the customers service at once (as the creator: only
        those they may see), the leads row by row (the rows before it are stored by then)."""
        customers = [[] for _ in checked]
        if on_duplicate != "create":
            asked = [(index, leads.customer_query(row["lead"].get("company"),
                                                  row["lead"].get("email"),
                                                  row["lead"].get("phone")))
                     for index, row in enumerate(checked)]
            asked = [(index, query) for index, query in asked if query]
            if asked:
                answers = services["customers"].find_duplicates_many(
                    [query for _, query in asked])
                for (index, _), answer in zip(asked, answers):
                    customers[index] = answer["items"]
        outcomes = []
        for row, matching_customers in zip(checked, customers):
            try:
                outcomes.append(self._store(uow, row, on_duplicate, matching_customers))
            except CrmError as exc:
                outcomes.append(exc)
        uow.commit()  # held: the batch's events join its transaction, in one statement
        return outcomes

    @staticmethod
    def _store(uow: UnitOfWork, checked: dict, on_duplicate: str,
               customers: list) -> tuple[str, object]:
        """The row stored as ``create_lead`` stores a lead, from what its check made (the
        payload loaded and placed once, not again)."""
        lead = checked["lead"]
        new = leads.new_lead(uow, lead)
        similar = leads.similar_leads(uow, new) if on_duplicate != "create" else []
        if on_duplicate != "create" and (similar or customers):
            if on_duplicate == "skip":
                return "skipped", similar[0][0].id if similar else None
            if not similar:
                raise Conflict(CUSTOMERS_MATCH.format(count=len(customers)))
            if len(similar) > 1:
                raise Conflict(AMBIGUOUS.format(count=len(similar)))
            found = similar[0][0]
            version = found.version
            after = leads.update_lead(uow, str(found.id), {**lead, "version": version})
            return ("updated" if after["version"] != version else "skipped"), found.id
        leads.add_lead(uow, new, *checked["placement"])
        return "created", new.id


IMPORTER = ImportJobs(LeadRows(), ImportJob, ImportRow)
