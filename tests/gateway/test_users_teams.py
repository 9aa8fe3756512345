"""Users and teams: admin only, paginated, optimistic concurrency, validated input."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from common.actor import Actor
from gateway.models import User
from tests.gateway.helpers import assert_problem, bearer, login

USERS = "/api/v1/users"
TEAMS = "/api/v1/teams"
NEW_USER = {"username": "Wang.Wei", "password": "a-long-password", "role": "sales",
            "email": "wang@example.com", "display_name": "王伟", "timezone": "Asia/Shanghai",
            "language": "zh-CN"}


def user_count(db) -> int:
    db.rollback()
    return db.scalar(sa.select(sa.func.count()).select_from(User))


@pytest.mark.parametrize("path", [USERS, TEAMS, f"{USERS}/00000000-0000-0000-0000-000000000000"])
def test_admin_only(client, sales_headers, path):
    assert_problem(client.get(path), 401, "unauthorized")
    assert_problem(client.get(path, headers=sales_headers), 403, "forbidden")


def test_create_read_list_users(client, admin_headers, make_team):
    east = make_team("East")
    response = client.post(USERS, json={**NEW_USER, "team_id": str(east.id)}, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["username"] == "wang.wei" and created["team_id"] == str(east.id)
    assert created["version"] == 1 and created["active"] is True
    assert "password" not in created and "password_hash" not in created
    assert client.get(f"{USERS}/{created['id']}", headers=admin_headers).get_json() == created
    assert login(client, "WANG.WEI", NEW_USER["password"]).status_code == 200

    page = client.get(USERS, query_string={"per_page": 1, "sort": "-username"},
                      headers=admin_headers).get_json()
    assert page["total"] == 2 and page["page"] == 1 and page["per_page"] == 1
    assert [u["username"] for u in page["items"]] == ["wang.wei"]
    filtered = client.get(USERS, query_string={"role": "admin"}, headers=admin_headers).get_json()
    assert [u["username"] for u in filtered["items"]] == ["admin"]
    assert_problem(client.get(USERS, query_string={"sort": "password_hash"}, headers=admin_headers),
                   400, "validation_failed")
    assert_problem(client.get(USERS, query_string={"per_page": 201}, headers=admin_headers),
                   400, "validation_failed")


def test_duplicate_username_is_409(client, admin_headers):
    body = {**NEW_USER, "username": "ADMIN"}
    problem = assert_problem(client.post(USERS, json=body, headers=admin_headers), 409, "conflict")
    assert problem["errors"] == {"username": ["Already taken."]}


def test_patch_user_with_versions(client, admin_headers, make_user):
    sam = make_user("sam")
    path = f"{USERS}/{sam.id}"
    changed = client.patch(path, json={"display_name": "Samuel", "version": 1}, headers=admin_headers)
    assert changed.status_code == 200 and changed.get_json()["version"] == 2
    stale = client.patch(path, json={"display_name": "Sammy", "version": 1}, headers=admin_headers)
    assert assert_problem(stale, 409, "conflict")["current_version"] == 2
    by_header = client.patch(path, json={"role": "manager"}, headers={**admin_headers, "If-Match": '"2"'})
    assert by_header.status_code == 200 and by_header.get_json()["role"] == "manager"
    missing = client.patch(path, json={"role": "sales"}, headers=admin_headers)
    assert "version" in assert_problem(missing, 400, "validation_failed")["errors"]
    assert client.get(path, headers=admin_headers).get_json()["display_name"] == "Samuel"


def test_new_password_ends_sessions(client, admin_headers, make_user):
    sam = make_user("sam")
    tokens = login(client, "sam").get_json()
    response = client.patch(f"{USERS}/{sam.id}", json={"password": "another-long-one", "version": 1},
                            headers=admin_headers)
    assert response.status_code == 200
    assert_problem(client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}),
                   401, "unauthorized")
    assert login(client, "sam", "another-long-one").status_code == 200


@pytest.mark.parametrize(
    "body, fields",
    [
        ({}, {"username", "password", "role"}),
        ({**NEW_USER, "email": "not-an-email"}, {"email"}),
        ({**NEW_USER, "role": "emperor"}, {"role"}),
        ({**NEW_USER, "is_superuser": True}, {"is_superuser"}),
        ({**NEW_USER, "username": "x" * 1_000_000}, {"username"}),
        ({**NEW_USER, "password": "short"}, {"password"}),
        ({**NEW_USER, "timezone": "Mars/Olympus"}, {"timezone"}),
        ({**NEW_USER, "team_id": "00000000-0000-0000-0000-000000000000"}, {"team_id"}),
        ({**NEW_USER, "active": "maybe", "language": "fr"}, {"active", "language"}),
    ],
)
def test_bad_user_input_is_400_and_stores_nothing(client, admin_headers, db, body, fields):
    before = user_count(db)
    problem = assert_problem(client.post(USERS, json=body, headers=admin_headers), 400, "validation_failed")
    assert set(problem["errors"]) == fields
    assert user_count(db) == before


def test_field_errors_in_chinese(client, admin_headers):
    body = {**NEW_USER, "email": "nope", "role": "emperor", "extra": 1}
    del body["password"]
    response = client.post(USERS, json=body, headers={**admin_headers, "Accept-Language": "zh-CN"})
    problem = assert_problem(response, 400, "validation_failed")
    assert problem["title"] == "校验失败"
    assert problem["errors"] == {
        "email": ["不是有效的电子邮件地址。"],
        "role": ["必须是以下之一：admin, manager, sales, analyst。"],
        "extra": ["未知字段。"],
        "password": ["缺少必填字段。"],
    }


def test_malformed_json_is_400(client, admin_headers):
    response = client.post(USERS, data="{not json", content_type="application/json", headers=admin_headers)
    assert_problem(response, 400, "bad_request")


def test_teams(client, admin_headers, make_user):
    maria = make_user("maria", "manager")
    created = client.post(TEAMS, json={"name": "East", "manager_id": str(maria.id)}, headers=admin_headers)
    assert created.status_code == 201
    team = created.get_json()
    assert team["manager_id"] == str(maria.id) and team["version"] == 1
    assert client.post(TEAMS, json={"name": "West"}, headers=admin_headers).status_code == 201
    assert_problem(client.post(TEAMS, json={"name": "East"}, headers=admin_headers), 409, "conflict")
    assert_problem(client.post(TEAMS, json={"name": "North", "manager_id": str(team["id"])},
                               headers=admin_headers), 400, "validation_failed")
    listed = client.get(TEAMS, query_string={"sort": "-name"}, headers=admin_headers).get_json()
    assert [t["name"] for t in listed["items"]] == ["West", "East"] and listed["total"] == 2

    path = f"{TEAMS}/{team['id']}"
    renamed = client.patch(path, json={"name": "East Coast", "version": 1}, headers=admin_headers)
    assert renamed.status_code == 200 and renamed.get_json()["version"] == 2
    stale = client.patch(path, json={"name": "Eastern", "version": 1}, headers=admin_headers)
    assert assert_problem(stale, 409, "conflict")["current_version"] == 2
    taken = client.patch(path, json={"name": "West", "version": 2}, headers=admin_headers)
    assert assert_problem(taken, 409, "conflict")["errors"] == {"name": ["Already taken."]}
    assert client.get(path, headers=admin_headers).get_json()["name"] == "East Coast"
    assert_problem(client.get(f"{TEAMS}/00000000-0000-0000-0000-000000000000", headers=admin_headers),
                   404, "not_found")


def test_seed_is_idempotent_and_publishes_like_the_api(client, unit_of_work, outbox):
    from gateway.seed import DEMO_PASSWORD, seed

    with unit_of_work(Actor.system("seed")) as uow:
        created = seed(uow, demo=True)
        assert len(created) == 7 and created[0] == "user admin (admin)"
        assert seed(uow, demo=True) == []
    events = outbox()
    assert [e["type"] for e in events] == ["user.created"] + ["team.created"] * 2 + ["user.created"] * 4
    assert {e["actor"]["request_id"] for e in events} == {"seed"}
    tokens = login(client, "sam", DEMO_PASSWORD).get_json()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.get_json()["role"] == "sales" and me.get_json()["team_id"] is not None


def test_a_manager_lists_the_active_users_of_their_own_team_only(client, make_user, make_team):
    east, west = make_team("East"), make_team("West")
    make_user("maria", "manager", team_id=east.id)
    make_user("sam", "sales", team_id=east.id)
    make_user("old", "sales", team_id=east.id, active=False)
    make_user("sara", "sales", team_id=west.id)
    make_user("lonely", "manager")  # a manager of no team sees no one
    headers = bearer(login(client, "maria").get_json()["access_token"])
    listed = client.get(USERS, headers=headers).get_json()
    assert sorted(user["username"] for user in listed["items"]) == ["maria", "sam"]
    assert client.get(f"{USERS}?team_id={west.id}", headers=headers).get_json()["items"] == []
    assert_problem(client.get(f"{USERS}/{listed['items'][0]['id']}", headers=headers),
                   403, "forbidden")  # one user's record stays the admins'
    lonely = bearer(login(client, "lonely").get_json()["access_token"])
    assert_problem(client.get(USERS, headers=lonely), 403, "forbidden")
