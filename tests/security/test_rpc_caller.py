"""A service serves only a request that names its caller.

The gateway names the caller of every call in its context data; the system itself (a timer, an
event handler, a setup command, the readiness probe) says it is the system. A request on the
broker naming no caller, or a role no one has, is refused and not run: before, it ran as the
system, which acts as an admin.
"""
import uuid

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from common.actor import Actor
from common.errors import CallerUnknown
from tests.support.http import ok
from tests.support.rpc import RPC_TIMEOUT, actor_of, rpc_as


@pytest.fixture
def anonymous(stack):
    """A proxy whose calls carry only a request id: no caller."""
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri, "serializer": "json"},
                         context_data={"request_id": "test-anonymous"},
                         timeout=RPC_TIMEOUT) as cluster:
        yield cluster


def created(admin, name: str) -> int:
    """Customers named exactly ``name`` (the search finds names containing it)."""
    found = ok(admin.get("/customers", params={"q": name, "per_page": 200}))["items"]
    return sum(customer["name"] == name for customer in found)


@pytest.mark.parametrize("service, method, args", [
    ("customers", "create_customer", ({"name": "Nobody's"},)),
    ("customers", "list_customers", ()),
    ("sales", "list_deals", ()),
    ("notifications", "ping", ()),
    ("reports", "ping", ()),
])
def test_a_request_naming_no_caller_is_refused(anonymous, service, method, args):
    with pytest.raises(CallerUnknown, match="names no caller"):
        getattr(anonymous[service], method)(*args)


def test_a_refused_write_was_not_run(anonymous, admin):
    name = f"Anonymous {uuid.uuid4().hex[:8]}"
    with pytest.raises(CallerUnknown):
        anonymous.customers.create_customer({"name": name})
    assert created(admin, name) == 0


def test_a_role_no_one_has_is_refused(stack, admin):
    name = f"Superuser {uuid.uuid4().hex[:8]}"
    caller = Actor(user_id=None, role="superuser", request_id="test-superuser")
    with rpc_as(stack.amqp_uri, caller) as cluster, pytest.raises(CallerUnknown):
        cluster.customers.create_customer({"name": name})
    assert created(admin, name) == 0


def test_a_named_caller_and_the_system_are_served(stack, admin):
    me = actor_of(ok(admin.get("/me")))
    name = f"Named {uuid.uuid4().hex[:8]}"
    with rpc_as(stack.amqp_uri, me) as cluster:
        assert cluster.customers.create_customer({"name": name})["name"] == name
    with rpc_as(stack.amqp_uri, Actor.system("test")) as cluster:
        assert cluster.customers.ping()["status"] == "ok"
    assert created(admin, name) == 1
