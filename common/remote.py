"""Service-to-service RPC with a deadline.

nameko's ``RpcProxy`` waits for a reply for ever: a hung dependency would hang the caller's
worker with it. :class:`TimedRpcProxy` is the same dependency whose calls run under
``eventlet.Timeout`` and fail with typed errors the gateway maps to 504 and 503. The caller's
context data (who asks, the request id) travels with the nested call as with ``RpcProxy``.

    customers = TimedRpcProxy("customers")
    ...
    self.customers.get_customer(customer_id)
"""
from __future__ import annotations

import eventlet
from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy

from common import config
from common.errors import DependencyTimeout, DependencyUnavailable


def default_timeout() -> float:
    """Half of the gateway's wait, so the gateway hears why rather than timing out itself."""
    return config.rpc_timeout() / 2


def call(proxy, service: str, method: str, *args, timeout: float | None = None, **kwargs):
    """``proxy.method(*args, **kwargs)``, given up after ``timeout`` seconds."""
    deadline = eventlet.Timeout(timeout or default_timeout())
    try:
        return getattr(proxy, method)(*args, **kwargs)
    except eventlet.Timeout as exc:
        if exc is not deadline:
            raise
        raise DependencyTimeout(f"The {service} service did not answer in time.") from None
    except UnknownService:
        raise DependencyUnavailable(f"The {service} service is not available.") from None
    finally:
        deadline.cancel()


class Remote:
    """What a worker sees: ``remote.method(...)`` is a timed call of ``service.method``."""

    def __init__(self, proxy, service: str, timeout: float | None):
        self._proxy = proxy
        self._service = service
        self._timeout = timeout

    def __getattr__(self, method: str):
        def timed(*args, **kwargs):
            return call(self._proxy, self._service, method, *args,
                        timeout=self._timeout, **kwargs)

        return timed


class TimedRpcProxy(RpcProxy):
    """``RpcProxy(service)`` whose every call has a deadline (default: :func:`default_timeout`)."""

    def __init__(self, target_service: str, timeout: float | None = None, **options):
        super().__init__(target_service, **options)
        self.call_timeout = timeout

    def get_dependency(self, worker_ctx):
        return Remote(super().get_dependency(worker_ctx), self.target_service, self.call_timeout)
