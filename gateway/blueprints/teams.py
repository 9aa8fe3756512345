"""Teams and their managers (admins only: the use cases decide).

The routes validate with identity's contract (``gateway.identity.schemas``), which also
builds their OpenAPI description, then run the use case with the client's JSON as sent.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from gateway.auth import login_required
from gateway.forwarding import IF_MATCH_DOC, identity, query_args, request_body, versioned_body
from gateway.identity import schemas as s
from gateway.identity import teams
from gateway.pagination import page_schema

blp = Blueprint("teams", __name__, description="Teams (admin only)")


@blp.route("/teams")
class Teams(MethodView):
    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.arguments(s.TeamListQuerySchema, location="query")
    @blp.response(200, page_schema(s.TeamSchema))
    def get(self, _args):
        """List teams"""
        return identity(teams.list_teams, query_args())

    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.arguments(s.TeamInputSchema)
    @blp.response(201, s.TeamSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, _data):
        """Create a team"""
        return identity(teams.create_team, request_body(), status=201)


@blp.route("/teams/<uuid:team_id>")
class TeamById(MethodView):
    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.response(200, s.TeamSchema)
    def get(self, team_id):
        """Read a team"""
        return identity(teams.get_team, team_id)

    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.arguments(s.TeamPatchSchema(partial=True))
    @blp.response(200, s.TeamSchema)
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(**IF_MATCH_DOC)
    def patch(self, _data, team_id):
        """Rename a team or change its manager"""
        return identity(teams.update_team, team_id, versioned_body())
