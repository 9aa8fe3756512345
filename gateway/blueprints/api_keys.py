"""API keys for other systems (admins only: the use cases decide): made with scopes, shown
once, revoked."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from common.listing import PageQuerySchema
from gateway.auth import login_required
from gateway.forwarding import identity, query_args, request_body
from gateway.identity import api_keys
from gateway.identity import schemas as s
from gateway.pagination import page_schema

blp = Blueprint("api_keys", __name__, description="API keys for other systems (admin only)")


@blp.route("/api-keys")
class ApiKeys(MethodView):
    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(s.ApiKeySchema))
    def get(self, _args):
        """Every key, revoked ones included; never the keys themselves."""
        return identity(api_keys.list_keys, query_args())

    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.arguments(s.ApiKeyInputSchema)
    @blp.response(201, s.NewApiKeySchema)
    def post(self, _data):
        """Make a key with scopes such as ``customers:read`` or ``leads:write``."""
        return identity(api_keys.create_key, request_body(), status=201,
                        replayed=api_keys.without_key)


@blp.route("/api-keys/<uuid:key_id>")
class ApiKeyById(MethodView):
    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.response(204)
    def delete(self, key_id):
        """Revoke a key: it is refused from the next request on."""
        return identity(api_keys.revoke_key, key_id, status=204)
