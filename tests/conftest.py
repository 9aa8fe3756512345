"""Fixtures shared by the integration suites: the real stack, on PostgreSQL and RabbitMQ."""
import pytest

from tests.support.stack import Stack

STOPS_BROKER = "_STOPS_BROKER"  # the name of a test that stops the shared RabbitMQ ends so


def pytest_collection_modifyitems(items):
    """Tests that stop the shared broker run last, whatever their directory: every other test
    of the session then runs against a broker that was never stopped."""
    items.sort(key=lambda item: STOPS_BROKER in item.name)


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """Every service and the gateway, running as real processes, for the whole session."""
    running = Stack(tmp_path_factory.mktemp("stack"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def admin(stack):
    return stack.login("admin")


@pytest.fixture(scope="session")
def users(stack):
    """Logged-in clients of the demo users, with their ids: sam (sales, East), sara (sales,
    West), maria (manager, East), alex (analyst)."""
    clients = {}
    for name in ("sam", "sara", "maria", "alex"):
        client = stack.login(name)
        client.me = client.get("/me").json()
        clients[name] = client
    return clients
