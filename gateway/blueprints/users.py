"""Users, their roles, teams and preferences (admins only: the use cases decide).

The routes validate with identity's contract (``gateway.identity.schemas``), which also
builds their OpenAPI description, then run the use case with the client's JSON as sent.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from gateway.auth import login_required
from gateway.forwarding import IF_MATCH_DOC, identity, query_args, request_body, versioned_body
from gateway.identity import schemas as s
from gateway.identity import users
from gateway.pagination import page_schema

blp = Blueprint("users", __name__, description="Users and roles (admin only; a manager may list "
                                             "their own team's active users)")


@blp.route("/users")
class Users(MethodView):
    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.arguments(s.UserListQuerySchema, location="query")
    @blp.response(200, page_schema(s.UserSchema))
    def get(self, _args):
        """List users

        Admins: every user. Managers: the active users of their own team (to assign leads,
        customers and deals to). Others: 403."""
        return identity(users.list_users, query_args())

    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.arguments(s.UserInputSchema)
    @blp.response(201, s.UserSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, _data):
        """Create a user"""
        return identity(users.create_user, request_body(), status=201)


@blp.route("/users/<uuid:user_id>")
class UserById(MethodView):
    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.response(200, s.UserSchema)
    def get(self, user_id):
        """Read a user"""
        return identity(users.get_user, user_id)

    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.arguments(s.UserPatchSchema(partial=True))
    @blp.response(200, s.UserSchema)
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(**IF_MATCH_DOC)
    def patch(self, _data, user_id):
        """Change a user; a new password or deactivation ends the user's sessions"""
        return identity(users.update_user, user_id, versioned_body())
