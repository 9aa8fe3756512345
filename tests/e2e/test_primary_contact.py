"""One primary contact per customer holds under concurrent writes (a unique partial index
backs the rule): of several made primary at the same moment, one is."""
import uuid
from concurrent.futures import ThreadPoolExecutor

from tests.support.http import ok


def test_contacts_made_primary_at_the_same_moment_leave_one_primary(stack, users):
    sam = users["sam"]
    customer = ok(sam.post("/customers", json={"name": f"Busy {uuid.uuid4().hex[:8]}"}), 201)
    url = f"/customers/{customer['id']}/contacts"

    def make(number):
        # a client of its own per thread: requests sessions are not shared across threads
        client = stack.login("sam")
        return client.post(url, json={"name": f"Contact {number}", "is_primary": True})

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(make, range(8)))
    assert {answer.status_code for answer in answers} <= {201, 409}, [a.text for a in answers]
    assert any(answer.status_code == 201 for answer in answers)
    contacts = ok(sam.get(url, params={"per_page": 50}))["items"]
    assert sum(contact["is_primary"] for contact in contacts) == 1
