"""Customers, contacts, follow-up activities, the trash and field history.

The routes validate with the customers service's own contract (``schemas.py``), which also
builds their OpenAPI description, then forward the client's JSON unchanged: the service
validates again, checks record-level access and answers. Nothing here decides a business rule.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from gateway import exports, forwarding
from gateway.auth import login_required
from gateway.forwarding import IF_MATCH_DOC, query_args, request_body, versioned_body
from gateway.pagination import page_schema
from services.customers import schemas as s

blp = Blueprint("customers", __name__, description="Customers, contacts and follow-ups")


def customers(method: str, *args):
    """Call the customers service and answer its result as JSON."""
    return forwarding.answer("customers", method, *args)


def created(method: str, *args, location_endpoint: str, id_arg: str):
    return forwarding.created("customers", method, *args, location_endpoint=location_endpoint,
                              id_arg=id_arg)


def no_content(method: str, *args):
    return forwarding.no_content("customers", method, *args)


# -- customers -------------------------------------------------------------------------------
@blp.route("/customers")
class Customers(MethodView):
    @login_required()
    @blp.arguments(s.CustomerListQuerySchema, location="query")
    @blp.response(200, page_schema(s.CustomerSchema))
    def get(self, _args):
        """List the customers you may see, filtered, sorted and paginated."""
        return customers("list_customers", query_args())

    @blp.alt_response(409, response="CONFLICT")
    @login_required()
    @blp.arguments(s.CustomerCreateSchema)
    @blp.response(201, s.CustomerSchema)
    def post(self, _data):
        """Create a customer (a sales rep owns what they create). One whose name is that of
        customers you may see answers 409 ``duplicate`` with them as ``matches``, unless the
        body says ``"allow_duplicate": true``."""
        return created("create_customer", request_body(),
                       location_endpoint="customers.Customer", id_arg="customer_id")


@blp.route("/customers/trash")
class Trash(MethodView):
    @login_required()
    @blp.arguments(s.CustomerListQuerySchema, location="query")
    @blp.response(200, page_schema(s.CustomerSchema))
    def get(self, _args):
        """Customers moved to the trash, restorable."""
        return customers("list_trash", query_args())


@blp.route("/customers/export")
class CustomersExport(MethodView):
    @login_required()
    @blp.arguments(exports.query_schema(s.CustomerExportQuerySchema), location="query")
    @blp.doc(**exports.DOWNLOAD_DOC)
    def get(self, _args):
        """Download the customers you may see, filtered as the list, as CSV or XLSX: the
        columns import reads, one primary contact per row, tags joined by "; ", custom
        fields as a JSON object."""
        return exports.download("customers", "export_customers", "customers",
                                s.TRANSFER_COLUMNS)


@blp.route("/customers/duplicates")
class Duplicates(MethodView):
    @login_required()
    @blp.arguments(s.DuplicateQuerySchema, location="query")
    @blp.response(200, s.DuplicateListSchema)
    def get(self, _args):
        """Customers you may see that a new one with this name, email or phone would
        duplicate, each with the fields that matched (at least one of the three is needed)."""
        return customers("find_duplicates", query_args())


@blp.route("/customers/<uuid:customer_id>")
class Customer(MethodView):
    @login_required()
    @blp.response(200, s.CustomerSchema)
    def get(self, customer_id):
        """One customer."""
        return customers("get_customer", str(customer_id))

    @login_required()
    @blp.arguments(s.CustomerUpdateSchema(partial=("version",)))
    @blp.response(200, s.CustomerSchema)
    @blp.doc(**IF_MATCH_DOC)
    def patch(self, _data, customer_id):
        """Change a customer; a stale version answers 409 with the current one."""
        return customers("update_customer", str(customer_id), versioned_body())

    @login_required()
    @blp.response(204)
    def delete(self, customer_id):
        """Move a customer to the trash."""
        return no_content("delete_customer", str(customer_id))


@blp.route("/customers/<uuid:customer_id>/restore")
class Restore(MethodView):
    @login_required()
    @blp.response(200, s.CustomerSchema)
    def post(self, customer_id):
        """Bring a customer back from the trash."""
        return customers("restore_customer", str(customer_id))


@blp.route("/customers/<uuid:customer_id>/merge")
class Merge(MethodView):
    @blp.alt_response(409, response="CONFLICT")
    @login_required()
    @blp.arguments(s.MergeSchema(partial=("version",)))
    @blp.response(200, s.CustomerSchema)
    @blp.doc(**IF_MATCH_DOC)
    def post(self, _data, customer_id):
        """Merge ``from_id`` into this customer, which is kept: every contact and follow-up
        of ``from_id`` moves here (this one's primary contact stays the only primary), its
        empty fields are filled from ``from_id``, tags joined, and ``from_id`` goes to the
        trash (restoring it gives back the customer alone); deals, quotes, contracts, leads
        and pending reminders follow. ``version`` is this customer's (a stale one is 409)."""
        return customers("merge_customers", str(customer_id), versioned_body())


@blp.route("/customers/<uuid:customer_id>/history")
class History(MethodView):
    @login_required()
    @blp.arguments(s.PageQuerySchema, location="query")
    @blp.response(200, page_schema(s.FieldChangeSchema))
    def get(self, _args, customer_id):
        """Who changed which field of the customer, its contacts and activities, and when."""
        return customers("customer_history", str(customer_id), query_args())


# -- contacts --------------------------------------------------------------------------------
@blp.route("/customers/<uuid:customer_id>/contacts")
class CustomerContacts(MethodView):
    @login_required()
    @blp.arguments(s.PageQuerySchema, location="query")
    @blp.response(200, page_schema(s.ContactSchema))
    def get(self, _args, customer_id):
        """A customer's contacts, the primary one first."""
        return customers("list_contacts", str(customer_id), query_args())

    @login_required()
    @blp.arguments(s.ContactCreateSchema)
    @blp.response(201, s.ContactSchema)
    def post(self, _data, customer_id):
        """Add a contact; a new primary contact replaces the old one."""
        return created("create_contact", str(customer_id), request_body(),
                       location_endpoint="customers.Contact", id_arg="contact_id")


@blp.route("/contacts/<uuid:contact_id>")
class Contact(MethodView):
    @login_required()
    @blp.response(200, s.ContactSchema)
    def get(self, contact_id):
        """One contact."""
        return customers("get_contact", str(contact_id))

    @login_required()
    @blp.arguments(s.ContactUpdateSchema(partial=("version",)))
    @blp.response(200, s.ContactSchema)
    @blp.doc(**IF_MATCH_DOC)
    def patch(self, _data, contact_id):
        """Change a contact."""
        return customers("update_contact", str(contact_id), versioned_body())

    @login_required()
    @blp.response(204)
    def delete(self, contact_id):
        """Remove a contact."""
        return no_content("delete_contact", str(contact_id))


# -- activities ------------------------------------------------------------------------------
@blp.route("/customers/<uuid:customer_id>/activities")
class CustomerActivities(MethodView):
    @login_required()
    @blp.arguments(s.ActivityListQuerySchema, location="query")
    @blp.response(200, page_schema(s.ActivitySchema))
    def get(self, _args, customer_id):
        """The customer's timeline of follow-ups, newest first."""
        return customers("list_activities", str(customer_id), query_args())

    @login_required()
    @blp.arguments(s.ActivityCreateSchema)
    @blp.response(201, s.ActivitySchema)
    def post(self, _data, customer_id):
        """Log a follow-up; next_follow_up_at asks for a reminder."""
        return created("log_activity", str(customer_id), request_body(),
                       location_endpoint="customers.Activity", id_arg="activity_id")


@blp.route("/activities/<uuid:activity_id>")
class Activity(MethodView):
    @login_required()
    @blp.response(200, s.ActivitySchema)
    def get(self, activity_id):
        """One follow-up record."""
        return customers("get_activity", str(activity_id))

    @login_required()
    @blp.arguments(s.ActivityUpdateSchema(partial=("version",)))
    @blp.response(200, s.ActivitySchema)
    @blp.doc(**IF_MATCH_DOC)
    def patch(self, _data, activity_id):
        """Change a follow-up (moving or clearing next_follow_up_at included)."""
        return customers("update_activity", str(activity_id), versioned_body())
