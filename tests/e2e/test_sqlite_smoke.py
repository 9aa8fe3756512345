"""The quick-start shape: the same stack on SQLite files, one path end to end."""
import pytest

from tests.support.broker import EventTap
from tests.support.stack import Stack


@pytest.fixture(scope="module")
def sqlite_stack(tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("sqlite-stack"), backend="sqlite")
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.mark.sqlite
def test_customer_path_on_sqlite(sqlite_stack):
    assert (sqlite_stack.workdir / "customers.db").exists()
    assert (sqlite_stack.workdir / "gateway.db").exists()
    tap = EventTap(sqlite_stack.amqp_uri, "customers", "customer.*")
    try:
        sam = sqlite_stack.login("sam")
        created = sam.post("/customers", json={"name": "On SQLite", "tier": "C"})
        assert created.status_code == 201, created.text
        customer = created.json()
        contact = sam.post(f"/customers/{customer['id']}/contacts", json={"name": "Lite"})
        assert contact.status_code == 201
        changed = sam.patch(f"/customers/{customer['id']}", json={"version": 1, "tier": "B"})
        assert changed.status_code == 200 and changed.json()["version"] == 2
        assert sam.get("/customers", params={"q": "lite"}).json()["total"] == 1
        event = tap.wait_for(lambda e: e["type"] == "customer.updated")
        assert event["entity_id"] == customer["id"] and event["entity_version"] == 2
    finally:
        tap.close()
