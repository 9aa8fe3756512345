"""Users, their roles, teams and preferences (admins only)."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from common.actor import ROLES
from common.listing import PageQuerySchema
from common.validation import time_zone
from gateway.auth import login_required
from gateway.auth.passwords import MAX_LENGTH, MIN_LENGTH, hash_password
from gateway.auth.tokens import revoke_user
from gateway.database import check_reference, get_or_404, save, session
from gateway.i18n import LANGUAGES
from gateway.models import Team, User
from gateway.pagination import list_page, page_schema
from gateway.versioning import load_for_update, version_field

blp = Blueprint("users", __name__, description="Users and roles (admin only)")

SORTABLE = ("username", "display_name", "role", "created_at", "updated_at", "last_login_at")
ADMIN = ("admin",)


class Username(fields.String):
    """Compared and stored lower-cased."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip().lower()


class UserSchema(Schema):
    id = fields.UUID(dump_only=True)
    username = fields.String()
    display_name = fields.String()
    email = fields.Email(allow_none=True)
    role = fields.String(metadata={"enum": list(ROLES)})
    team_id = fields.UUID(allow_none=True)
    language = fields.String(metadata={"enum": list(LANGUAGES)})
    timezone = fields.String(metadata={"example": "Asia/Shanghai"})
    active = fields.Boolean()
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    last_login_at = fields.AwareDateTime(allow_none=True)


class UserInputSchema(Schema):
    username = Username(
        required=True,
        validate=[validate.Length(min=3, max=64), validate.Regexp(r"^[a-z0-9._@-]+$")],
    )
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=MIN_LENGTH, max=MAX_LENGTH)
    )
    display_name = fields.String(validate=validate.Length(min=1, max=100))
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    team_id = fields.UUID(allow_none=True)
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    timezone = fields.String(validate=[validate.Length(max=64), time_zone])
    active = fields.Boolean()


class UserPatchSchema(UserInputSchema):
    version = version_field()


class UserListQuerySchema(PageQuerySchema):
    role = fields.String(validate=validate.OneOf(ROLES))
    team_id = fields.UUID()
    active = fields.Boolean()
    q = fields.String(
        validate=validate.Length(max=100),
        metadata={"description": "Part of the username, display name or email"},
    )


@blp.route("/users")
class Users(MethodView):
    @login_required(roles=ADMIN)
    @blp.arguments(UserListQuerySchema, location="query")
    @blp.response(200, page_schema(UserSchema))
    def get(self, args):
        """List users"""
        query = sa.select(User)
        for name in ("role", "team_id", "active"):
            if name in args:
                query = query.where(getattr(User, name) == args[name])
        if args.get("q"):
            pattern = f"%{args['q'].lower()}%"
            query = query.where(
                sa.or_(
                    User.username.like(pattern),
                    sa.func.lower(User.display_name).like(pattern),
                    sa.func.lower(User.email).like(pattern),
                )
            )
        return list_page(query, User, args, SORTABLE, "username")

    @login_required(roles=ADMIN)
    @blp.arguments(UserInputSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data):
        """Create a user"""
        check_reference(data, "team_id", Team, "Team not found.")
        data.setdefault("display_name", data["username"])
        return save(User(password_hash=hash_password(data.pop("password"))), data, "username")


@blp.route("/users/<uuid:user_id>")
class UserById(MethodView):
    @login_required(roles=ADMIN)
    @blp.response(200, UserSchema)
    def get(self, user_id: uuid.UUID):
        """Read a user"""
        return get_or_404(User, user_id, "User not found.")

    @login_required(roles=ADMIN)
    @blp.arguments(UserPatchSchema(partial=True))
    @blp.response(200, UserSchema)
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data, user_id: uuid.UUID):
        """Change a user; a new password or deactivation ends the user's sessions"""
        user = load_for_update(User, user_id, data, "User not found.")
        check_reference(data, "team_id", Team, "Team not found.")
        password = data.pop("password", None)
        if password is not None:
            user.password_hash = hash_password(password)
        if password is not None or data.get("active") is False:
            revoke_user(session(), user.id)
        return save(user, data, "username")
