"""/metrics on the running stack: the gateway's requests from every worker, and each
service's own state, reminder lateness included."""
import requests

from tests.support.stack import SERVICE_CLASSES


def scrape(stack) -> str:
    response = requests.get(f"{stack.base_url}/metrics", timeout=20)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    return response.text


def test_metrics_report_the_gateway_and_every_service(stack, users):
    for _ in range(5):
        assert users["sam"].get("/customers").status_code == 200
    text = scrape(stack)
    assert 'crm_http_requests_total{method="GET",route="/api/v1/customers",status="200"}' in text
    assert "crm_http_request_duration_seconds_bucket" in text
    for service in SERVICE_CLASSES:
        assert f'crm_service_up{{service="{service}"}} 1.0' in text
        assert f'crm_outbox_pending{{service="{service}"}}' in text
        assert f'crm_parked_events{{service="{service}",status="dead"}}' in text
    assert 'crm_reminder_lateness_seconds_bucket{le="+Inf",service="notifications"}' in text
    assert "crm_reminders_pending" in text
