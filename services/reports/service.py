"""The reports service's entrypoints: answer reports from the read model, keep the read
model from the other services' events, and rebuild it on request.

Answering a report never calls another service; only a rebuild asks the owners (paged
``snapshot`` calls), and it runs on a timer, not inside a request.
"""
from common.remote import TimedRpcProxy
from common.service import Database, PlatformService, handles, rpc_method
from common.timers import timer
from services.reports import answers, projection, rebuild
from services.reports.models import platform

# A snapshot page can take a while on a large database; a rebuild has no caller waiting.
SNAPSHOT_TIMEOUT = 120


class ReportsService(PlatformService):
    name = "reports"

    db = Database(platform)
    customers = TimedRpcProxy("customers", timeout=SNAPSHOT_TIMEOUT)
    sales = TimedRpcProxy("sales", timeout=SNAPSHOT_TIMEOUT)

    @rpc_method
    def run_report(self, name, query=None):
        return self.db.run(answers.run_report, name, query or {})

    @rpc_method
    def request_rebuild(self):
        return self.db.run(rebuild.request)

    @rpc_method
    def rebuild_status(self):
        return self.db.run(answers.rebuild_status)

    @timer(interval=2)
    def run_rebuilds(self):
        owners = {"customers": self.customers, "sales": self.sales}
        rebuild.run_queued(self.db.session_factory,
                           lambda service, method, *args: getattr(owners[service], method)(*args))

    # -- the read model: every event of the services whose records the reports count ------
    @handles("gateway", "#")
    def on_gateway_event(self, uow, event):
        projection.apply(uow.session, event)

    @handles("customers", "#")
    def on_customers_event(self, uow, event):
        projection.apply(uow.session, event)

    @handles("sales", "#")
    def on_sales_event(self, uow, event):
        projection.apply(uow.session, event)
