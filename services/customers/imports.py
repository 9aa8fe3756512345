"""Customers from a file (``common.import_jobs`` runs the job): each row is checked by the
API's own create schemas, the customer's and, when the row names one, its primary contact's
(the pair ``create_customer_with_contact`` takes), and by its placement rule. A batch's new
customers are made ready when it is checked (``prepare``: while the batch before it is
written) and added together by the create's own path (``operations.write_customers``: a
statement per table, their history and events), after one duplicate query for the batch
(``duplicates.find_many``, as a create would find them); a row that duplicates a customer the
importer may see, or an earlier row, is skipped, updated by the API's own use cases (only the
file's columns, with history and events) or created all the same, as the job says."""
from __future__ import annotations

import sqlalchemy as sa

from common import importing
from common.actor import Actor
from common.errors import Conflict, CrmError, ValidationError
from common.import_jobs import ImportJobs
from common.uow import UnitOfWork
from services.customers import access, duplicates, operations
from services.customers import schemas as s
from services.customers.models import Contact, Customer, ImportJob, ImportRow

# The columns of the row's primary contact (``schemas.TRANSFER_COLUMNS``): contact_<field>.
CONTACT = "contact_"
CUSTOMER_IN, CONTACT_IN = s.CustomerCreateSchema(), s.ContactCreateSchema()
AMBIGUOUS = ("The row matches {count} customers you may see; update them one by one, or "
             "merge them first.")


class CustomerRows:
    """How a row becomes a customer (``common.import_jobs.Target``)."""

    entity = "customers"
    columns = s.TRANSFER_COLUMNS
    create_schema = s.CustomerCreateSchema
    compared = (Customer.__table__, Contact.__table__)

    def require_write(self, actor: Actor) -> None:
        access.require_write(actor)

    def check(self, uow: UnitOfWork, cells: dict[str, str]) -> dict:
        """``new``: the customer a create would add; ``changes``: the file's columns of it
        and of its contact, what an update changes; ``wanted``: its duplicate keys."""
        problems, customer, contact = {}, (None, None), (None, None)
        try:
            customer = importing.load_row(CUSTOMER_IN, {
                field: text for field, text in cells.items() if not field.startswith(CONTACT)})
        except ValidationError as exc:
            problems.update(exc.details)
        contact_cells = {field.removeprefix(CONTACT): text for field, text in cells.items()
                         if field.startswith(CONTACT)}
        if not importing.is_empty(list(contact_cells.values())):
            try:
                contact = importing.load_row(CONTACT_IN, contact_cells)
            except ValidationError as exc:
                problems.update({CONTACT + field: messages
                                 for field, messages in exc.details.items()})
        if problems:
            raise ValidationError("Invalid input.", problems)
        (changes, loaded), (contact_changes, contact_loaded) = customer, contact
        owner_id, team_id = access.placement(uow, loaded.get("owner_id"), loaded.get("team_id"))
        # (no tags column: none, said at once rather than loaded from the new row)
        return {"new": operations.NewCustomer({"tags": [], **loaded}, owner_id, team_id,
                                              contact_loaded),
                "changes": (changes, contact_changes),
                "wanted": duplicates.Wanted.of(loaded["name"],
                                               [(contact_loaded or {}).get("email")],
                                               [(contact_loaded or {}).get("phone")])}

    def store(self, uow: UnitOfWork, checked: list[dict], on_duplicate: str,
              services: dict) -> list[tuple[str, object] | CrmError]:
        """The batch's new customers added together (``operations.write_customers``: one
        statement per table) after one duplicate query for the batch (another after each
        update, which may change what the rows after it match); a row that duplicates a
        stored customer or an earlier row is skipped, or updated by the API's own use case."""
        outcomes: list = [None] * len(checked)
        adding: list[int] = []  # the rows to add, in order
        added_keys: dict = {}  # a key of a row to add -> that row
        twins: list[tuple[int, int]] = []  # (a row skipped, the earlier row it duplicates)
        found: dict[int, list] = {}  # a row -> the stored customers it duplicates
        for index, row in enumerate(checked):
            wanted: duplicates.Wanted = row["wanted"]
            if on_duplicate != "create" and index not in found:
                # The rows left, in one query (again after an update: it may have changed
                # what they match).
                rest = range(index, len(checked))
                found = dict(zip(rest, duplicates.find_many(
                    uow.session, uow.actor, [checked[later]["wanted"] for later in rest])))
            keys = wanted.keys()
            earlier = min((added_keys[key] for key in keys if key in added_keys), default=None)
            if on_duplicate == "create" or not (found[index] or earlier is not None):
                adding.append(index)
                for key in keys:
                    added_keys.setdefault(key, index)
            elif on_duplicate == "skip":
                if found[index]:
                    outcomes[index] = ("skipped", found[index][0][0].id)
                else:
                    twins.append((index, earlier))
            else:  # update what is stored, with the rows before it added first
                self._add(uow, checked, adding, outcomes)
                adding, added_keys, found = [], {}, {}
                try:
                    outcomes[index] = self._update_found(uow, row)
                except CrmError as exc:
                    outcomes[index] = exc
        self._add(uow, checked, adding, outcomes)
        for index, earlier in twins:
            outcomes[index] = ("skipped", outcomes[earlier][1])
        return outcomes

    @staticmethod
    def prepare(uow: UnitOfWork, checked: list[dict]) -> None:
        """Each checked row's customer made ready to add (``operations.prepare_customers``:
        ids, rows, snapshots, history), before its batch's turn to be stored."""
        for row, prepared in zip(checked, operations.prepare_customers(
                uow.actor, [row["new"] for row in checked])):
            row["prepared"] = prepared

    @staticmethod
    def _add(uow: UnitOfWork, checked: list[dict], adding: list[int], outcomes: list) -> None:
        made = operations.write_customers(uow, [checked[index]["prepared"] for index in adding])
        uow.commit()  # held: their events join the batch's transaction
        for index, (customer, _) in zip(adding, made):
            outcomes[index] = ("created", customer.id)

    def _update_found(self, uow: UnitOfWork, row: dict) -> tuple[str, object]:
        matches = duplicates.find_many(uow.session, uow.actor, [row["wanted"]])[0]
        if len(matches) > 1:
            raise Conflict(AMBIGUOUS.format(count=len(matches)))
        return self._update(uow, matches[0][0], *row["changes"])

    @staticmethod
    def _update(uow: UnitOfWork, found: Customer, customer: dict, contact: dict | None):
        """The customer ``found`` with the row's columns (and its primary contact's)."""
        found_id, version = found.id, found.version  # (the update bumps the loaded one)
        after = operations.update_customer(uow, str(found_id), {**customer, "version": version})
        changed = after["version"] != version
        if contact:
            primary = uow.session.scalars(sa.select(Contact).where(
                Contact.customer_id == found_id,
                Contact.is_primary.is_(True), Contact.deleted_at.is_(None))).first()
            if primary is None:
                operations.create_contact(uow, str(found_id), {**contact, "is_primary": True})
                changed = True
            else:
                version = primary.version
                after = operations.update_contact(uow, str(primary.id),
                                                  {**contact, "version": version})
                changed = changed or after["version"] != version
        return ("updated" if changed else "skipped"), found_id


IMPORTER = ImportJobs(CustomerRows(), ImportJob, ImportRow)
