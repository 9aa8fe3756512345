"""What the console's forms offer, from the API: the event types a webhook may hear and the
fields an import's columns may be mapped to, each from the owning service's contract."""
from __future__ import annotations

from services.customers import schemas as customer_schemas
from services.notifications import schemas as notification_schemas
from tests.gateway.helpers import assert_problem


def test_the_event_types_a_webhook_may_hear(client, sales_headers):
    assert_problem(client.get("/api/v1/webhooks/event-types"), 401, "unauthorized")
    answer = client.get("/api/v1/webhooks/event-types", headers=sales_headers)
    assert answer.status_code == 200
    assert answer.get_json()["items"] == list(notification_schemas.WEBHOOK_EVENT_TYPES)


def test_the_fields_an_import_may_fill(client, sales_headers):
    answer = client.get("/api/v1/imports/fields", query_string={"entity": "customers"},
                        headers=sales_headers)
    assert answer.status_code == 200
    items = answer.get_json()["items"]
    assert [item["field"] for item in items] == [
        field for field, *_ in customer_schemas.TRANSFER_COLUMNS]
    assert items[0] == {"field": "name", "labels": ["Name", "客户名称"]}
    leads = client.get("/api/v1/imports/fields", query_string={"entity": "leads"},
                       headers=sales_headers).get_json()["items"]
    assert {"field": "company", "labels": ["Company", "公司"]} in leads
    refused = assert_problem(client.get("/api/v1/imports/fields", query_string={
        "entity": "deals"}, headers=sales_headers), 400, "validation_failed")
    assert "entity" in refused["errors"]
