"""The gateway's access log (deploy/gunicorn.conf.py, gateway/access_log.py): each request a
line with its status, duration and request id, written by the thread that answered it."""
import uuid

import requests

from tests.support.stack import wait_until


def test_every_request_gets_its_access_line(stack):
    ids = [f"access-{uuid.uuid4().hex[:12]}" for _ in range(20)]
    for request_id in ids:  # over several connections: both workers answer some
        response = requests.get(f"{stack.base_url}/healthz", timeout=10,
                                headers={"X-Request-Id": request_id, "Connection": "close"})
        assert response.status_code == 200

    def logged():
        lines = [line for line in stack.log("gateway").splitlines() if "GET /healthz" in line]
        return all(any(f"rid={request_id}" in line and '" 200 ' in line for line in lines)
                   for request_id in ids)

    wait_until(logged, timeout=10, message="an access line per request")
