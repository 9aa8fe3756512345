"""API keys: made by admins with scopes, shown once, stored hashed, limited to their scopes,
revocable; never a way into the identity routes."""
import hashlib

from gateway.models import ApiKey
from tests.gateway.helpers import assert_problem

KEYS = "/api/v1/api-keys"


def make_key(client, headers, scopes=("customers:read", "webhooks:write")):
    response = client.post(KEYS, json={"name": "ERP", "scopes": list(scopes)}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def test_a_key_is_shown_once_and_stored_hashed(client, admin_headers, db):
    made = make_key(client, admin_headers)
    assert made["key"].startswith("crm_") and made["key"].startswith(made["prefix"])
    assert made["scopes"] == ["customers:read", "webhooks:write"]
    listed = client.get(KEYS, headers=admin_headers).get_json()
    assert listed["total"] == 1 and "key" not in listed["items"][0]
    stored = db.get(ApiKey, made["id"])
    assert stored.key_hash == hashlib.sha256(made["key"].encode()).hexdigest()
    assert made["key"] not in repr(stored.__dict__)


def test_only_admins_make_keys_and_only_known_scopes(client, admin_headers, sales_headers):
    assert_problem(client.post(KEYS, json={"name": "x", "scopes": ["customers:read"]},
                               headers=sales_headers), 403, "forbidden")
    bad = client.post(KEYS, json={"name": "x", "scopes": ["users:write"]}, headers=admin_headers)
    assert "scopes.0" in assert_problem(bad, 400, "validation_failed")["errors"]


def test_a_key_reaches_only_its_scopes(client, admin_headers):
    key = {"X-API-Key": make_key(client, admin_headers)["key"]}
    # customers:write is missing: refused before any service is called.
    missing = assert_problem(client.post("/api/v1/customers", json={"name": "x"}, headers=key),
                             403, "forbidden")
    assert "customers:write" in missing["detail"]
    for path in ("/api/v1/users", "/api/v1/teams", "/api/v1/me", KEYS):
        assert_problem(client.get(path, headers=key), 403, "forbidden")


def test_unknown_and_revoked_keys_are_401(client, admin_headers):
    made = make_key(client, admin_headers)
    assert_problem(client.get("/api/v1/customers", headers={"X-API-Key": "crm_nope"}),
                   401, "unauthorized")
    assert client.delete(f"{KEYS}/{made['id']}", headers=admin_headers).status_code == 204
    assert_problem(client.get("/api/v1/customers", headers={"X-API-Key": made["key"]}),
                   401, "unauthorized")
    listed = client.get(KEYS, headers=admin_headers).get_json()["items"]
    assert listed[0]["revoked_at"] is not None
