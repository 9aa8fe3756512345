"""Customers, contacts and activities through HTTP on the running gateway and service."""
import uuid

PROBLEM = "application/problem+json"


def new_customer(client, **fields):
    body = {"name": f"Customer {uuid.uuid4().hex[:8]}", **fields}
    response = client.post("/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_read_list_update_conflict(users):
    sam = users["sam"]
    created = new_customer(
        sam, type="company", industry="Manufacturing", country="China", province="Zhejiang",
        city="Hangzhou", source="referral", tier="A", tags=["vip", "export"],
        custom_fields={"erp_code": "H-001", "employees": 120},
    )
    assert created["owner_id"] == sam.me["id"]
    assert created["team_id"] == sam.me["team_id"]
    assert created["version"] == 1 and created["status"] == "prospect"
    assert sam.get(f"/customers/{created['id']}").json() == created

    listed = sam.get("/customers", params={"city": "Hangzhou", "tier": "A", "tag": "vip"}).json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert listed["total"] == 1 and listed["page"] == 1 and listed["per_page"] == 50
    by_name = sam.get("/customers", params={"q": created["name"][-8:].upper()}).json()
    assert [item["id"] for item in by_name["items"]] == [created["id"]]

    updated = sam.patch(f"/customers/{created['id']}", json={"version": 1, "status": "active"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2 and updated.json()["status"] == "active"

    stale = sam.patch(f"/customers/{created['id']}", json={"version": 1, "tier": "B"})
    assert stale.status_code == 409
    assert stale.headers["Content-Type"].startswith(PROBLEM)
    assert stale.json()["current_version"] == 2
    assert sam.get(f"/customers/{created['id']}").json()["tier"] == "A"

    via_if_match = sam.patch(f"/customers/{created['id']}", json={"tier": "B"},
                             headers={"If-Match": '"2"'})
    assert via_if_match.status_code == 200 and via_if_match.json()["version"] == 3


def test_list_sorting_and_pagination(users):
    sam = users["sam"]
    marker = uuid.uuid4().hex[:6]
    for letter in "cab":
        new_customer(sam, name=f"{letter}-{marker}")
    first = sam.get("/customers", params={"q": marker, "sort": "name", "per_page": 2}).json()
    second = sam.get("/customers", params={"q": marker, "sort": "name", "per_page": 2,
                                           "page": 2}).json()
    assert first["total"] == 3
    assert [c["name"] for c in first["items"] + second["items"]] == [
        f"a-{marker}", f"b-{marker}", f"c-{marker}"]
    descending = sam.get("/customers", params={"q": marker, "sort": "-name"}).json()
    assert descending["items"][0]["name"] == f"c-{marker}"
    bad = sam.get("/customers", params={"sort": "password"})
    assert bad.status_code == 400 and "sort" in bad.json()["errors"]
    too_many = sam.get("/customers", params={"per_page": 500})
    assert too_many.status_code == 400 and "per_page" in too_many.json()["errors"]


def test_trash_restore_and_history(users):
    sam = users["sam"]
    customer = new_customer(sam, city="Ningbo")
    sam.patch(f"/customers/{customer['id']}", json={"version": 1, "city": "Wenzhou"})

    assert sam.delete(f"/customers/{customer['id']}").status_code == 204
    assert sam.get(f"/customers/{customer['id']}").status_code == 404
    trash = sam.get("/customers/trash", params={"per_page": 200}).json()
    assert customer["id"] in [item["id"] for item in trash["items"]]
    listed = sam.get("/customers", params={"per_page": 200}).json()
    assert customer["id"] not in [item["id"] for item in listed["items"]]

    restored = sam.post(f"/customers/{customer['id']}/restore")
    assert restored.status_code == 200 and restored.json()["deleted_at"] is None
    assert sam.get(f"/customers/{customer['id']}").status_code == 200

    history = sam.get(f"/customers/{customer['id']}/history").json()["items"]
    actions = [(h["action"], h["field"]) for h in history]
    assert ("created", None) in actions and ("deleted", None) in actions
    assert ("restored", None) in actions
    city_change = next(h for h in history if h["field"] == "city")
    assert (city_change["old_value"], city_change["new_value"]) == ("Ningbo", "Wenzhou")
    assert city_change["actor_id"] == sam.me["id"] and city_change["actor_role"] == "sales"
    assert city_change["changed_at"]


def test_contacts(users):
    sam = users["sam"]
    customer = new_customer(sam)
    first = sam.post(f"/customers/{customer['id']}/contacts",
                     json={"name": "Li Lei", "title": "CTO", "phone": "+86 138 0000 1111",
                           "email": "li.lei@example.com", "is_primary": True})
    assert first.status_code == 201, first.text
    second = sam.post(f"/customers/{customer['id']}/contacts",
                      json={"name": "Han Meimei", "email": "han@example.com", "is_primary": True})
    assert second.status_code == 201
    contacts = sam.get(f"/customers/{customer['id']}/contacts").json()["items"]
    assert [(c["name"], c["is_primary"]) for c in contacts] == [
        ("Han Meimei", True), ("Li Lei", False)]

    contact = sam.get(f"/contacts/{first.json()['id']}").json()
    changed = sam.patch(f"/contacts/{contact['id']}",
                        json={"version": contact["version"], "title": "CEO"})
    assert changed.status_code == 200 and changed.json()["title"] == "CEO"
    assert sam.patch(f"/contacts/{contact['id']}",
                     json={"version": contact["version"], "title": "CFO"}).status_code == 409

    found = sam.get("/customers", params={"q": "13800001111"}).json()["items"]
    assert customer["id"] in [c["id"] for c in found]

    assert sam.delete(f"/contacts/{contact['id']}").status_code == 204
    assert sam.get(f"/contacts/{contact['id']}").status_code == 404
    history = sam.get(f"/customers/{customer['id']}/history").json()["items"]
    assert any(h["entity_type"] == "contact" and h["field"] == "title"
               and h["new_value"] == "CEO" for h in history)


def test_activities_timeline(users):
    sam = users["sam"]
    customer = new_customer(sam)
    logged = sam.post(f"/customers/{customer['id']}/activities",
                      json={"type": "call", "content": "Discussed the renewal",
                            "occurred_at": "2026-11-20T10:00:00+08:00",
                            "next_follow_up_at": "2026-12-01T09:30:00+08:00"})
    assert logged.status_code == 201, logged.text
    activity = logged.json()
    assert activity["occurred_at"] == "2026-11-20T02:00:00+00:00"
    assert activity["next_follow_up_at"] == "2026-12-01T01:30:00+00:00"
    assert activity["user_id"] == sam.me["id"]
    sam.post(f"/customers/{customer['id']}/activities",
             json={"type": "visit", "content": "On site", "occurred_at": "2026-11-22T10:00:00Z"})

    timeline = sam.get(f"/customers/{customer['id']}/activities").json()
    assert [a["type"] for a in timeline["items"]] == ["visit", "call"]

    cleared = sam.patch(f"/activities/{activity['id']}",
                        json={"version": 1, "next_follow_up_at": None})
    assert cleared.status_code == 200 and cleared.json()["next_follow_up_at"] is None
    bad = sam.patch(f"/activities/{activity['id']}",
                    json={"version": 2, "next_follow_up_at": "2026-11-01T00:00:00Z"})
    assert bad.status_code == 400 and "next_follow_up_at" in bad.json()["errors"]
    assert sam.get(f"/activities/{activity['id']}").json()["version"] == 2
