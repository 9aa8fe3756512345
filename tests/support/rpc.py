"""Calling a service directly over RPC, as another service or a script on the broker would:
not through the gateway, with the caller's identity in nameko context data (the AMQP headers
the gateway would set, ``common.actor.Actor.to_context``)."""
from __future__ import annotations

import uuid
from contextlib import contextmanager

from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from common.actor import Actor
from common.errors import CrmError  # importing it registers the typed errors with nameko

RPC_TIMEOUT = 30


def actor_of(me: dict) -> Actor:
    """The actor of a user as ``GET /api/v1/me`` describes them."""
    return Actor(user_id=me["id"], role=me["role"], team_id=me.get("team_id"),
                 request_id=f"test-{uuid.uuid4().hex[:12]}")


@contextmanager
def rpc_as(amqp_uri: str, actor: Actor, timeout: float = RPC_TIMEOUT, **context_data):
    """A cluster proxy (``cluster.customers.create_customer(...)``) whose every call carries
    ``actor`` (and ``context_data``, such as a write's key)."""
    context = actor.to_context() | context_data
    with ClusterRpcProxy({"AMQP_URI": amqp_uri, "serializer": "json"}, context_data=context,
                         timeout=timeout) as cluster:
        yield cluster


def outcome(call, *args, **kwargs) -> tuple[str, object]:
    """``("ok", answer)`` of a call that is accepted, else ``(error type, details)``. The typed
    errors of ``common.errors`` arrive as themselves; anything else as nameko's
    ``RemoteError`` (its remote type name, no details)."""
    try:
        return "ok", call(*args, **kwargs)
    except CrmError as exc:
        return type(exc).__name__, exc.details
    except RemoteError as exc:
        return exc.exc_type, {}


def refusal(call, *args, **kwargs) -> tuple[str, dict]:
    """``(error type, details)`` of the refusal ``call(*args)`` answers; an
    ``AssertionError`` when it is accepted."""
    kind, details = outcome(call, *args, **kwargs)
    assert kind != "ok", f"accepted, answering {details!r}"
    return kind, details
