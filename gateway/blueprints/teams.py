"""Teams and their managers (admins only)."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from gateway.auth import login_required
from gateway.database import check_reference, get_or_404, save
from gateway.models import Team, User
from common.listing import PageQuerySchema
from gateway.pagination import list_page, page_schema
from gateway.versioning import load_for_update, version_field

blp = Blueprint("teams", __name__, description="Teams (admin only)")

SORTABLE = ("name", "created_at", "updated_at")
ADMIN = ("admin",)


class TeamSchema(Schema):
    id = fields.UUID(dump_only=True)
    name = fields.String()
    manager_id = fields.UUID(allow_none=True)
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class TeamInputSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    manager_id = fields.UUID(allow_none=True)


class TeamPatchSchema(TeamInputSchema):
    version = version_field()


class TeamListQuerySchema(PageQuerySchema):
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "Part of the name"})


@blp.route("/teams")
class Teams(MethodView):
    @login_required(roles=ADMIN)
    @blp.arguments(TeamListQuerySchema, location="query")
    @blp.response(200, page_schema(TeamSchema))
    def get(self, args):
        """List teams"""
        query = sa.select(Team)
        if args.get("q"):
            query = query.where(sa.func.lower(Team.name).like(f"%{args['q'].lower()}%"))
        return list_page(query, Team, args, SORTABLE, "name")

    @login_required(roles=ADMIN)
    @blp.arguments(TeamInputSchema)
    @blp.response(201, TeamSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data):
        """Create a team"""
        check_reference(data, "manager_id", User, "User not found.")
        return save(Team(), data, "name")


@blp.route("/teams/<uuid:team_id>")
class TeamById(MethodView):
    @login_required(roles=ADMIN)
    @blp.response(200, TeamSchema)
    def get(self, team_id: uuid.UUID):
        """Read a team"""
        return get_or_404(Team, team_id, "Team not found.")

    @login_required(roles=ADMIN)
    @blp.arguments(TeamPatchSchema(partial=True))
    @blp.response(200, TeamSchema)
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data, team_id: uuid.UUID):
        """Rename a team or change its manager"""
        team = load_for_update(Team, team_id, data, "Team not found.")
        check_reference(data, "manager_id", User, "User not found.")
        return save(team, data, "name")
