"""Bad input answers 400 problem+json naming each field, in Chinese when asked; nothing is
stored."""
import pytest


def count(client):
    return client.get("/customers", params={"per_page": 1}).json()["total"]


@pytest.mark.parametrize(
    "body, fields",
    [
        ({}, {"name"}),
        ({"name": 42}, {"name"}),
        ({"name": "   "}, {"name"}),
        ({"name": "ok", "tier": "D"}, {"tier"}),
        ({"name": "ok", "status": "happy"}, {"status"}),
        ({"name": "ok", "type": "robot", "tags": "vip"}, {"type", "tags"}),
        ({"name": "ok", "owner_id": "not-a-uuid"}, {"owner_id"}),
        ({"name": "ok", "custom_fields": {"nested": {"a": 1}}}, {"custom_fields"}),
        ({"name": "ok", "is_admin": True, "password": "x"}, {"is_admin", "password"}),
        ({"name": "x" * 1_000_000}, {"name"}),
    ],
)
def test_customer_bad_input(users, body, fields):
    sam = users["sam"]
    before = count(sam)
    response = sam.post("/customers", json=body)
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert set(problem["errors"]) == fields
    assert problem["code"] == "validation_failed" and problem["status"] == 400
    assert count(sam) == before


def test_contact_invalid_email_in_chinese(users):
    sam = users["sam"]
    customer = sam.post("/customers", json={"name": "Email check"}).json()
    response = sam.post(f"/customers/{customer['id']}/contacts",
                        json={"name": "Wang", "email": "not-an-email"},
                        headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert response.status_code == 400
    problem = response.json()
    assert list(problem["errors"]) == ["email"]
    message = problem["errors"]["email"][0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in problem["title"])
    assert sam.get(f"/customers/{customer['id']}/contacts").json()["total"] == 0


def test_missing_version_and_malformed_json(users):
    sam = users["sam"]
    customer = sam.post("/customers", json={"name": "Versioned"}).json()
    missing = sam.patch(f"/customers/{customer['id']}", json={"name": "New"})
    assert missing.status_code == 400 and "version" in missing.json()["errors"]
    malformed = sam.post("/customers", data="{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert sam.get(f"/customers/{customer['id']}").json()["name"] == "Versioned"


def test_wrong_types_in_activity(users):
    sam = users["sam"]
    customer = sam.post("/customers", json={"name": "Timeline"}).json()
    response = sam.post(f"/customers/{customer['id']}/activities",
                        json={"type": "telepathy", "content": "", "occurred_at": "yesterday",
                              "next_follow_up_at": "2026-13-45"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"type", "content", "occurred_at", "next_follow_up_at"}
    assert sam.get(f"/customers/{customer['id']}/activities").json()["total"] == 0


def test_unknown_ids_are_404_problems(users):
    sam = users["sam"]
    assert sam.get("/customers/00000000-0000-0000-0000-000000000000").status_code == 404
    response = sam.get("/customers/not-a-uuid")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")
