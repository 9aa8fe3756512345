"""Identity's use cases behave as a service's: they decide who may act whoever calls them,
announce only real changes, and the announce command tells the services everyone again."""
from __future__ import annotations

import pytest

from common.actor import INTEGRATION, Actor
from common.errors import Forbidden
from gateway.identity import announce, api_keys, teams, users

USERS = "/api/v1/users"
TEAMS = "/api/v1/teams"


def test_a_patch_that_changes_nothing_keeps_the_version_and_publishes_nothing(
        client, admin_headers, make_user, make_team, outbox):
    east = make_team("East")
    sam = make_user("sam", team_id=east.id)
    unchanged = [
        (f"{USERS}/{sam.id}", {"display_name": "Sam", "team_id": str(east.id), "active": True}),
        (f"{TEAMS}/{east.id}", {"name": "East", "manager_id": None}),
    ]
    for path, body in unchanged:
        response = client.patch(path, json={**body, "version": 1}, headers=admin_headers)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["version"] == 1
    assert outbox() == []

    renamed = client.patch(f"{TEAMS}/{east.id}", json={"name": "East Coast", "version": 1},
                           headers=admin_headers)
    assert renamed.get_json()["version"] == 2
    [event] = outbox()
    assert (event["type"], event["entity_id"], event["entity_version"]) == (
        "team.updated", str(east.id), 2)
    assert event["data"]["name"] == "East Coast" and event["actor"]["role"] == "admin"


CALLS = [
    (users.list_users, ({},)),
    (users.create_user, ({"username": "eve", "password": "a-long-password", "role": "admin"},)),
    (teams.create_team, ({"name": "Takeover"},)),
    (api_keys.create_key, ({"name": "backdoor", "scopes": ["customers:read"]},)),
]


@pytest.mark.parametrize("role", ["manager", "sales", "analyst", INTEGRATION])
@pytest.mark.parametrize("use_case, args", CALLS, ids=[call.__name__ for call, _ in CALLS])
def test_only_admins_use_identity_whoever_calls(unit_of_work, outbox, role, use_case, args):
    with unit_of_work(Actor(user_id=None, role=role)) as uow, pytest.raises(Forbidden):
        use_case(uow, *args)
    assert outbox() == []


def test_announce_tells_every_user_and_team_at_its_version(make_user, make_team, outbox, capsys):
    east, west = make_team("East"), make_team("West")
    sam = make_user("sam", team_id=east.id)
    maria = make_user("maria", "manager", team_id=east.id, active=False)

    announce.main([])

    assert capsys.readouterr().out == "announced 2 user(s) and 2 team(s)\n"
    events = outbox()
    assert sorted((e["type"], e["entity_id"], e["entity_version"]) for e in events) == sorted([
        ("team.updated", str(east.id), 1), ("team.updated", str(west.id), 1),
        ("user.updated", str(sam.id), 1), ("user.updated", str(maria.id), 1)])
    assert {e["source"] for e in events} == {"gateway"}
    assert {e["actor"]["request_id"] for e in events} == {"announce"}
    assert next(e for e in events if e["entity_id"] == str(maria.id))["data"]["active"] is False
