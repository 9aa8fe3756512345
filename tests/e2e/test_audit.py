"""The audit trail on the running stack: the seed's users are recorded as made by the system,
and a sign-in through gunicorn with the client's real address and user agent."""
import uuid

import requests


def test_the_seed_and_a_sign_in_through_gunicorn_are_recorded(stack, admin):
    oldest = admin.get("/audit", params={"action": "user.", "sort": "occurred_at"}).json()["items"]
    seeded = {e["details"]["username"]: e for e in oldest if e["actor_role"] == "system"}
    assert {"admin", "maria", "sam", "sara", "alex"} <= set(seeded)
    assert {(e["action"], e["actor_name"], e["address"]) for e in seeded.values()} == {
        ("user.created", "seed", None)}

    request_id = f"audit-{uuid.uuid4().hex[:12]}"
    signed_in = requests.post(f"{stack.base_url}/api/v1/auth/login", timeout=10,
                              json={"username": "sam", "password": "demo-password-1"},
                              headers={"X-Request-Id": request_id, "User-Agent": "audit-e2e/1"})
    assert signed_in.status_code == 200, signed_in.text
    sam = [e for e in admin.get("/audit", params={"action": "login.succeeded"}).json()["items"]
           if e["request_id"] == request_id]
    assert len(sam) == 1, sam
    assert sam[0]["actor_name"] == "sam" and sam[0]["address"] == "127.0.0.1"
    assert sam[0]["user_agent"] == "audit-e2e/1"
