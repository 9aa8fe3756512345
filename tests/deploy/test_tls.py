"""Encryption in transit (docs/operations.md, "Encryption in transit").

The gateway serves HTTPS itself when given a certificate (deploy/gunicorn.conf.py), and
answers every request that came over TLS with Strict-Transport-Security, never one over plain
HTTP. Broker connections use TLS with an ``amqps://`` URI, verifying the broker against
``CRM_AMQP_SSL_CA``; PostgreSQL's ``sslmode`` travels in the database URL to libpq.

The real gateway runs under gunicorn with a self-signed certificate (openssl CLI) against the
session's stack, its broker reached through a TLS terminator (this machine's RabbitMQ has no
TLS listener), so HTTPS in and amqps out are both exercised.
"""
from __future__ import annotations

import runpy
import signal
import ssl
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
import sqlalchemy as sa
from kombu import Connection

from common import config
from common.db import create_db_engine, sqlalchemy_url
from gateway.request_context import STRICT_TRANSPORT_SECURITY
from tests.support.stack import ADMIN_PASSWORD, PG_SERVER, free_port, wait_until
from tests.support.tls import TlsTerminator, self_signed

ROOT = Path(__file__).resolve().parents[2]
HSTS = "Strict-Transport-Security"
TLS_ENV = ("CRM_TLS_CERT", "CRM_TLS_KEY", "CRM_AMQP_SSL_CA", "CRM_AMQP_SSL_CERT",
           "CRM_AMQP_SSL_KEY")


@pytest.fixture
def clean_env(monkeypatch):
    for name in (*TLS_ENV, "AMQP_URI"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


def broker_address(stack) -> tuple[str, int]:
    parts = urlsplit(stack.amqp_uri)
    return parts.hostname, parts.port or 5672


def through(terminator: TlsTerminator, stack) -> str:
    """The stack's broker URI, as ``amqps://`` to the terminator."""
    parts = urlsplit(stack.amqp_uri)
    netloc = f"{parts.username}:{parts.password}@127.0.0.1:{terminator.port}"
    return urlunsplit(parts._replace(scheme="amqps", netloc=netloc))


@pytest.fixture(scope="module")
def broker_tls(stack, certificate):
    """A TLS listener in front of the stack's RabbitMQ, with the test certificate."""
    terminator = TlsTerminator(broker_address(stack), *certificate).start()
    yield terminator
    terminator.stop()


# -- configuration (fast) ------------------------------------------------------------------
def test_gunicorn_serves_https_only_with_a_certificate_and_its_key(clean_env):
    from gunicorn.config import Config

    conf = ROOT / "deploy" / "gunicorn.conf.py"
    plain = runpy.run_path(str(conf))
    assert (plain["certfile"], plain["keyfile"]) == (None, None)

    clean_env.setenv("CRM_TLS_CERT", "/etc/crm/tls/cert.pem")
    clean_env.setenv("CRM_TLS_KEY", "/etc/crm/tls/key.pem")
    secure = runpy.run_path(str(conf))
    settings = Config()
    settings.set("certfile", secure["certfile"])
    settings.set("keyfile", secure["keyfile"])
    assert settings.is_ssl and settings.certfile == "/etc/crm/tls/cert.pem"

    clean_env.delenv("CRM_TLS_KEY")
    with pytest.raises(ValueError, match="CRM_TLS_KEY"):
        runpy.run_path(str(conf))


def test_amqps_verifies_the_broker_and_plain_amqp_has_no_tls_options(clean_env):
    assert config.amqp_ssl("amqp://guest:guest@localhost:5672/") is None
    assert config.amqp_ssl("amqps://crm:pw@rabbitmq:5671/") == {
        "cert_reqs": ssl.CERT_REQUIRED, "server_hostname": None}  # kombu names the host

    clean_env.setenv("CRM_AMQP_SSL_CA", "/ca.pem")
    clean_env.setenv("CRM_AMQP_SSL_CERT", "/client.pem")
    clean_env.setenv("CRM_AMQP_SSL_KEY", "/client.key")
    assert config.amqp_ssl("amqps://crm:pw@rabbitmq:5671/") == {
        "cert_reqs": ssl.CERT_REQUIRED, "server_hostname": None, "ca_certs": "/ca.pem",
        "certfile": "/client.pem", "keyfile": "/client.key"}
    with pytest.raises(ValueError, match="not amqps"):
        config.amqp_ssl("amqp://crm:pw@rabbitmq:5672/")  # would go in clear: refused
    clean_env.delenv("CRM_AMQP_SSL_KEY")
    with pytest.raises(ValueError, match="CRM_AMQP_SSL_KEY"):
        config.amqp_ssl("amqps://crm:pw@rabbitmq:5671/")


def test_every_nameko_connection_gets_the_tls_options(clean_env):
    """The gateway's and the commands' proxies (``nameko_config``), and each service's
    extensions (its container, as ``nameko run`` builds it from deploy/nameko.yml)."""
    from nameko.containers import ServiceContainer

    from services.customers.service import CustomersService

    clean_env.setenv("AMQP_URI", "amqps://crm:pw@rabbitmq:5671/")
    clean_env.setenv("CRM_AMQP_SSL_CA", "/ca.pem")
    expected = config.amqp_ssl()
    assert config.nameko_config()["AMQP_SSL"] == expected

    container = ServiceContainer(CustomersService, {"AMQP_URI": "amqps://crm:pw@rabbitmq:5671/"})
    assert container.config["AMQP_SSL"] == expected
    clean_env.delenv("CRM_AMQP_SSL_CA")
    plain = ServiceContainer(CustomersService, {"AMQP_URI": "amqp://guest:guest@localhost/"})
    assert plain.config["AMQP_SSL"] is None


def test_postgresql_sslmode_reaches_libpq(clean_env):
    """``?sslmode=`` survives every rewrite of a database URL and is obeyed by libpq."""
    assert sqlalchemy_url("postgresql://crm@db:5432/crm_sales?sslmode=verify-full") == (
        "postgresql+psycopg2://crm@db:5432/crm_sales?sslmode=verify-full")
    clean_env.delenv("SALES_DATABASE_URL", raising=False)
    clean_env.setenv("CRM_DATABASE", "postgresql://crm@db:5432?sslmode=require")
    assert config.database_url("sales") == "postgresql://crm@db:5432/crm_sales?sslmode=require"

    url = f"{PG_SERVER}/postgres"
    plain = create_db_engine(url)
    with plain.connect() as conn:
        server_has_tls = conn.execute(sa.text("SHOW ssl")).scalar() == "on"
    plain.dispose()
    required = create_db_engine(f"{url}?sslmode=require")
    try:
        if server_has_tls:
            with required.connect() as conn:
                assert conn.execute(sa.text(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar()
        else:
            with pytest.raises(sa.exc.OperationalError, match="does not support SSL"):
                required.connect()
    finally:
        required.dispose()


# -- the broker over TLS --------------------------------------------------------------------
def test_a_broker_connection_over_amqps_trusts_only_the_configured_ca(
        stack, broker_tls, certificate, clean_env, tmp_path):
    uri = through(broker_tls, stack)
    with Connection(uri, ssl=config.amqp_ssl(uri), connect_timeout=5) as untrusted:
        with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):
            untrusted.ensure_connection(max_retries=1)  # the system's CAs: self-signed refused

    clean_env.setenv("CRM_AMQP_SSL_CA", str(certificate[0]))
    with Connection(uri, ssl=config.amqp_ssl(uri), connect_timeout=5) as trusted:
        trusted.ensure_connection(max_retries=1)
        assert trusted.connected

    other_cert, other_key = self_signed(tmp_path, name="broker.example")
    impostor = TlsTerminator(broker_address(stack), other_cert, other_key).start()
    try:
        clean_env.setenv("CRM_AMQP_SSL_CA", str(other_cert))
        uri = through(impostor, stack)
        with Connection(uri, ssl=config.amqp_ssl(uri), connect_timeout=5) as misnamed:
            with pytest.raises(Exception, match="match|mismatch"):
                misnamed.ensure_connection(max_retries=1)  # trusted CA, another host's name
    finally:
        impostor.stop()


# -- the gateway over HTTPS ------------------------------------------------------------------
def test_plain_http_answers_carry_no_hsts_unless_a_trusted_proxy_says_https(stack):
    plain = requests.get(f"{stack.base_url}/healthz", timeout=10)
    assert plain.status_code == 200 and HSTS not in plain.headers
    refused = requests.get(f"{stack.base_url}/api/v1/me", timeout=10)
    assert refused.status_code == 401 and HSTS not in refused.headers
    # The test runs on 127.0.0.1, which FORWARDED_ALLOW_IPS trusts by default: a proxy there.
    proxied = requests.get(f"{stack.base_url}/healthz", timeout=10,
                           headers={"X-Forwarded-Proto": "https"})
    assert proxied.headers[HSTS] == STRICT_TRANSPORT_SECURITY


@pytest.fixture(scope="module")
def https_gateway(stack, certificate, broker_tls):
    """The real gateway under gunicorn with CRM_TLS_CERT/CRM_TLS_KEY, on a port of its own,
    talking to the broker over amqps (verified against the test certificate)."""
    cert, key = certificate
    port = free_port()
    name = "gateway-tls"
    stack.start_gateway(name, CRM_PORT=str(port), CRM_TLS_CERT=str(cert), CRM_TLS_KEY=str(key),
                        AMQP_URI=through(broker_tls, stack), CRM_AMQP_SSL_CA=str(cert))
    base = f"https://127.0.0.1:{port}"
    try:
        def ready():
            if stack.processes[name].poll() is not None:
                raise AssertionError(f"{name} exited: {stack.log(name)[-3000:]}")
            return requests.get(f"{base}/readyz", verify=str(cert), timeout=5).status_code == 200

        wait_until(ready, timeout=60, interval=0.3,
                   message=f"HTTPS gateway ready (log: {stack.workdir / name}.log)")
        yield base
    finally:
        if stack.processes[name].poll() is None:
            stack.kill(name, signal.SIGTERM)
        else:
            stack.processes.pop(name)


def test_https_is_served_with_the_certificate_and_hsts(https_gateway, certificate):
    cert = certificate[0]
    answer = requests.get(f"{https_gateway}/healthz", verify=str(cert), timeout=10)
    assert answer.status_code == 200
    assert answer.headers[HSTS] == STRICT_TRANSPORT_SECURITY
    port = int(urlsplit(https_gateway).port)
    served = ssl.get_server_certificate(("127.0.0.1", port))
    assert ssl.PEM_cert_to_DER_cert(served) == ssl.PEM_cert_to_DER_cert(cert.read_text())
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{https_gateway}/healthz", timeout=10)  # not a CA the system trusts


def test_plain_http_to_the_https_port_fails(https_gateway):
    plain = https_gateway.replace("https://", "http://")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{plain}/healthz", timeout=10)


def test_readiness_and_login_over_https_with_the_broker_over_amqps(
        https_gateway, certificate, broker_tls):
    cert = str(certificate[0])
    ready = requests.get(f"{https_gateway}/readyz", verify=cert, timeout=10)
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"].values()) == {"ok"}  # broker and every service, via TLS
    assert broker_tls.handshakes > 0

    login = requests.post(f"{https_gateway}/api/v1/auth/login", verify=cert, timeout=20,
                          json={"username": "admin", "password": ADMIN_PASSWORD})
    assert login.status_code == 200, login.text
    assert login.headers[HSTS] == STRICT_TRANSPORT_SECURITY
    me = requests.get(f"{https_gateway}/api/v1/me", verify=cert, timeout=20,
                      headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert me.status_code == 200 and me.json()["username"] == "admin"
