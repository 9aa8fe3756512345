"""Run the real stack for integration tests: fresh databases, an isolated RabbitMQ vhost,
migrations, topology, seed users, then each service (``nameko run``) and the gateway
(gunicorn) as subprocesses, each with its own broker user (``common.broker_users``), as in
production. Waiting is polling with a deadline, never a bare sleep."""
from __future__ import annotations

import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import requests
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from common import broker_users, components
from common.db import create_db_engine, ensure_database, sqlalchemy_url

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_SERVER = os.environ.get("CRM_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
RABBIT_HOST = os.environ.get("CRM_TEST_RABBIT", "127.0.0.1:5672")
SERVICE_CLASSES = components.service_classes()
DEMO_PASSWORD = "demo-password-1"
ADMIN_PASSWORD = "admin-password-for-tests"


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1, message: str = ""):
    """Poll ``predicate`` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s: {message or predicate} ({last_error})")


def on_server(*statements: str) -> None:
    """``statements`` run on the test PostgreSQL server, each outside a transaction."""
    engine = sa.create_engine(sqlalchemy_url(f"{PG_SERVER}/postgres"),
                              isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
    engine.dispose()


def drop_databases(*names: str) -> None:
    """The PostgreSQL databases ``names`` dropped, connections or not."""
    on_server(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names))


@contextmanager
def scratch_database(purpose: str, template: str | None = None, metadata=None):
    """An engine on a new PostgreSQL database of its own (``crmt_<random>_<purpose>``: the
    name the cleanup of test leftovers knows), a copy of the database ``template`` if one is
    named (no one may be connected to it), with the tables of ``metadata`` if given, dropped
    afterwards."""
    url = f"{PG_SERVER}/crmt_{secrets.token_hex(4)}_{purpose}"
    name = make_url(url).database
    if template is None:
        ensure_database(url)
    else:
        on_server(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    engine = create_db_engine(url)
    try:
        if metadata is not None:
            metadata.create_all(engine)
        yield engine
    finally:
        engine.dispose()
        drop_databases(name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rabbitmqctl(*args) -> bool:
    try:
        return subprocess.run(["rabbitmqctl", *args], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def close_from_broker(sock, reason: str) -> None:
    """Have the broker close the connection of the client socket ``sock`` (as a restart or an
    operator would), and wait until the close has reached that socket."""
    port = sock.getsockname()[1]
    listed = subprocess.run(
        ["rabbitmqctl", "list_connections", "pid", "peer_port", "--quiet",
         "--no-table-headers"], capture_output=True, text=True, timeout=60).stdout
    pid = next(line.split()[0] for line in listed.splitlines()
               if line.split()[1:] == [str(port)])
    assert rabbitmqctl("close_connection", pid, reason)
    wait_until(lambda: select.select([sock], [], [], 0)[0], timeout=10,
               message="the broker's close reached the client")


def add_vhost(name: str) -> bool:
    """A RabbitMQ vhost ``name`` (``crmt_...``: the name the cleanup of test leftovers knows)
    that the guest user may use; whether it was made."""
    if not rabbitmqctl("add_vhost", name):
        return False
    return rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")


class Stack:
    """One isolated copy of the system. ``backend`` is ``postgresql`` or ``sqlite``."""

    def __init__(self, workdir: Path, backend: str = "postgresql"):
        self.tag = "crmt_" + secrets.token_hex(4)
        self.workdir = workdir
        self.backend = backend
        self.vhost = self.tag if add_vhost(self.tag) else None
        self.vhost_path = quote(self.vhost, safe="") if self.vhost else ""
        self.amqp_uri = f"amqp://guest:guest@{RABBIT_HOST}/{self.vhost_path}"
        self.broker_password = secrets.token_hex(16)  # never begins with "-" (an option)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {
            **os.environ,
            "AMQP_URI": self.amqp_uri,
            "CRM_DATA_DIR": str(workdir),
            "CRM_PORT": str(self.port),
            "CRM_SECRET_KEY": secrets.token_urlsafe(32),
            "CRM_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "CRM_SERVICES": ",".join(SERVICE_CLASSES),
            "GUNICORN_WORKERS": "2",
            # Counted as in production, but far above what the suite's few users (one admin
            # for a whole session, the fuzzer, a benchmark) send a minute.
            "CRM_RATE_LIMIT": "100000/60",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("CRM_DATABASE", None)
        for component in components.names():
            self.env[f"{component.upper()}_DATABASE_URL"] = self.database_url(component)

    def broker_user(self, component: str) -> str:
        return f"{self.tag}-{component}"

    def component_amqp_uri(self, component: str) -> str:
        """The broker URI of ``component``'s own user; the stack's (guest) without a vhost."""
        if not self.vhost:
            return self.amqp_uri
        return (f"amqp://{quote(self.broker_user(component), safe='')}:{self.broker_password}"
                f"@{RABBIT_HOST}/{self.vhost_path}")

    def grant_broker_users(self) -> None:
        """Make each component's broker user with the permissions production gives it."""
        def grant(item):
            component, permissions = item
            user = self.broker_user(component)
            ok = rabbitmqctl("add_user", user, self.broker_password)
            for command in permissions.commands(user, self.vhost):
                ok = ok and rabbitmqctl(*command)
            return ok

        with ThreadPoolExecutor(max_workers=5) as pool:
            assert all(pool.map(grant, broker_users.every_component().items())), \
                "could not create the stack's broker users"

    def database_url(self, component: str) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.workdir / (component + '.db')}"
        return f"{PG_SERVER}/{self.tag}_{component}"

    # -- lifecycle -------------------------------------------------------------------------
    def _python(self, *args, check=True):
        return subprocess.run([sys.executable, *args], cwd=ROOT, env=self.env, check=check,
                              capture_output=True, text=True, timeout=180)

    def prepare(self) -> None:
        """Migrate, declare the topology, seed the demo users and tell every user and team
        again (each a one-off command, as ``make run`` runs them)."""
        for step in (["-m", "common.migrations"],
                     ["-m", "common.topology"],
                     ["-m", "gateway.seed", "--demo"],
                     ["-m", "gateway.identity.announce"]):
            result = self._python(*step, check=False)
            if result.returncode != 0:
                raise RuntimeError(f"{' '.join(step)} failed:\n{result.stdout}\n{result.stderr}")
        if self.vhost:
            self.grant_broker_users()

    def start_service(self, name: str, instance: str | None = None, **extra_env: str) -> None:
        """Start one service (as ``instance``: another instance of it, beside the first);
        ``extra_env`` adds to the stack's environment for it alone."""
        log = open(self.workdir / f"{instance or name}.log", "ab")
        self.processes[instance or name] = subprocess.Popen(
            [str(BIN / "nameko"), "run", "--config", "deploy/nameko.yml", SERVICE_CLASSES[name]],
            cwd=ROOT, env={**self.env, "AMQP_URI": self.component_amqp_uri(name), **extra_env},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def start_gateway(self, name: str = "gateway", **extra_env: str) -> None:
        """Start a gateway (gunicorn) as ``name``; ``extra_env`` adds to the stack's
        environment for it alone (another port, TLS...)."""
        log = open(self.workdir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            [str(BIN / "gunicorn"), "--config", "deploy/gunicorn.conf.py", "gateway.app:create_app()"],
            cwd=ROOT, env={**self.env, "AMQP_URI": self.component_amqp_uri("gateway"),
                           **extra_env},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def start(self) -> "Stack":
        self.prepare()
        for name in SERVICE_CLASSES:
            self.start_service(name)
        self.start_gateway()
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 120) -> None:
        def ready():
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise AssertionError(f"{name} exited: {self.log(name)[-3000:]}")
            return requests.get(f"{self.base_url}/readyz", timeout=5).status_code == 200

        wait_until(ready, timeout=timeout, interval=0.3, message="stack ready")

    def kill(self, name: str, sig=signal.SIGKILL) -> None:
        proc = self.processes.pop(name)
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for name in list(self.processes):
            proc = self.processes[name]
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=15)
            self.processes.pop(name)
        if self.backend == "postgresql":
            drop_databases(*(f"{self.tag}_{component}" for component in components.names()))
        if self.vhost:
            rabbitmqctl("delete_vhost", self.vhost)
            for component in broker_users.every_component():
                rabbitmqctl("delete_user", self.broker_user(component))

    # -- client helpers --------------------------------------------------------------------
    def login(self, username: str, password: str | None = None) -> "Client":
        if password is None:
            password = ADMIN_PASSWORD if username == "admin" else DEMO_PASSWORD
        deadline = time.monotonic() + 30
        while True:
            response = requests.post(f"{self.base_url}/api/v1/auth/login",
                                     json={"username": username, "password": password},
                                     timeout=10)
            # 503 with Retry-After: every password-hash slot is busy (many sign-ins at once);
            # a client tries again when the answer says, until its own deadline.
            if (response.status_code != 503 or "Retry-After" not in response.headers
                    or time.monotonic() > deadline):
                break
            time.sleep(int(response.headers["Retry-After"]))
        assert response.status_code == 200, response.text
        return Client(self.base_url, response.json()["access_token"])


class Client(requests.Session):
    """An authenticated HTTP client of the gateway's /api/v1."""

    def __init__(self, base_url: str, token: str | None = None):
        super().__init__()
        self.base = f"{base_url}/api/v1"
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", 20)
        if url.startswith("/"):
            url = self.base + url
        return super().request(method, url, *args, **kwargs)
