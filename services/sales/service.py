"""The sales service's entrypoints: translate RPC calls and events, delegate to the domain
modules (catalogue, leads, assignment, deals, documents).

Products, the pipeline, leads with assignment rules and conversion, deals with stage history,
quotes and contracts; record-level access, optimistic concurrency and events through the
outbox. Who is in which team is the platform's directory of people (``common.directory``);
customers are asked by RPC (with a deadline) and their deletion, restoration and merging are
learnt from their events.
"""
from common.remote import TimedRpcProxy
from common.service import Database, ImportEntrypoints, PlatformService, handles, rpc_method
from common.timers import timer
from services.sales import (assignment, catalogue, deals, documents, exports, imports, leads,
                            snapshots)
from services.sales.models import platform


class SalesService(ImportEntrypoints, PlatformService):
    name = "sales"

    db = Database(platform)
    importer = imports.IMPORTER
    customers = TimedRpcProxy("customers")

    def import_services(self) -> dict:
        return {"customers": self.customers}

    # -- products and pipeline -----------------------------------------------------------
    @rpc_method
    def create_product(self, payload):
        return self.db.run(catalogue.create_product, payload)

    @rpc_method
    def get_product(self, product_id):
        return self.db.read(catalogue.get_product, product_id)

    @rpc_method
    def list_products(self, query=None):
        return self.db.read(catalogue.list_products, query or {})

    @rpc_method
    def update_product(self, product_id, payload):
        return self.db.run(catalogue.update_product, product_id, payload)

    @rpc_method
    def get_pipeline(self):
        return self.db.read(catalogue.get_pipeline)

    @rpc_method
    def set_pipeline(self, payload):
        return self.db.run(catalogue.set_pipeline, payload)

    # -- leads ---------------------------------------------------------------------------
    @rpc_method
    def create_lead(self, payload):
        return self.db.run(leads.create_lead, self.customers, payload)

    @rpc_method
    def get_lead(self, lead_id):
        return self.db.read(leads.get_lead, lead_id)

    @rpc_method
    def list_leads(self, query=None):
        return self.db.read(leads.list_leads, query or {})

    @rpc_method
    def export_leads(self, query=None, after=None, limit=500):
        return self.db.read(exports.export_page, query or {}, after, limit)

    @rpc_method
    def update_lead(self, lead_id, payload):
        return self.db.run(leads.update_lead, lead_id, payload)

    @rpc_method
    def convert_lead(self, lead_id, payload):
        return self.db.run(leads.convert_lead, self.customers, lead_id, payload)

    @rpc_method
    def list_assignment_rules(self, query=None):
        return self.db.read(assignment.list_rules, query or {})

    @rpc_method
    def put_assignment_rule(self, team_id, payload):
        return self.db.run(assignment.put_rule, team_id, payload)

    # -- deals ---------------------------------------------------------------------------
    @rpc_method
    def create_deal(self, payload):
        return self.db.run(deals.create_deal, self.customers, payload)

    @rpc_method
    def get_deal(self, deal_id):
        return self.db.read(deals.get_deal, deal_id)

    @rpc_method
    def list_deals(self, query=None):
        return self.db.read(deals.list_deals, query or {})

    @rpc_method
    def pipeline_board(self, query=None):
        return self.db.run(deals.pipeline_board, query or {})

    @rpc_method
    def update_deal(self, deal_id, payload):
        return self.db.run(deals.update_deal, deal_id, payload)

    @rpc_method
    def move_deal_stage(self, deal_id, payload):
        return self.db.run(deals.move_stage, deal_id, payload)

    @rpc_method
    def deal_history(self, deal_id, query=None):
        return self.db.run(deals.deal_history, deal_id, query or {})

    # -- quotes and contracts ------------------------------------------------------------
    @rpc_method
    def create_quote(self, deal_id, payload):
        return self.db.run(documents.create_quote, deal_id, payload)

    @rpc_method
    def list_quotes(self, deal_id, query=None):
        return self.db.read(documents.list_quotes, deal_id, query or {})

    @rpc_method
    def get_quote(self, quote_id):
        return self.db.read(documents.get_quote, quote_id)

    @rpc_method
    def update_quote(self, quote_id, payload):
        return self.db.run(documents.update_quote, quote_id, payload)

    @rpc_method
    def create_contract(self, payload):
        return self.db.run(documents.create_contract, self.customers, payload)

    @rpc_method
    def get_contract(self, contract_id):
        return self.db.read(documents.get_contract, contract_id)

    @rpc_method
    def list_contracts(self, query=None):
        return self.db.read(documents.list_contracts, query or {})

    @rpc_method
    def update_contract(self, contract_id, payload):
        return self.db.run(documents.update_contract, contract_id, payload)

    @timer(interval=60)
    def expire_documents(self):
        self.db.run(documents.expire_due)

    @timer(interval=3600, eager=True)
    def announce_pipeline(self):
        self.db.run(catalogue.announce_pipeline)

    @rpc_method
    def snapshot(self, kind, after=None, limit=500):
        return self.db.run(snapshots.snapshot, kind, after, limit)

    # -- events --------------------------------------------------------------------------
    @handles("customers", "customer.deleted")
    def on_customer_deleted(self, uow, event):
        deals.flag_customer_deleted(uow, event, True)

    @handles("customers", "customer.restored")
    def on_customer_restored(self, uow, event):
        deals.flag_customer_deleted(uow, event, False)

    @handles("customers", "customer.merged")
    def on_customer_merged(self, uow, event):
        deals.repoint_customer(uow, event["data"]["into_id"], event["data"]["from_id"])
