"""Configuration from the environment: every process reads the same names (twelve-factor).

Nothing else in the code base reads ``os.environ`` for these settings, so the operations
guide's table describes the whole configuration (the README's, the most used part of it).
"""
from __future__ import annotations

import os
import secrets
import ssl
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from common import components

DEFAULT_AMQP_URI = "amqp://guest:guest@localhost:5672/"
SERVICES = tuple(components.service_names())


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def amqp_uri() -> str:
    return env("AMQP_URI", DEFAULT_AMQP_URI)


def amqp_ssl(uri: str | None = None) -> dict | None:
    """TLS options of a broker connection (kombu's ``ssl``, nameko's ``AMQP_SSL``); ``None``
    for plain AMQP.

    An ``amqps://`` URI turns TLS on: the broker's certificate must chain to
    ``CRM_AMQP_SSL_CA`` (else to the system's CAs) and name the host the URI connects to
    (kombu fills in ``server_hostname``). ``CRM_AMQP_SSL_CERT`` and ``CRM_AMQP_SSL_KEY`` add a
    client certificate, for a broker that verifies its peers. These settings with an
    ``amqp://`` URI are refused rather than ignored: the traffic would go in clear.
    """
    uri = uri or amqp_uri()
    ca, cert, key = env("CRM_AMQP_SSL_CA"), env("CRM_AMQP_SSL_CERT"), env("CRM_AMQP_SSL_KEY")
    if urlsplit(uri).scheme != "amqps":
        if ca or cert or key:
            raise ValueError("CRM_AMQP_SSL_* is set but AMQP_URI is not amqps://")
        return None
    if bool(cert) != bool(key):
        raise ValueError("set both CRM_AMQP_SSL_CERT and CRM_AMQP_SSL_KEY, or neither")
    options = {"cert_reqs": ssl.CERT_REQUIRED, "server_hostname": None}
    if ca:
        options["ca_certs"] = ca
    if cert:
        options.update(certfile=cert, keyfile=key)
    return options


def with_amqp_ssl(nameko_settings: dict) -> dict:
    """``nameko_settings`` with ``AMQP_SSL`` from :func:`amqp_ssl` for its ``AMQP_URI``
    (unless it names one itself): how every nameko connection, a service's or the
    gateway's, gets the same TLS options as the rest of the code."""
    if nameko_settings.get("AMQP_SSL") is None:
        nameko_settings["AMQP_SSL"] = amqp_ssl(nameko_settings.get("AMQP_URI"))
    return nameko_settings


def gateway_tls() -> tuple[str | None, str | None]:
    """``(certificate, private key)`` files (PEM) the gateway serves HTTPS with, from
    ``CRM_TLS_CERT`` and ``CRM_TLS_KEY``; ``(None, None)``: plain HTTP (TLS ends at a proxy)."""
    cert, key = env("CRM_TLS_CERT"), env("CRM_TLS_KEY")
    if bool(cert) != bool(key):
        raise ValueError("set both CRM_TLS_CERT and CRM_TLS_KEY, or neither")
    return cert, key


def data_dir() -> Path:
    path = Path(env("CRM_DATA_DIR", "./var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(component: str) -> str:
    """The database of one component (a service or ``gateway``).

    ``<COMPONENT>_DATABASE_URL`` wins; else ``CRM_DATABASE`` names a PostgreSQL server and
    the component uses its own database ``crm_<component>`` on it; else a SQLite file.
    """
    override = env(f"{component.upper()}_DATABASE_URL")
    if override:
        return override
    server = env("CRM_DATABASE")
    if server:
        parts = urlsplit(server)
        return urlunsplit(parts._replace(path=f"/crm_{component}"))
    return f"sqlite:///{data_dir() / (component + '.db')}"


def secret_key() -> str:
    """The token-signing key; generated once into the data directory for development."""
    configured = env("CRM_SECRET_KEY")
    if configured:
        return configured
    key_file = data_dir() / "secret_key"
    try:
        # Exclusive create: of several processes starting together, one writes the key and
        # every other reads that one.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    for _ in range(50):
        key = key_file.read_text().strip()
        if key:
            return key
        time.sleep(0.01)  # another process created the file and is writing it
    raise RuntimeError(f"{key_file} is empty; delete it or set CRM_SECRET_KEY")


def admin_password() -> str:
    return env("CRM_ADMIN_PASSWORD", DEV_ADMIN_PASSWORD)


DEV_ADMIN_PASSWORD = "admin12345"


def cpus() -> int:
    """CPUs this process may run on (a cpuset, unlike os.cpu_count(); not a CFS quota)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


def gateway_port() -> int:
    return int(env("CRM_PORT", "8000"))


def trusted_proxies() -> int:
    """How many reverse proxies stand in front of the gateway: their ``X-Forwarded-For``
    entries are trusted to name the client (rate limits and logs key on it). 0: none."""
    return int(env("CRM_TRUSTED_PROXIES", "0"))


def rate_limit() -> tuple[int, int] | None:
    """``(requests, seconds)`` each caller of the gateway may make (``CRM_RATE_LIMIT``,
    ``"600/60"``); ``None`` when ``0`` or ``off``."""
    text = env("CRM_RATE_LIMIT", "600/60").strip().lower()
    if text in ("0", "off"):
        return None
    requests, _, seconds = text.partition("/")
    if not (requests.isdigit() and seconds.isdigit() and int(requests) and int(seconds)):
        raise ValueError(f"CRM_RATE_LIMIT={text!r} is not <requests>/<seconds> (such as "
                         "600/60), 0 or off")
    return int(requests), int(seconds)


def auth_cache_seconds() -> float:
    """How long a gateway process trusts what it last read of a token's user and session
    (``gateway.auth.callers``): the bound on a deactivation, a role change or a logout made
    through another process taking effect. 0: read them on every request."""
    return float(env("CRM_AUTH_CACHE_SECONDS", "5"))


def redis_url() -> str | None:
    """``redis://host:port/db`` of a Redis the gateway's rate limits count in; unset, they
    count in the gateway's database."""
    return env("CRM_REDIS_URL")


def services() -> list[str]:
    """The services the gateway's readiness check pings; default: every registered one."""
    return env("CRM_SERVICES", ",".join(SERVICES)).split(",")


def rpc_timeout() -> float:
    """Seconds a caller waits for an RPC reply before answering 504."""
    return float(env("CRM_RPC_TIMEOUT", "10"))


def import_max_bytes() -> int:
    """The largest file an import takes (``CRM_IMPORT_MAX_MB`` megabytes, 50 by default);
    a larger one is refused before anything is stored."""
    return int(float(env("CRM_IMPORT_MAX_MB", "50")) * 1024 * 1024)


def import_max_rows() -> int:
    """The most rows an import takes (``CRM_IMPORT_MAX_ROWS``, 200,000): a file of more is
    refused before anything is stored (a 50 MB file of one-letter lines is 25 million)."""
    return int(env("CRM_IMPORT_MAX_ROWS", "200000"))


def smtp_url() -> str | None:
    """``smtp://host:port`` of the mail server; unset, mail is written as ``.eml`` files
    under ``$CRM_DATA_DIR/mail/``."""
    return env("SMTP_URL")


def mail_from() -> str:
    return env("CRM_MAIL_FROM", "CRM <crm@localhost>")


def webhook_allow_private() -> bool:
    """Allow webhook URLs resolving to loopback, link-local or private addresses (tests,
    development); refused otherwise."""
    return env("CRM_WEBHOOK_ALLOW_PRIVATE", "0").lower() in ("1", "true", "yes")


# Connections a process may hold beyond one per worker (services: the outbox relay, the
# parked-event and pruning timers, a handler parking its event; the gateway: its outbox
# sweeper). The operations guide adds them up against PostgreSQL's max_connections.
EXTRA_CONNECTIONS = 5


def db_pool_timeout() -> float:
    """Seconds to wait for a free database connection: half the RPC deadline, so a request
    starved of connections fails while its caller still listens."""
    return rpc_timeout() / 2


def gateway_threads() -> int:
    """Request threads per gateway worker process (gunicorn's ``threads``)."""
    return int(env("GUNICORN_THREADS", "8"))


def password_hash_slots() -> int:
    """Password hashes (64 MiB each) a gateway process computes at once."""
    return int(env("CRM_PASSWORD_HASH_SLOTS", "2"))


def retention_days() -> float:
    """Days published outbox rows and applied event ids are kept (``common.retention``)."""
    return float(env("CRM_RETENTION_DAYS", "30"))


def idempotency_hours() -> float:
    """Hours a write request's key and answer are kept: a repeat within them answers the
    first result (``common.idempotency``)."""
    return float(env("CRM_IDEMPOTENCY_HOURS", "24"))


def delivery_limit() -> int:
    """Times a queued message may go back to its queue before it is dead-lettered
    (``common.queues``). A handler pauses 2 s before returning a message it could not apply
    for want of its database, so the default rides out several minutes of outage."""
    return int(env("CRM_DELIVERY_LIMIT", "200"))


def scheduler_interval() -> float:
    """Seconds between two sweeps of the reminder scheduler and of the delivery queue."""
    return float(env("CRM_SCHEDULER_INTERVAL", "1"))


def delivery_retry() -> tuple[float, float, int]:
    """``(first delay, longest delay, attempts)`` of the back-off of a failed mail or
    webhook delivery: first, 2 x first, 4 x first ... at most longest; failed after
    ``attempts`` tries."""
    return (
        float(env("CRM_DELIVERY_RETRY_BASE", "10")),
        float(env("CRM_DELIVERY_RETRY_MAX", "900")),
        int(env("CRM_DELIVERY_MAX_ATTEMPTS", "8")),
    )


def delivery_timeout() -> float:
    """Seconds one SMTP conversation or webhook request may take."""
    return float(env("CRM_DELIVERY_TIMEOUT", "10"))


def deal_closing_days() -> int:
    """A deal's "closes soon" reminder comes this many days before its expected close."""
    return int(env("CRM_DEAL_CLOSING_DAYS", "3"))


def deal_stale_days() -> int:
    """An open deal with no stage change and no activity for this many days is stale."""
    return int(env("CRM_DEAL_STALE_DAYS", "14"))


def business_tz() -> ZoneInfo:
    """The time zone whose calendar days, weeks, months... report periods follow (an IANA
    name such as ``Asia/Shanghai``)."""
    name = env("CRM_BUSINESS_TZ", "UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"CRM_BUSINESS_TZ={name!r} is not a known time zone "
                         "(an IANA name such as Asia/Shanghai)") from exc


def report_currency() -> str:
    """The currency reports total in when a query names none (ISO 4217 code)."""
    return env("CRM_CURRENCY", "CNY")


NAMEKO_CONFIG_FILE = Path(__file__).resolve().parent.parent / "deploy" / "nameko.yml"


def nameko_config() -> dict:
    """deploy/nameko.yml with the environment substituted, as ``nameko run`` reads it, and
    the broker's TLS options (:func:`with_amqp_ssl`)."""
    import yaml
    from nameko.cli.main import setup_yaml_parser

    setup_yaml_parser()
    with open(NAMEKO_CONFIG_FILE) as handle:
        loaded = yaml.safe_load(handle)
    loaded.pop("LOGGING", None)
    return with_amqp_ssl(loaded)
