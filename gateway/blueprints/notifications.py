"""Reminders, the in-app inbox, notification preferences and webhook subscriptions.

The routes validate with the notifications service's own contract (``schemas.py``), which
also builds their OpenAPI description, then forward the client's JSON unchanged: the service
validates again and decides. Reminders, the inbox and preferences are the caller's own;
webhooks are for admins.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from gateway import forwarding
from gateway.auth import login_required
from gateway.forwarding import IF_MATCH_DOC, query_args, request_body, versioned_body
from gateway.pagination import page_schema
from services.notifications import schemas as s

blp = Blueprint("notifications", __name__, description="Reminders, inbox, preferences, webhooks")


def notifications(method: str, *args):
    """Call the notifications service and answer its result as JSON."""
    return forwarding.answer("notifications", method, *args)


# -- reminders -------------------------------------------------------------------------------
@blp.route("/reminders")
class Reminders(MethodView):
    @login_required()
    @blp.arguments(s.ReminderListQuerySchema, location="query")
    @blp.response(200, page_schema(s.ReminderSchema))
    def get(self, _args):
        """Your reminders, pending first by due time unless sorted otherwise."""
        return notifications("list_reminders", query_args())

    @login_required()
    @blp.arguments(s.ReminderCreateSchema)
    @blp.response(201, s.ReminderSchema)
    def post(self, _data):
        """Set yourself a reminder."""
        return forwarding.created("notifications", "create_reminder", request_body(),
                                  location_endpoint="notifications.Reminder", id_arg="reminder_id")


@blp.route("/reminders/<uuid:reminder_id>")
class Reminder(MethodView):
    @login_required()
    @blp.response(200, s.ReminderSchema)
    def get(self, reminder_id):
        """One of your reminders."""
        return notifications("get_reminder", str(reminder_id))

    @login_required()
    @blp.arguments(s.ReminderUpdateSchema(partial=("version",)))
    @blp.response(200, s.ReminderSchema)
    @blp.doc(**IF_MATCH_DOC)
    def patch(self, _data, reminder_id):
        """Move or rename a pending reminder you set by hand."""
        return notifications("update_reminder", str(reminder_id), versioned_body())

    @login_required()
    @blp.response(204)
    def delete(self, reminder_id):
        """Cancel a pending reminder."""
        return forwarding.no_content("notifications", "cancel_reminder", str(reminder_id))


# -- inbox -----------------------------------------------------------------------------------
@blp.route("/notifications")
class Inbox(MethodView):
    @login_required()
    @blp.arguments(s.NotificationListQuerySchema, location="query")
    @blp.response(200, page_schema(s.NotificationSchema))
    def get(self, _args):
        """Your inbox, newest first; ``?unread=true`` for the unread ones."""
        return notifications("list_notifications", query_args())


@blp.route("/notifications/unread-count")
class UnreadCount(MethodView):
    @login_required()
    @blp.response(200, s.UnreadCountSchema)
    def get(self):
        """How many notifications you have not read."""
        return notifications("unread_count")


@blp.route("/notifications/<uuid:notification_id>/read")
class Read(MethodView):
    @login_required()
    @blp.response(200, s.NotificationSchema)
    def post(self, notification_id):
        """Mark one notification read."""
        return notifications("mark_read", str(notification_id))


@blp.route("/notifications/read-all")
class ReadAll(MethodView):
    @login_required()
    @blp.response(200, s.ReadAllSchema)
    def post(self):
        """Mark every notification read."""
        return notifications("mark_all_read")


@blp.route("/notification-preferences")
class Preferences(MethodView):
    @login_required()
    @blp.response(200, s.PreferencesSchema)
    def get(self):
        """Your channels, language and time zone (your profile's unless you chose others)."""
        return notifications("get_preferences")

    @login_required()
    @blp.arguments(s.PreferencesSchema)
    @blp.response(200, s.PreferencesSchema)
    def put(self, _data):
        """Choose channels (in_app is always on), and a language or time zone (null: your
        profile's)."""
        return notifications("set_preferences", request_body())


# -- webhooks (admin) ------------------------------------------------------------------------
@blp.route("/webhooks")
class Webhooks(MethodView):
    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.arguments(s.PageQuerySchema, location="query")
    @blp.response(200, page_schema(s.WebhookSchema))
    def get(self, _args):
        """Webhook subscriptions."""
        return notifications("list_webhooks", query_args())

    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.arguments(s.WebhookCreateSchema)
    @blp.response(201, s.WebhookCreatedSchema)
    def post(self, _data):
        """Subscribe a URL to event types; the secret is shown once. Private, loopback and
        link-local addresses are refused."""
        return forwarding.created("notifications", "create_webhook", request_body(),
                                  location_endpoint="notifications.Webhook", id_arg="webhook_id")


@blp.route("/webhooks/event-types")
class WebhookEventTypes(MethodView):
    @login_required()
    @blp.response(200, s.WebhookEventTypesSchema)
    def get(self):
        """The event types a webhook may subscribe to (what ``event_types`` accepts)."""
        return {"items": list(s.WEBHOOK_EVENT_TYPES)}


@blp.route("/webhooks/<uuid:webhook_id>")
class Webhook(MethodView):
    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.response(200, s.WebhookSchema)
    def get(self, webhook_id):
        """One subscription."""
        return notifications("get_webhook", str(webhook_id))

    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.arguments(s.WebhookUpdateSchema(partial=("version",)))
    @blp.response(200, s.WebhookSchema)
    @blp.doc(**IF_MATCH_DOC)
    def patch(self, _data, webhook_id):
        """Change a subscription (URL, event types, secret, active)."""
        return notifications("update_webhook", str(webhook_id), versioned_body())

    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.response(204)
    def delete(self, webhook_id):
        """Remove a subscription (its delivery log stays)."""
        return forwarding.no_content("notifications", "delete_webhook", str(webhook_id))


@blp.route("/webhooks/<uuid:webhook_id>/deliveries")
class Deliveries(MethodView):
    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.arguments(s.DeliveryListQuerySchema, location="query")
    @blp.response(200, page_schema(s.DeliverySchema))
    def get(self, _args, webhook_id):
        """The delivery log: status, attempts, answer codes and response times."""
        return notifications("list_deliveries", str(webhook_id), query_args())


@blp.route("/webhooks/<uuid:webhook_id>/deliveries/<uuid:delivery_id>/replay")
class Replay(MethodView):
    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.response(202, s.DeliverySchema)
    def post(self, webhook_id, delivery_id):
        """Send a logged delivery's event again (a new delivery, signed anew)."""
        response = notifications("replay_delivery", str(webhook_id), str(delivery_id))
        response.status_code = 202
        return response
