"""Calling the services: one standalone nameko RPC proxy per thread, errors mapped to HTTP.

gunicorn's ``gthread`` workers serve requests on several threads; a standalone proxy is not
thread-safe (shared, it hangs and corrupts frames) and is too slow to open per request, so
each thread keeps its own, opened on first use. A proxy broken by a broker restart is dropped
and the thread's next call opens a new one. Every call carries the caller (``Actor``) in the
context data, which nameko sends as AMQP headers, with the write's idempotency key and the
deadline after which the gateway no longer waits.

The wait is bounded: the request expires in its queue with the deadline (a message TTL), the
service does not start it once the deadline has passed, and a proxy that timed out is dropped,
so a late reply to it can never arrive during (and prolong) a later call. A write whose answer
did not come answers "outcome unknown" with its key: retrying with that key is safe.
"""
from __future__ import annotations

import logging
import threading
import time

from amqp.exceptions import AMQPError
from kombu.exceptions import OperationalError
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService
from nameko.standalone.rpc import ClusterRpcProxy

from common import config
from common.actor import Actor
from common.errors import CrmError
from common.service import DEADLINE, REQUEST_KEY
from gateway.auth import current_actor
from gateway.auth.access import request_key
from gateway.errors import GatewayTimeout, InternalError, OutcomeUnknown, ServiceUnavailable
from gateway.request_context import request_id

log = logging.getLogger(__name__)

# What a dead connection raises; nameko's proxy raises RuntimeError once its reply consumer
# has been disconnected.
BROKEN_CONNECTION_ERRORS = (OSError, AMQPError, OperationalError, RuntimeError)

_local = threading.local()


class _ThreadProxy:
    def __init__(self):
        self.timeout = config.rpc_timeout()
        self.standalone = ClusterRpcProxy(config.nameko_config(), timeout=self.timeout)
        self.cluster = self.standalone.start()

    def call(self, service: str, method: str, args, kwargs, context: dict, timeout: float):
        # The worker context and the reply consumer belong to this thread alone.
        data = self.standalone._worker_ctx.data
        data.clear()
        data.update({key: value for key, value in context.items() if value is not None})
        data[DEADLINE] = time.time() + timeout
        consumer = self.standalone._reply_listener.queue_consumer
        consumer.timeout = timeout
        remote_method = getattr(self.cluster[service], method)
        remote_method.publisher.expiration = timeout  # not delivered after the deadline
        try:
            return remote_method(*args, **kwargs)
        finally:
            consumer.timeout = self.timeout

    def close(self):
        try:
            self.standalone.stop()
        except BROKEN_CONNECTION_ERRORS:
            log.debug("closing a broken RPC proxy failed", exc_info=True)


def rpc_call(service: str, method: str, *args, **kwargs):
    """Call ``service.method`` as the current actor and return its answer.

    Errors of ``common.errors`` raised by the service arrive as their own types and are
    re-raised; an absent service is 503, a service too slow 504 (for a write: outcome
    unknown, retry with its key), anything else 500.
    """
    return _call(service, method, args, kwargs, _caller(request_key()), config.rpc_timeout())


def rpc_call_part(service: str, method: str, part: str, *args):
    """One of the calls a write is made of (an import's rows, sent in chunks): each runs once
    under the request's key and its ``part``, so a retry of the request with its key repeats
    none of the parts done before and does the rest."""
    return _call(service, method, args, {}, _caller(f"{request_key()}:{part}"),
                 config.rpc_timeout())


def _caller(key: str | None) -> dict:
    """The context of a call: the current actor, and the key of a write."""
    context = current_actor().to_context()
    if key is not None:
        context[REQUEST_KEY] = key
    return context


def ping(service: str, timeout: float = 2) -> dict:
    """The service's ``ping`` answer, for readiness checks (no caller needed)."""
    return system_call(service, "ping", timeout)


def system_call(service: str, method: str, timeout: float = 2):
    """Call a platform entrypoint (``ping``, ``metrics``) as the gateway itself."""
    context = Actor.system(method).to_context() | {"request_id": request_id()}
    return _call(service, method, (), {}, context, timeout)


def _call(service: str, method: str, args, kwargs, context: dict, timeout: float):
    try:
        proxy = _thread_proxy()
        return proxy.call(service, method, args, kwargs, context, timeout)
    except CrmError:
        raise
    except UnknownService:
        raise ServiceUnavailable(f"The {service} service is not available.") from None
    except RpcTimeout:
        # Its reply may still come: this proxy must not hear it during a later call.
        _drop_thread_proxy()
        if REQUEST_KEY in context:
            raise OutcomeUnknown(f"The {service} service did not answer in time.") from None
        raise GatewayTimeout(f"The {service} service did not answer in time.") from None
    except RemoteError as exc:
        log.error("%s.%s failed remotely: %s", service, method, exc)
        raise InternalError() from None
    except BROKEN_CONNECTION_ERRORS:
        log.warning("RPC connection broken; dropping this thread's proxy", exc_info=True)
        _drop_thread_proxy()
        if REQUEST_KEY in context:
            raise OutcomeUnknown("The broker connection broke during the call.",
                                 status=503) from None
        raise ServiceUnavailable("The broker is not reachable.") from None


def _thread_proxy() -> _ThreadProxy:
    proxy = getattr(_local, "proxy", None)
    if proxy is None:
        proxy = _local.proxy = _ThreadProxy()
    return proxy


def _drop_thread_proxy() -> None:
    proxy = getattr(_local, "proxy", None)
    _local.proxy = None
    if proxy is not None:
        proxy.close()
