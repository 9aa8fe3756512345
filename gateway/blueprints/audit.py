"""The audit trail (admins only: the use case decides), read only: the API has no route that
changes or deletes an entry.

API keys are refused (403): no key's scope reaches identity, and the trail is identity's.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from gateway.auth import login_required
from gateway.forwarding import identity, query_args
from gateway.identity import audit_trail
from gateway.identity import schemas as s
from gateway.pagination import page_schema

blp = Blueprint("audit", __name__, description="The audit trail of security events (admin only, "
                                               "read only)")


@blp.route("/audit")
class AuditTrail(MethodView):
    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.arguments(s.AuditQuerySchema, location="query")
    @blp.response(200, page_schema(s.AuditEntrySchema))
    def get(self, _args):
        """Read the audit trail, newest first

        Logins (succeeded, failed, throttled), logouts, reused refresh tokens and changes to
        users, teams and API keys: who, what, when and from where. No route changes or
        deletes an entry; API keys are refused (403).
        """
        return identity(audit_trail.list_entries, query_args())
