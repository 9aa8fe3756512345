"""The sales service's entrypoints: translate RPC calls and events, delegate to the domain
modules (catalogue, leads, assignment, deals, documents).

Products, the pipeline, leads with assignment rules and conversion, deals with stage history,
quotes and contracts; record-level access, optimistic concurrency and events through the
outbox. Team membership is learnt from the gateway's events; customers are asked by RPC (with
a deadline) and their deletion, restoration and merging are learnt from their events.
"""
from nameko.timer import timer

from common.actor import CurrentActor
from common.remote import TimedRpcProxy
from common.service import Database, PlatformService, handles, rpc_method
from services.sales import assignment, catalogue, deals, documents, leads, members, snapshots
from services.sales.models import platform


class SalesService(PlatformService):
    name = "sales"

    db = Database(platform)
    actor = CurrentActor()
    customers = TimedRpcProxy("customers")

    def _run(self, operation, *args):
        with self.db.unit_of_work(self.actor) as uow:
            return operation(uow, *args)

    # -- products and pipeline -----------------------------------------------------------
    @rpc_method
    def create_product(self, payload):
        return self._run(catalogue.create_product, payload)

    @rpc_method
    def get_product(self, product_id):
        return self._run(catalogue.get_product, product_id)

    @rpc_method
    def list_products(self, query=None):
        return self._run(catalogue.list_products, query or {})

    @rpc_method
    def update_product(self, product_id, payload):
        return self._run(catalogue.update_product, product_id, payload)

    @rpc_method
    def get_pipeline(self):
        return self._run(catalogue.get_pipeline)

    @rpc_method
    def set_pipeline(self, payload):
        return self._run(catalogue.set_pipeline, payload)

    # -- leads ---------------------------------------------------------------------------
    @rpc_method
    def create_lead(self, payload):
        return self._run(leads.create_lead, payload)

    @rpc_method
    def get_lead(self, lead_id):
        return self._run(leads.get_lead, lead_id)

    @rpc_method
    def list_leads(self, query=None):
        return self._run(leads.list_leads, query or {})

    @rpc_method
    def update_lead(self, lead_id, payload):
        return self._run(leads.update_lead, lead_id, payload)

    @rpc_method
    def convert_lead(self, lead_id, payload):
        return self._run(leads.convert_lead, self.customers, lead_id, payload)

    @rpc_method
    def list_assignment_rules(self, query=None):
        return self._run(assignment.list_rules, query or {})

    @rpc_method
    def put_assignment_rule(self, team_id, payload):
        return self._run(assignment.put_rule, team_id, payload)

    # -- deals ---------------------------------------------------------------------------
    @rpc_method
    def create_deal(self, payload):
        return self._run(deals.create_deal, self.customers, payload)

    @rpc_method
    def get_deal(self, deal_id):
        return self._run(deals.get_deal, deal_id)

    @rpc_method
    def list_deals(self, query=None):
        return self._run(deals.list_deals, query or {})

    @rpc_method
    def update_deal(self, deal_id, payload):
        return self._run(deals.update_deal, deal_id, payload)

    @rpc_method
    def move_deal_stage(self, deal_id, payload):
        return self._run(deals.move_stage, deal_id, payload)

    @rpc_method
    def deal_history(self, deal_id, query=None):
        return self._run(deals.deal_history, deal_id, query or {})

    # -- quotes and contracts ------------------------------------------------------------
    @rpc_method
    def create_quote(self, deal_id, payload):
        return self._run(documents.create_quote, deal_id, payload)

    @rpc_method
    def list_quotes(self, deal_id, query=None):
        return self._run(documents.list_quotes, deal_id, query or {})

    @rpc_method
    def get_quote(self, quote_id):
        return self._run(documents.get_quote, quote_id)

    @rpc_method
    def update_quote(self, quote_id, payload):
        return self._run(documents.update_quote, quote_id, payload)

    @rpc_method
    def create_contract(self, payload):
        return self._run(documents.create_contract, self.customers, payload)

    @rpc_method
    def get_contract(self, contract_id):
        return self._run(documents.get_contract, contract_id)

    @rpc_method
    def list_contracts(self, query=None):
        return self._run(documents.list_contracts, query or {})

    @rpc_method
    def update_contract(self, contract_id, payload):
        return self._run(documents.update_contract, contract_id, payload)

    @timer(interval=60)
    def expire_documents(self):
        self._run(documents.expire_due)

    @timer(interval=3600, eager=True)
    def announce_pipeline(self):
        self._run(catalogue.announce_pipeline)

    @rpc_method
    def snapshot(self, kind, after=None, limit=500):
        return self._run(snapshots.snapshot, kind, after, limit)

    # -- events --------------------------------------------------------------------------
    @handles("gateway", "user.created")
    def on_user_created(self, uow, event):
        members.apply_user(uow, event)

    @handles("gateway", "user.updated")
    def on_user_updated(self, uow, event):
        members.apply_user(uow, event)

    @handles("gateway", "team.created")
    def on_team_created(self, uow, event):
        members.apply_team(uow, event)

    @handles("gateway", "team.updated")
    def on_team_updated(self, uow, event):
        members.apply_team(uow, event)

    @handles("customers", "customer.deleted")
    def on_customer_deleted(self, uow, event):
        deals.flag_customer_deleted(uow, event["entity_id"], True)

    @handles("customers", "customer.restored")
    def on_customer_restored(self, uow, event):
        deals.flag_customer_deleted(uow, event["entity_id"], False)

    @handles("customers", "customer.merged")
    def on_customer_merged(self, uow, event):
        deals.repoint_customer(uow, event["data"]["id"], event["data"]["merged_id"])
