"""Webhook subscriptions (admins only): other systems receive the events they subscribe to,
signed with their secret, retried with back-off, every delivery logged and replayable.

A URL whose host resolves to a loopback, link-local, private or otherwise non-public address
is refused, at subscription and again at each delivery (the name may resolve differently by
then), unless ``CRM_WEBHOOK_ALLOW_PRIVATE=1``.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
import time
import uuid
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from common import config, records
from common.db import utcnow
from common.actor import INTEGRATION
from common.errors import Forbidden, ValidationError
from common.listing import order_by, paginate
from common.uow import UnitOfWork
from common.validation import load
from services.notifications import schemas as s
from services.notifications.access import require_admin
from services.notifications.models import Delivery, DeliveryAttempt, Webhook

webhook_out = s.WebhookSchema()
created_out = s.WebhookCreatedSchema()
delivery_out = s.DeliverySchema()
PRIVATE_URL = "The URL resolves to a loopback, link-local or private address."


# -- signing and address checks (also used when sending) -------------------------------------
def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``X-CRM-Signature``: ``t=<unix>,v1=<hex HMAC-SHA256 of "t.body">``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, header, body: bytes, max_age: float = 300, now: float | None = None) -> bool:
    """What a receiver does (documented, and used by the tests): the signature matches and is
    at most ``max_age`` seconds old (a replayed old delivery is refused). Never raises: a
    malformed header is simply not valid."""
    try:
        parts = dict(item.split("=", 1) for item in str(header).split(",") if "=" in item)
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > max_age:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), str(header))


# IPv6 prefixes that carry an IPv4 address in them: NAT64 (RFC 6052) and 6to4 (RFC 3056).
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
SIX_TO_FOUR = ipaddress.ip_network("2002::/16")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, NAT64, 6to4, Teredo's client)."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip in NAT64 or ip in NAT64_LOCAL:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in SIX_TO_FOUR:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    return None


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return is_public(str(embedded))
    return ip.is_global and not ip.is_multicast


def refused_reason(url: str) -> str | None:
    """Why ``url`` may not be called, or ``None``."""
    if config.webhook_allow_private():
        return None
    host = urlsplit(url).hostname
    if not host:
        return "Not a valid URL."
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        return "The URL's host does not resolve."
    if not addresses or not all(is_public(address) for address in addresses):
        return PRIVATE_URL
    return None


class PrivatePeer(Exception):
    """The connection reached a private address although the name resolved to a public one
    when checked (DNS rebinding): nothing is sent."""


def _refuse_private_peer(connection) -> None:
    if not config.webhook_allow_private() and not is_public(connection.sock.getpeername()[0]):
        connection.sock.close()
        raise PrivatePeer(PRIVATE_URL)


class _PublicHTTPConnection(HTTPConnection):
    def connect(self):
        super().connect()
        _refuse_private_peer(self)


class _PublicHTTPSConnection(HTTPSConnection):
    def connect(self):
        super().connect()
        _refuse_private_peer(self)


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(HTTPAdapter):
    """Checks the address actually connected to, not only the one the name resolved to."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicHTTPPool,
                                                   "https": _PublicHTTPSPool}


def http_session() -> requests.Session:
    """A session for calling webhooks: no redirects followed by the caller, and no connection
    kept to a private address (unless CRM_WEBHOOK_ALLOW_PRIVATE)."""
    session = requests.Session()
    session.trust_env = False  # no proxies from the environment: we check the real peer
    for scheme in ("http://", "https://"):
        session.mount(scheme, _PublicOnlyAdapter())
    return session


def _check_url(url: str) -> None:
    reason = refused_reason(url)
    if reason:
        raise ValidationError("Invalid input.", {"url": [reason]})


# -- fan-out ---------------------------------------------------------------------------------
_LIVE_WEBHOOKS = sa.select(Webhook).where(Webhook.active.is_(True), Webhook.deleted_at.is_(None))


def _subscriptions(uow: UnitOfWork) -> list[Webhook]:
    """The live subscriptions, read once per transaction."""
    cached = uow.session.info.get("crm_webhooks")
    if cached is None:
        cached = uow.session.scalars(_LIVE_WEBHOOKS).all()
        uow.session.info["crm_webhooks"] = cached
    return cached


def fan_out(uow: UnitOfWork, event: dict) -> int:
    """Queue a delivery of ``event`` to each webhook subscribed to its type."""
    queued = 0
    for webhook in _subscriptions(uow):
        if event["type"] in webhook.event_types:
            uow.session.add(Delivery(
                dedup_key=f"webhook:{webhook.id}:{event['id']}", channel="webhook",
                target=webhook.url, payload=event, webhook_id=webhook.id,
                event_id=str(event["id"]), event_type=event["type"]))
            queued += 1
    return queued


# -- administration --------------------------------------------------------------------------
def _webhook(uow: UnitOfWork, webhook_id) -> Webhook:
    require_admin(uow)
    return records.found(uow.session, Webhook, webhook_id, "webhook",
                         lambda row: row.deleted_at is None)


# The read scope an API key needs to receive an event type (by its entity): a key hears only
# what it could read. Identity and reminder events have none: no key subscribes to them.
READ_SCOPES = {"customer": "customers:read", "activity": "activities:read",
               "lead": "leads:read", "deal": "deals:read", "contract": "contracts:read"}


def _check_scopes(actor, event_types) -> None:
    """An API key subscribes only to event types its read scopes cover."""
    if actor.role != INTEGRATION:
        return
    beyond = sorted(kind for kind in event_types
                    if READ_SCOPES.get(kind.split(".", 1)[0]) not in actor.scopes)
    if beyond:
        raise Forbidden("This API key may not receive " + ", ".join(beyond) + ": a key hears "
                        "only events its read scopes cover, and never user or reminder events.")


def create_webhook(uow: UnitOfWork, payload) -> dict:
    require_admin(uow)
    data = load(s.WebhookCreateSchema, payload)
    _check_scopes(uow.actor, data["event_types"])
    _check_url(data["url"])
    data.setdefault("secret", secrets.token_urlsafe(32))
    data["event_types"] = sorted(set(data["event_types"]))
    webhook = Webhook(created_by=uow.actor.user_uuid, **data)
    uow.session.add(webhook)
    uow.session.flush()
    uow.commit()
    return created_out.dump(webhook)


def list_webhooks(uow: UnitOfWork, query_args) -> dict:
    require_admin(uow)
    args = load(s.PageQuerySchema, {"sort": "created_at", **(query_args or {})})
    query = sa.select(Webhook).where(Webhook.deleted_at.is_(None)).order_by(
        *order_by(Webhook, args["sort"], s.WEBHOOK_SORT_FIELDS))
    return paginate(uow.session, query, args, dump=webhook_out.dump)


def get_webhook(uow: UnitOfWork, webhook_id) -> dict:
    return webhook_out.dump(_webhook(uow, webhook_id))


UPDATABLE = ("url", "event_types", "secret", "active", "description")


def _updatable(webhook: Webhook) -> dict:
    """What an update may change (the secret too, which is never shown)."""
    return {name: getattr(webhook, name) for name in UPDATABLE}


def update_webhook(uow: UnitOfWork, webhook_id, payload) -> dict:
    """Change a subscription; a change that changes nothing answers it as it is (same
    version)."""
    require_admin(uow)
    data = load(s.WebhookUpdateSchema, payload)
    version = data.pop("version")
    webhook = _webhook(uow, webhook_id)
    if "event_types" in data:
        data["event_types"] = sorted(set(data["event_types"]))

    def apply():
        if "event_types" in data:
            _check_scopes(uow.actor, data["event_types"])
        if "url" in data:
            _check_url(data["url"])
        for name, value in data.items():
            setattr(webhook, name, value)

    if records.update(uow, webhook, version, _updatable, apply) is not None:
        uow.commit()
    return webhook_out.dump(webhook)


def delete_webhook(uow: UnitOfWork, webhook_id) -> None:
    webhook = _webhook(uow, webhook_id)
    webhook.deleted_at, webhook.active = utcnow(), False
    uow.commit()


def _dump_delivery(uow: UnitOfWork, delivery: Delivery) -> dict:
    attempts = uow.session.scalars(sa.select(DeliveryAttempt).where(
        DeliveryAttempt.delivery_id == delivery.id).order_by(DeliveryAttempt.number)).all()
    delivery.attempt_log = attempts
    return delivery_out.dump(delivery)


def list_deliveries(uow: UnitOfWork, webhook_id, query_args) -> dict:
    args = load(s.DeliveryListQuerySchema, query_args)
    webhook = _webhook(uow, webhook_id)
    query = sa.select(Delivery).where(Delivery.webhook_id == webhook.id)
    if "status" in args:
        query = query.where(Delivery.status == args["status"])
    query = query.order_by(*order_by(Delivery, args["sort"], s.DELIVERY_SORT_FIELDS))
    return paginate(uow.session, query, args, dump=lambda delivery: _dump_delivery(uow, delivery))


def replay_delivery(uow: UnitOfWork, webhook_id, delivery_id) -> dict:
    """Send a logged delivery's event again, as a new delivery (the log keeps both)."""
    webhook = _webhook(uow, webhook_id)
    original = records.found(uow.session, Delivery, delivery_id, "delivery",
                             lambda row: row.webhook_id == webhook.id)
    replay_id = uuid.uuid4()
    replay = Delivery(id=replay_id, dedup_key=f"replay:{replay_id}", channel="webhook",
                      target=webhook.url, payload=original.payload, webhook_id=webhook.id,
                      event_id=original.event_id, event_type=original.event_type,
                      replay_of=original.id)
    uow.session.add(replay)
    uow.session.flush()
    uow.commit()
    return _dump_delivery(uow, replay)
