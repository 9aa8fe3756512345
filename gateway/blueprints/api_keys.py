"""API keys for other systems (admins only): made with scopes, shown once, revoked."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from common.db import utcnow
from common.listing import PageQuerySchema
from gateway.auth import current_actor, login_required
from gateway.auth.api_keys import PREFIX, SCOPES, key_hash, new_key
from gateway.database import get_or_404, session
from gateway.models import ApiKey
from gateway.pagination import list_page, page_schema

blp = Blueprint("api_keys", __name__, description="API keys for other systems (admin only)")

ADMIN = ("admin",)
SORTABLE = ("name", "created_at")


class ApiKeySchema(Schema):
    id = fields.UUID()
    name = fields.String()
    prefix = fields.String(metadata={"description": "The key's first characters, to tell keys apart"})
    scopes = fields.List(fields.String())
    created_by = fields.UUID(allow_none=True)
    created_at = fields.AwareDateTime()
    revoked_at = fields.AwareDateTime(allow_none=True)


class NewApiKeySchema(ApiKeySchema):
    key = fields.String(metadata={"description": "The key itself: shown this once, never again"})


class ApiKeyInputSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    scopes = fields.List(fields.String(validate=validate.OneOf(SCOPES)), required=True,
                         validate=validate.Length(min=1, max=len(SCOPES)))


@blp.route("/api-keys")
class ApiKeys(MethodView):
    @login_required(ADMIN)
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(ApiKeySchema))
    def get(self, args):
        """Every key, revoked ones included; never the keys themselves."""
        return list_page(sa.select(ApiKey), ApiKey, args, SORTABLE, "-created_at")

    @login_required(ADMIN)
    @blp.arguments(ApiKeyInputSchema)
    @blp.response(201, NewApiKeySchema)
    def post(self, data):
        """Make a key with scopes such as ``customers:read`` or ``leads:write``."""
        key = new_key()
        api_key = ApiKey(name=data["name"], scopes=sorted(set(data["scopes"])),
                         prefix=key[: len(PREFIX) + 6], key_hash=key_hash(key),
                         created_by=uuid.UUID(current_actor().user_id))
        db = session()
        db.add(api_key)
        db.commit()
        api_key.key = key  # answered this once, never stored
        return api_key


@blp.route("/api-keys/<uuid:key_id>")
class ApiKeyById(MethodView):
    @login_required(ADMIN)
    @blp.response(204)
    def delete(self, key_id):
        """Revoke a key: it is refused from the next request on."""
        api_key = get_or_404(ApiKey, key_id, "No API key with this id.")
        if api_key.revoked_at is None:
            api_key.revoked_at = utcnow()
            session().commit()
