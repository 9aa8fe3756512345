"""What the notifications tests need around the stack: a real SMTP server (aiosmtpd) that
can be told to refuse mail, a webhook receiver that can be told to fail, events published
the way the other services publish them, and the demo users' profiles as the gateway's user
events describe them."""
from __future__ import annotations

import datetime as dt
import email
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from kombu import Connection, Exchange

from common.events import envelope
from tests.support.stack import free_port


class SmtpSink:
    """An SMTP server on 127.0.0.1 keeping every message; ``refusing`` answers 451."""

    def __init__(self):
        self.messages: list[email.message.Message] = []
        self.refused = 0
        self.refusing = False
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server, session, envelope_):
        if self.refusing:
            self.refused += 1
            return "451 4.3.0 Mail server busy, try again later"
        self.messages.append(email.message_from_bytes(envelope_.content))
        return "250 OK"

    def to(self, address: str) -> list:
        return [message for message in self.messages if message["To"] == address]

    def start(self) -> "SmtpSink":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


class WebhookReceiver:
    """A local HTTP endpoint recording each call; answers 503 ``fail_next`` times first."""

    def __init__(self):
        self.calls: list[tuple[dict, bytes, int]] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = 200
                if receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    status = 503
                receiver.calls.append((dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def delivered(self, event_id: str) -> list:
        return [(headers, body) for headers, body, status in self.calls
                if status == 200 and json.loads(body)["id"] == event_id]

    def start(self) -> "WebhookReceiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def publish(amqp_uri: str, source: str, event: dict, copies: int = 1) -> dict:
    with Connection(amqp_uri) as conn:
        producer = conn.Producer()
        for _ in range(copies):
            producer.publish(event, exchange=Exchange(f"{source}.events", type="topic", durable=True),
                             routing_key=event["type"], serializer="json", delivery_mode=2)
    return event


def event(source: str, event_type: str, data: dict, version: int | None) -> dict:
    return envelope(source=source, event_type=event_type, entity_id=data["id"],
                    entity_version=version, data=data, actor=None)


def set_profile(stack, admin, client, **fields) -> dict:
    """Change a demo user's profile as an admin and make sure the notifications service
    hears of it: the gateway's own ``user.updated``, or the same fact published here."""
    user = admin.patch(f"/users/{client.me['id']}", json={
        "version": admin.get(f"/users/{client.me['id']}").json()["version"], **fields})
    assert user.status_code == 200, user.text
    data = {key: value for key, value in user.json().items()
            if key in ("id", "username", "display_name", "email", "role", "team_id", "language",
                       "timezone", "active", "version")}
    publish(stack.amqp_uri, "gateway", event("gateway", "user.updated", data, data["version"]))
    return data


def new_customer(client, name: str | None = None) -> dict:
    response = client.post("/customers", json={"name": name or f"Customer {uuid.uuid4().hex[:6]}"})
    assert response.status_code == 201, response.text
    return response.json()


def log_follow_up(client, customer_id: str, due: dt.datetime) -> dict:
    response = client.post(f"/customers/{customer_id}/activities", json={
        "type": "call", "content": "Called", "next_follow_up_at": due.isoformat()})
    assert response.status_code == 201, response.text
    return response.json()


def inbox_titles(client) -> list[str]:
    return [item["title"] for item in client.get("/notifications?per_page=200").json()["items"]]


def reminders_of(client, **query) -> list[dict]:
    response = client.get("/reminders", params={"per_page": 200, **query})
    assert response.status_code == 200, response.text
    return response.json()["items"]


class SchedulerFleet:
    """Several notifications service processes sharing one PostgreSQL database (and a
    vhost of their own): the scheduler's exactly-once check and ``bench/reminders.py``."""

    def __init__(self, workdir, instances: int = 3):
        from tests.support.stack import Stack

        self.stack = Stack(workdir)
        self.instances = instances
        self.processes = []
        self.url = self.stack.database_url("notifications")

    def start(self) -> "SchedulerFleet":
        import subprocess

        from tests.support.stack import BIN, ROOT, SERVICE_CLASSES, wait_until

        path = SERVICE_CLASSES["notifications"]
        for step in (["-m", "common.migrations", "notifications"], ["-m", "common.topology", path]):
            self.stack._python(*step)
        if self.stack.vhost:
            self.stack.grant_broker_users()
        for number in range(self.instances):
            log = open(self.stack.workdir / f"notifications-{number}.log", "ab")
            self.processes.append(subprocess.Popen(
                [str(BIN / "nameko"), "run", "--config", "deploy/nameko.yml", path],
                cwd=ROOT, env={**self.stack.env,
                               "AMQP_URI": self.stack.component_amqp_uri("notifications")},
                stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True))

        def consumers():
            with Connection(self.stack.amqp_uri) as conn:
                return conn.default_channel.queue_declare(
                    "rpc-notifications", passive=True).consumer_count == self.instances
        wait_until(consumers, timeout=60, message="every instance consuming")
        return self

    def engine(self):
        from common.db import create_db_engine

        return create_db_engine(self.url)

    def schedule(self, count: int, due_at: dt.datetime) -> None:
        """``count`` reminders due at the same instant, written straight into the schedule."""
        import sqlalchemy as sa

        from services.notifications.models import Reminder

        rows = []
        for _ in range(count):
            reminder_id = uuid.uuid4()
            rows.append({"id": reminder_id, "dedup_key": f"manual:{reminder_id}", "kind": "manual",
                         "user_id": uuid.uuid4(), "source_id": str(reminder_id),
                         "subject": "Bench", "context": {"subject": "Bench"}, "due_at": due_at,
                         "status": "pending"})
        engine = self.engine()
        with engine.begin() as conn:
            for start in range(0, len(rows), 1000):
                conn.execute(sa.insert(Reminder), rows[start:start + 1000])
        engine.dispose()

    def query(self, statement):
        engine = self.engine()
        try:
            with engine.connect() as conn:
                return conn.execute(statement).all()
        finally:
            engine.dispose()

    def stop(self) -> None:
        import os
        import signal

        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            process.wait(timeout=30)
        self.stack.stop()
