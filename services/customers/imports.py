"""Customers from a file (``common.import_jobs`` runs the job): each row is checked by the
API's own create schemas, the customer's and, when the row names one, its primary contact's
(the pair ``create_customer_with_contact`` takes), and stored by the API's own use cases in
the job's unit of work; a row that duplicates a customer the importer may see (``duplicates``,
as a create would find it) is skipped, updated (only the file's columns, with history and
events) or created all the same, as the job says."""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from common import importing
from common.actor import Actor
from common.errors import Conflict, ValidationError
from common.import_jobs import ImportJobs
from common.uow import UnitOfWork
from services.customers import access, duplicates, operations
from services.customers import schemas as s
from services.customers.models import Contact, ImportJob, ImportRow

# The columns of the row's primary contact (``schemas.TRANSFER_COLUMNS``): contact_<field>.
CONTACT = "contact_"
AMBIGUOUS = ("The row matches {count} customers you may see; update them one by one, or "
             "merge them first.")


class CustomerRows:
    """How a row becomes a customer (``common.import_jobs.Target``)."""

    entity = "customers"
    columns = s.TRANSFER_COLUMNS
    create_schema = s.CustomerCreateSchema

    def require_write(self, actor: Actor) -> None:
        access.require_write(actor)

    def check(self, uow: UnitOfWork, cells: dict[str, str]) -> dict:
        problems, customer, contact = {}, None, None
        try:
            customer = importing.load_row(s.CustomerCreateSchema(), {
                field: text for field, text in cells.items() if not field.startswith(CONTACT)})
        except ValidationError as exc:
            problems.update(exc.details)
        contact_cells = {field.removeprefix(CONTACT): text for field, text in cells.items()
                         if field.startswith(CONTACT)}
        if not importing.is_empty(list(contact_cells.values())):
            try:
                contact = importing.load_row(s.ContactCreateSchema(), contact_cells)
            except ValidationError as exc:
                problems.update({CONTACT + field: messages
                                 for field, messages in exc.details.items()})
        if problems:
            raise ValidationError("Invalid input.", problems)
        access.placement(uow, customer.get("owner_id"), customer.get("team_id"))
        return {"customer": customer, "contact": contact}

    def store(self, uow: UnitOfWork, checked: dict, on_duplicate: str) -> tuple[str, object]:
        customer, contact = checked["customer"], checked["contact"]
        if on_duplicate != "create":
            matches = duplicates.find_duplicates(
                uow.session, uow.actor, name=customer["name"],
                emails=[(contact or {}).get("email")], phones=[(contact or {}).get("phone")])
            if matches and on_duplicate == "skip":
                return "skipped", matches[0]["customer"]["id"]
            if len(matches) > 1:
                raise Conflict(AMBIGUOUS.format(count=len(matches)))
            if matches:
                return self._update(uow, matches[0]["customer"], customer, contact)
        # (no tags column: none, said at once rather than loaded from the new row)
        made = operations.create_customer(uow, {"tags": [], **customer,
                                                "allow_duplicate": True})
        if contact:
            operations.create_contact(uow, made["id"], {**contact, "is_primary": True})
        return "created", made["id"]

    @staticmethod
    def _update(uow: UnitOfWork, found: dict, customer: dict, contact: dict | None):
        """The customer ``found`` with the row's columns (and its primary contact's)."""
        after = operations.update_customer(uow, found["id"],
                                           {**customer, "version": found["version"]})
        changed = after["version"] != found["version"]
        if contact:
            primary = uow.session.scalars(sa.select(Contact).where(
                Contact.customer_id == uuid.UUID(found["id"]),
                Contact.is_primary.is_(True), Contact.deleted_at.is_(None))).first()
            if primary is None:
                operations.create_contact(uow, found["id"], {**contact, "is_primary": True})
                changed = True
            else:
                version = primary.version
                after = operations.update_contact(uow, str(primary.id),
                                                  {**contact, "version": version})
                changed = changed or after["version"] != version
        return ("updated" if changed else "skipped"), found["id"]


IMPORTER = ImportJobs(CustomerRows(), ImportJob, ImportRow)
