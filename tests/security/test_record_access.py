"""Record-level access: reps see their own, managers their team's, analysts read only."""
import uuid


def customer_of(client):
    response = client.post("/customers", json={"name": f"Private {uuid.uuid4().hex[:8]}"})
    assert response.status_code == 201, response.text
    return response.json()


def test_reps_in_other_teams_cannot_touch_each_others_customers(users):
    sam, sara = users["sam"], users["sara"]
    assert sam.me["team_id"] != sara.me["team_id"]
    mine = customer_of(sam)
    url = f"/customers/{mine['id']}"
    for response in (
        sara.get(url),
        sara.patch(url, json={"version": 1, "name": "Stolen"}),
        sara.delete(url),
        sara.get(f"{url}/history"),
        sara.get(f"{url}/contacts"),
        sara.post(f"{url}/contacts", json={"name": "Spy"}),
        sara.post(f"{url}/activities", json={"type": "note", "content": "x"}),
    ):
        assert response.status_code == 404, response.text
        assert mine["name"] not in response.text
    listed = sara.get("/customers", params={"per_page": 200}).json()["items"]
    assert mine["id"] not in [c["id"] for c in listed]
    assert sam.get(url).json()["name"] == mine["name"]


def test_contacts_and_activities_follow_their_customer(users):
    sam, sara = users["sam"], users["sara"]
    mine = customer_of(sam)
    contact = sam.post(f"/customers/{mine['id']}/contacts", json={"name": "Inside"}).json()
    activity = sam.post(f"/customers/{mine['id']}/activities",
                        json={"type": "note", "content": "secret"}).json()
    assert sara.get(f"/contacts/{contact['id']}").status_code == 404
    assert sara.patch(f"/contacts/{contact['id']}", json={"version": 1, "name": "x"}).status_code == 404
    assert sara.delete(f"/contacts/{contact['id']}").status_code == 404
    assert sara.get(f"/activities/{activity['id']}").status_code == 404
    assert sara.patch(f"/activities/{activity['id']}",
                      json={"version": 1, "content": "x"}).status_code == 404


def test_manager_sees_the_team_and_not_other_teams(users):
    sam, sara, maria = users["sam"], users["sara"], users["maria"]
    assert maria.me["team_id"] == sam.me["team_id"]
    sams = customer_of(sam)
    saras = customer_of(sara)
    assert maria.get(f"/customers/{sams['id']}").status_code == 200
    assert maria.get(f"/customers/{saras['id']}").status_code == 404
    reassigned = maria.patch(f"/customers/{sams['id']}", json={"version": 1, "owner_id": maria.me["id"]})
    assert reassigned.status_code == 200 and reassigned.json()["owner_id"] == maria.me["id"]
    assert sam.get(f"/customers/{sams['id']}").status_code == 404


def test_sales_cannot_give_customers_away(users):
    sam, sara = users["sam"], users["sara"]
    response = sam.post("/customers", json={"name": "Gift", "owner_id": sara.me["id"]})
    assert response.status_code == 403


def test_analyst_reads_everything_and_writes_nothing(users):
    sam, alex = users["sam"], users["alex"]
    sams = customer_of(sam)
    assert alex.get(f"/customers/{sams['id']}").status_code == 200
    assert alex.post("/customers", json={"name": "Nope"}).status_code == 403
    assert alex.patch(f"/customers/{sams['id']}", json={"version": 1, "name": "x"}).status_code == 403
    assert alex.delete(f"/customers/{sams['id']}").status_code == 403
    assert alex.post(f"/customers/{sams['id']}/contacts", json={"name": "x"}).status_code == 403


def test_admin_sees_all(admin, users):
    saras = customer_of(users["sara"])
    assert admin.get(f"/customers/{saras['id']}").status_code == 200


def test_no_token_is_401(stack):
    from tests.support.stack import Client

    anonymous = Client(stack.base_url)
    response = anonymous.get("/customers")
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_a_manager_gives_records_only_to_members_of_the_team(users):
    sam, sara, maria = users["sam"], users["sara"], users["maria"]
    given = maria.post("/customers", json={"name": "For Sam", "owner_id": sam.me["id"]})
    assert given.status_code == 201 and given.json()["owner_id"] == sam.me["id"]
    assert maria.post("/customers", json={"name": "For Sara", "owner_id": sara.me["id"]}).status_code == 403
    moved = maria.patch(f"/customers/{given.json()['id']}", json={"version": 1, "owner_id": sara.me["id"]})
    assert moved.status_code == 403
    assert sam.get(f"/customers/{given.json()['id']}").status_code == 200
    assert sara.get(f"/customers/{given.json()['id']}").status_code == 404
    nobody = maria.post("/customers", json={"name": "For nobody",
                                             "owner_id": "00000000-0000-4000-8000-000000000000"})
    assert nobody.status_code == 400 and "owner_id" in nobody.json()["errors"]
