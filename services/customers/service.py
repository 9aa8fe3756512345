"""The customers service's entrypoints: translate RPC calls and delegate to the use cases
(``operations``, ``duplicates``, ``merging``...).

Customers, contacts and follow-up records (activities), with record-level access, optimistic
concurrency, trash, field history, duplicate detection and merge, and events through the
outbox.
"""
from common.service import Database, ImportEntrypoints, PlatformService, rpc_method
from services.customers import duplicates, exports, imports, merging, operations
from services.customers.models import platform


class CustomersService(ImportEntrypoints, PlatformService):
    name = "customers"

    db = Database(platform)
    importer = imports.IMPORTER

    @rpc_method
    def create_customer(self, payload):
        return self.db.run(operations.create_customer, payload)

    @rpc_method
    def create_customer_with_contact(self, payload, idempotency_key):
        return self.db.run(operations.create_customer_with_contact, payload, idempotency_key)

    @rpc_method
    def get_customer(self, customer_id):
        return self.db.read(operations.get_customer, customer_id)

    @rpc_method
    def list_customers(self, query=None):
        return self.db.read(operations.list_customers, query or {})

    @rpc_method
    def export_customers(self, query=None, after=None, limit=500):
        return self.db.read(exports.export_page, query or {}, after, limit)

    @rpc_method
    def update_customer(self, customer_id, payload):
        return self.db.run(operations.update_customer, customer_id, payload)

    @rpc_method
    def delete_customer(self, customer_id):
        return self.db.run(operations.delete_customer, customer_id)

    @rpc_method
    def restore_customer(self, customer_id):
        return self.db.run(operations.restore_customer, customer_id)

    @rpc_method
    def find_duplicates(self, query=None):
        return self.db.read(duplicates.list_duplicates, query or {})

    @rpc_method
    def find_duplicates_many(self, queries):
        return self.db.read(duplicates.list_duplicates_many, queries)

    @rpc_method
    def merge_customers(self, customer_id, payload):
        return self.db.run(merging.merge_customers, customer_id, payload)

    @rpc_method
    def list_trash(self, query=None):
        return self.db.read(operations.list_trash, query or {})

    @rpc_method
    def customer_history(self, customer_id, query=None):
        return self.db.run(operations.customer_history, customer_id, query or {})

    @rpc_method
    def list_contacts(self, customer_id, query=None):
        return self.db.read(operations.list_contacts, customer_id, query or {})

    @rpc_method
    def create_contact(self, customer_id, payload):
        return self.db.run(operations.create_contact, customer_id, payload)

    @rpc_method
    def get_contact(self, contact_id):
        return self.db.read(operations.get_contact, contact_id)

    @rpc_method
    def update_contact(self, contact_id, payload):
        return self.db.run(operations.update_contact, contact_id, payload)

    @rpc_method
    def delete_contact(self, contact_id):
        return self.db.run(operations.delete_contact, contact_id)

    @rpc_method
    def list_activities(self, customer_id, query=None):
        return self.db.read(operations.list_activities, customer_id, query or {})

    @rpc_method
    def log_activity(self, customer_id, payload):
        return self.db.run(operations.log_activity, customer_id, payload)

    @rpc_method
    def get_activity(self, activity_id):
        return self.db.read(operations.get_activity, activity_id)

    @rpc_method
    def update_activity(self, activity_id, payload):
        return self.db.run(operations.update_activity, activity_id, payload)

    @rpc_method
    def snapshot(self, kind, after=None, limit=500):
        return self.db.run(operations.snapshot, kind, after, limit)
