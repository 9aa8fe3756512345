"""The stated bound of ``gateway.auth.callers`` on the real gateway (gunicorn, two worker
processes, each remembering callers on its own): a deactivated user's token and a
logged-out session stop working within ``CRM_AUTH_CACHE_SECONDS`` (default 5 s) on every
worker, however the requests are spread over them."""
from __future__ import annotations

import time
import uuid

import requests

from common import config
from tests.support.stack import Client

MARGIN = 2.0  # seconds past the bound for a request in flight and the poll's own step


def known_to_every_worker(client: Client) -> None:
    """Enough requests, each on a new connection, that both workers have served (and
    remembered) the caller."""
    for _ in range(12):
        response = client.get("/me", headers={"Connection": "close"})
        assert response.status_code == 200, response.text


def refused_within(client: Client, seconds: float) -> float:
    started = time.monotonic()
    while True:
        statuses = {client.get("/me", headers={"Connection": "close"}).status_code
                    for _ in range(4)}  # spread over the workers
        if statuses == {401}:
            return time.monotonic() - started
        assert statuses <= {200, 401}, statuses
        assert time.monotonic() - started < seconds, f"still let in after {seconds} s"
        time.sleep(0.2)


def new_user(stack, admin) -> tuple[dict, Client, dict]:
    username = f"bound-{uuid.uuid4().hex[:8]}"
    user = admin.post("/users", json={"username": username, "password": "bound-password-1",
                                      "role": "sales", "team_id": None})
    assert user.status_code == 201, user.text
    pair = requests.post(f"{stack.base_url}/api/v1/auth/login", timeout=10,
                         json={"username": username, "password": "bound-password-1"}).json()
    return user.json(), Client(stack.base_url, pair["access_token"]), pair


def test_a_deactivated_user_is_refused_on_every_worker_within_the_bound(stack, admin):
    user, client, _ = new_user(stack, admin)
    known_to_every_worker(client)
    response = admin.patch(f"/users/{user['id']}",
                           json={"version": user["version"], "active": False})
    assert response.status_code == 200, response.text
    refused_within(client, config.auth_cache_seconds() + MARGIN)


def test_a_logged_out_session_is_refused_on_every_worker_within_the_bound(stack, admin):
    _, client, pair = new_user(stack, admin)
    known_to_every_worker(client)
    response = requests.post(f"{stack.base_url}/api/v1/auth/logout", timeout=10,
                             json={"refresh_token": pair["refresh_token"]})
    assert response.status_code == 204, response.text
    refused_within(client, config.auth_cache_seconds() + MARGIN)
