"""Reports: the funnel, revenue, win rates, sales cycles, the leaderboard, activities,
dormant customers and the forecast, as JSON, CSV or XLSX; and the rebuild of their read model.

The routes validate with the reports service's contract, forward the query unchanged and
render the one shape every report answers; the service decides scope and who may rebuild.
"""
from __future__ import annotations

from flask import Response, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from common import tabular
from gateway import exports, forwarding
from gateway.auth import login_required
from gateway.forwarding import query_args
from gateway.rpc import rpc_call
from services.reports import schemas as s

blp = Blueprint("reports", __name__, description="Reports from the read model, and its rebuild")

FILE_RESPONSES = {"responses": {200: {"content": exports.FILE_CONTENT}}}


def rendered(answer: dict, file_format: str) -> Response:
    """The report as JSON, or as a CSV or XLSX file with the filters and freshness."""
    if file_format == "json":
        return jsonify(answer)
    context = {"report": answer["report"], **answer["filters"], "time_zone": answer["time_zone"],
               "as_of": answer["as_of"] or "", "generated_at": answer["generated_at"]}
    name = f"{answer['report']}-{answer['generated_at'][:10]}.{file_format}"
    if file_format == "csv":
        body, media_type = tabular.to_csv(answer["columns"], answer["rows"], context), \
            tabular.CSV_MEDIA_TYPE
    else:
        body, media_type = tabular.to_xlsx(answer["columns"], answer["rows"], context,
                                           answer["report"]), tabular.XLSX_MEDIA_TYPE
    return Response(body, mimetype=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def report_view(name: str, query_schema):
    @login_required()
    @blp.arguments(query_schema, location="query")
    @blp.response(200, s.ReportSchema)
    @blp.doc(**FILE_RESPONSES)
    def get(self, args):
        return rendered(rpc_call("reports", "run_report", name, query_args()), args["format"])

    get.__doc__ = REPORT_SUMMARIES[name]
    return get


REPORT_SUMMARIES = {
    "funnel": "Deals per pipeline stage, how many reached each, conversion and win rate.",
    "revenue": "Won amount and count per period, optionally per region, product, owner, "
               "team, industry or tier.",
    "win-rate": "Won, lost and win rate of deals closed in the range, per group.",
    "sales-cycle": "Days from creation to close of deals won or lost in the range.",
    "leaderboard": "Per owner: won amount and count, open pipeline, follow-ups, rank.",
    "activities": "Follow-ups per user, type and period.",
    "dormant-customers": "Customers with no follow-up for `days` days.",
    "forecast": "Open pipeline by expected close month, and the revenue trend ahead.",
}

for report_name, schema in s.QUERY_SCHEMAS.items():
    view = type(f"Report_{report_name.replace('-', '_')}", (MethodView,),
                {"get": report_view(report_name, schema)})
    blp.route(f"/reports/{report_name}", endpoint=report_name)(view)


@blp.route("/reports/rebuild")
class Rebuild(MethodView):
    @login_required()
    @blp.response(202, s.RebuildSchema)
    def post(self):
        """Rebuild the read model from the owners' data (admins); the live one keeps answering
        until the new one is complete. A rebuild already queued or running is the answer."""
        response = jsonify(rpc_call("reports", "request_rebuild"))
        response.status_code = 202
        return response

    @login_required()
    @blp.response(200, s.RebuildSchema)
    def get(self):
        """The latest rebuild and its progress (admins)."""
        return forwarding.answer("reports", "rebuild_status")
