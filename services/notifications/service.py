"""The notifications service's entrypoints: translate RPC calls, events and timer ticks and
delegate to the plain-Python modules.

The events it consumes are listed once, in ``consumers.EVENTS`` (each an idempotent handler
``on_<type>``): they keep the directory of people, plan reminders (``planning``) and change
those planned (``lifecycle``). Users read, set and cancel their reminders (``reminders``); the
scheduler sends what is due (``scheduler``); the in-app inbox and preferences (``inbox``); mail
and webhook deliveries (``delivery``, ``webhooks``).
"""
import eventlet

from common import config
from common.actor import Actor
from common.service import Database, PlatformService, consumes, rpc_method
from common.timers import timer
from common.uow import UnitOfWork
from services.notifications import consumers, delivery, inbox, reminders, scheduler, webhooks
from services.notifications.models import platform

TICK = config.scheduler_interval()


@consumes(consumers.EVENTS)
class NotificationsService(PlatformService):
    name = "notifications"

    # Its events are for other systems (none of ours subscribes): one no queue takes is
    # published to nobody, not retried (common.outbox.OutboxRelay).
    db = Database(platform, keep_unroutable=False)

    def _system_unit_of_work(self, on_commit=None):
        """The timers' unit of work: its events are published by a green thread of their
        own, so the next batch of reminders is not kept waiting for the broker (or, with
        ``on_commit``, whenever that says)."""
        relay = self.db.relay
        return UnitOfWork(self.db.session_factory, platform, self.name, Actor.system("scheduler"),
                          on_commit=on_commit or (lambda ids: eventlet.spawn_n(relay.publish_ids,
                                                                               ids)))

    def prune_own(self, session, cutoff):
        return delivery.prune(session, cutoff)

    def service_metrics(self):
        with self.db.session_factory() as session:
            return scheduler.metrics_of(session)

    # -- timers ----------------------------------------------------------------------------
    @timer(interval=TICK)
    def send_due_reminders(self):
        """Every due reminder sent (those falling due before the next tick at their moment),
        then their events published: in a burst the inbox comes first and the events trail
        (committed in the outbox meanwhile, which the sweep publishes should this process
        die first)."""
        committed: list = []

        def publish_committed():
            if committed:
                eventlet.spawn_n(self.db.relay.publish_ids, committed.copy())
                committed.clear()

        scheduler.sweep(lambda: self._system_unit_of_work(on_commit=committed.extend),
                        TICK, publish_committed)

    @timer(interval=TICK)
    def run_deliveries(self):
        delivery.run_due(self.db.session_factory, self._system_unit_of_work)

    # -- reminders -------------------------------------------------------------------------
    @rpc_method
    def list_reminders(self, query=None):
        return self.db.run(reminders.list_reminders, query or {})

    @rpc_method
    def create_reminder(self, payload):
        return self.db.run(reminders.create_reminder, payload)

    @rpc_method
    def get_reminder(self, reminder_id):
        return self.db.run(reminders.get_reminder, reminder_id)

    @rpc_method
    def update_reminder(self, reminder_id, payload):
        return self.db.run(reminders.update_reminder, reminder_id, payload)

    @rpc_method
    def cancel_reminder(self, reminder_id):
        return self.db.run(reminders.cancel_reminder, reminder_id)

    # -- inbox and preferences -------------------------------------------------------------
    @rpc_method
    def list_notifications(self, query=None):
        return self.db.run(inbox.list_notifications, query or {})

    @rpc_method
    def unread_count(self):
        return self.db.run(inbox.unread_count)

    @rpc_method
    def mark_read(self, notification_id):
        return self.db.run(inbox.mark_read, notification_id)

    @rpc_method
    def mark_all_read(self):
        return self.db.run(inbox.mark_all_read)

    @rpc_method
    def get_preferences(self):
        return self.db.run(inbox.get_preferences)

    @rpc_method
    def set_preferences(self, payload):
        return self.db.run(inbox.set_preferences, payload)

    # -- webhooks --------------------------------------------------------------------------
    @rpc_method
    def list_webhooks(self, query=None):
        return self.db.run(webhooks.list_webhooks, query or {})

    @rpc_method
    def create_webhook(self, payload):
        return self.db.run(webhooks.create_webhook, payload)

    @rpc_method
    def get_webhook(self, webhook_id):
        return self.db.run(webhooks.get_webhook, webhook_id)

    @rpc_method
    def update_webhook(self, webhook_id, payload):
        return self.db.run(webhooks.update_webhook, webhook_id, payload)

    @rpc_method
    def delete_webhook(self, webhook_id):
        return self.db.run(webhooks.delete_webhook, webhook_id)

    @rpc_method
    def list_deliveries(self, webhook_id, query=None):
        return self.db.run(webhooks.list_deliveries, webhook_id, query or {})

    @rpc_method
    def replay_delivery(self, webhook_id, delivery_id):
        return self.db.run(webhooks.replay_delivery, webhook_id, delivery_id)
