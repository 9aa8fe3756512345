"""The gateway publishes user.* and team.* for the services that keep local copies."""
import uuid

import pytest

from gateway.identity.schemas import EVENTS
from tests.support.broker import EventTap, assert_valid_event


@pytest.fixture
def tap(stack):
    tap = EventTap(stack.amqp_uri, "gateway")
    yield tap
    tap.close()


def assert_valid(event):
    assert_valid_event(event, EVENTS)


def test_team_and_user_changes_are_published(admin, tap):
    team = admin.post("/teams", json={"name": f"North {uuid.uuid4().hex[:6]}"}).json()
    user = admin.post("/users", json={
        "username": f"nina{uuid.uuid4().hex[:6]}", "password": "a-long-password-1",
        "display_name": "Nina", "email": "nina@example.com", "role": "sales",
        "team_id": team["id"], "language": "zh-CN", "timezone": "Asia/Shanghai"}).json()
    admin.patch(f"/users/{user['id']}", json={"version": user["version"], "active": False})

    created_team = tap.wait_for(lambda e: e["type"] == "team.created" and e["entity_id"] == team["id"])
    created_user = tap.wait_for(lambda e: e["type"] == "user.created" and e["entity_id"] == user["id"])
    updated_user = tap.wait_for(lambda e: e["type"] == "user.updated" and e["entity_id"] == user["id"])
    for event in (created_team, created_user, updated_user):
        assert_valid(event)
        assert event["source"] == "gateway" and event["actor"]["role"] == "admin"
    assert created_user["data"]["team_id"] == team["id"]
    assert created_user["data"]["timezone"] == "Asia/Shanghai"
    assert "password_hash" not in created_user["data"]
    assert updated_user["data"]["active"] is False
    assert updated_user["entity_version"] == created_user["entity_version"] + 1


def test_a_rejected_change_publishes_nothing(admin, tap):
    taken = admin.post("/teams", json={"name": f"Dup {uuid.uuid4().hex[:6]}"}).json()
    assert admin.post("/teams", json={"name": taken["name"]}).status_code == 409
    tap.wait_for(lambda e: e["entity_id"] == taken["id"])
    assert [e for e in tap.drain(1.5) if e["data"].get("name") == taken["name"]] == []
