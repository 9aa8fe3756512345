"""Another system with an API key: it sees and writes what its scopes allow, through the
same routes as people (a web form capturing leads, an ERP syncing customers, webhooks)."""
import uuid

from tests.support.stack import Client


def key_client(stack, admin, *scopes):
    made = admin.post("/api-keys", json={"name": f"system {uuid.uuid4().hex[:6]}",
                                         "scopes": list(scopes)})
    assert made.status_code == 201, made.text
    client = Client(stack.base_url)
    client.headers["X-API-Key"] = made.json()["key"]
    return client


def test_a_key_works_within_its_scopes(stack, admin, users):
    sam, sara = users["sam"], users["sara"]
    erp = key_client(stack, admin, "customers:read", "customers:write", "leads:write",
                     "products:write", "webhooks:write")
    sams = sam.post("/customers", json={"name": f"Sam's {uuid.uuid4().hex[:6]}"}).json()
    saras = sara.post("/customers", json={"name": f"Sara's {uuid.uuid4().hex[:6]}"}).json()
    seen = {c["id"] for c in erp.get("/customers", params={"per_page": 200}).json()["items"]}
    assert {sams["id"], saras["id"]} <= seen

    synced = erp.post("/customers", json={"name": "From the ERP", "owner_id": sam.me["id"]})
    assert synced.status_code == 201, synced.text
    assert synced.json()["owner_id"] == sam.me["id"]
    assert sam.get(f"/customers/{synced.json()['id']}").status_code == 200
    history = admin.get(f"/customers/{synced.json()['id']}/history").json()["items"]
    assert history[-1]["actor_role"] == "integration" and history[-1]["actor_id"] is None

    # A web form: a lead for a team, assigned by the team's rule.
    lead = erp.post("/leads", json={"name": "Web visitor", "company": "Form Co",
                                    "email": f"{uuid.uuid4().hex[:6]}@example.com",
                                    "team_id": sam.me["team_id"]})
    assert lead.status_code == 201, lead.text
    assert lead.json()["owner_id"] is not None

    hook = erp.post("/webhooks", json={"url": "https://93.184.216.34/crm",
                                       "event_types": ["customer.updated"]})
    assert hook.status_code == 201, hook.text
    # webhooks:write is no read scope: the key hears only what it may read, never users
    for unreadable in ("deal.won", "user.created"):
        beyond = erp.post("/webhooks", json={"url": "https://93.184.216.34/crm",
                                             "event_types": [unreadable]})
        assert beyond.status_code == 403 and unreadable in beyond.json()["detail"], beyond.text

    product = erp.post("/products", json={"sku": f"ERP-{uuid.uuid4().hex[:6]}", "name": "Synced",
                                          "list_price": "10.00"})
    assert product.status_code == 201, product.text

    assert erp.get("/deals").status_code == 403
    assert erp.get("/leads").status_code == 403  # leads:read was not granted
    assert erp.get("/users").status_code == 403
