"""Authentication without a database round trip per request (``gateway.auth.callers``).

Two apps on one database stand for two gateway processes: a change made through one takes
effect there at once and on the other within ``AUTH_CACHE_SECONDS`` (the stated bound).
"""
from __future__ import annotations

import time
import uuid

import pytest
import sqlalchemy as sa

from gateway import database
from gateway.auth.callers import Callers, UserState
from tests.gateway.helpers import assert_problem, bearer, login

ME = "/api/v1/me"
BOUND = 1.0  # seconds: AUTH_CACHE_SECONDS of these apps


@pytest.fixture
def processes(make_app, app):
    """``(here, there)``: test clients of two apps with the bound, sharing ``app``'s tables
    (which ``app`` empties after the test)."""
    overrides = {"AUTH_CACHE_SECONDS": BOUND}
    return make_app(overrides).test_client(), make_app(overrides).test_client()


def refused_within(client, headers, seconds: float) -> float:
    """Seconds until ``client`` answers 401 to ``headers``; fails past ``seconds``."""
    started = time.monotonic()
    while True:
        response = client.get(ME, headers=headers)
        if response.status_code == 401:
            assert_problem(response, 401, "unauthorized")
            return time.monotonic() - started
        assert response.status_code == 200, response.get_data(as_text=True)
        assert time.monotonic() - started < seconds, f"still let in after {seconds} s"
        time.sleep(0.05)


@pytest.fixture
def statements(app):
    """``statements(table)``: how many statements naming ``table`` the apps ran so far."""
    seen: list[str] = []

    def note(conn, cursor, statement, *args):
        seen.append(statement)

    engine = database.engine(app)
    sa.event.listen(engine, "before_cursor_execute", note)
    yield lambda table: sum(f" {table}" in statement for statement in seen)
    sa.event.remove(engine, "before_cursor_execute", note)


def test_a_known_caller_is_let_in_without_reading_their_session(app, make_user, statements):
    client = app.test_client()
    make_user("sam")
    headers = bearer(login(client, "sam").get_json()["access_token"])
    assert client.get(ME, headers=headers).status_code == 200
    read = statements("refresh_tokens")
    for _ in range(3):
        assert client.get(ME, headers=headers).status_code == 200
    assert statements("refresh_tokens") == read


def known_everywhere(processes, make_user, path: str = ME, status: int = 200):
    """An admin's headers, the rep sam and his headers, once both processes served sam
    ``path`` (with ``status``) and so remember him."""
    here, _ = processes
    make_user("boss", "admin")
    admin = bearer(login(here, "boss").get_json()["access_token"])
    sam = make_user("sam")
    headers = bearer(login(here, "sam").get_json()["access_token"])
    for process in processes:
        assert process.get(path, headers=headers).status_code == status
    return admin, sam, headers


def test_a_deactivated_user_is_refused_here_at_once_and_everywhere_within_the_bound(
        processes, make_user):
    here, there = processes
    admin, sam, headers = known_everywhere(processes, make_user)

    response = here.patch(f"/api/v1/users/{sam.id}", json={"active": False, "version": 1},
                          headers=admin)
    assert response.status_code == 200, response.get_json()
    assert_problem(here.get(ME, headers=headers), 401, "unauthorized")
    refused_within(there, headers, BOUND + 1.0)


def test_a_logout_ends_the_session_everywhere_within_the_bound(processes, make_user):
    here, there = processes
    make_user("sam")
    tokens = login(here, "sam").get_json()
    headers = bearer(tokens["access_token"])
    for process in (here, there):  # each remembers the session
        assert process.get(ME, headers=headers).status_code == 200
    assert here.post("/api/v1/auth/logout",
                     json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    assert_problem(here.get(ME, headers=headers), 401, "unauthorized")
    refused_within(there, headers, BOUND + 1.0)


def test_a_role_change_reaches_every_process_within_the_bound(processes, make_user):
    here, there = processes
    admin, sam, headers = known_everywhere(processes, make_user, "/api/v1/users", 403)

    response = here.patch(f"/api/v1/users/{sam.id}", json={"role": "admin", "version": 1},
                          headers=admin)
    assert response.status_code == 200, response.get_json()
    assert here.get("/api/v1/users", headers=headers).status_code == 200
    deadline = time.monotonic() + BOUND + 1.0
    while there.get("/api/v1/users", headers=headers).status_code != 200:
        assert time.monotonic() < deadline, "the old role still held past the bound"
        time.sleep(0.05)


def test_with_no_cache_every_request_reads_the_database(make_app, app, make_user):
    here = make_app({"AUTH_CACHE_SECONDS": 0}).test_client()
    there = make_app({"AUTH_CACHE_SECONDS": 0}).test_client()
    make_user("boss", "admin")
    admin = bearer(login(here, "boss").get_json()["access_token"])
    sam = make_user("sam")
    headers = bearer(login(here, "sam").get_json()["access_token"])
    assert there.get(ME, headers=headers).status_code == 200
    assert here.patch(f"/api/v1/users/{sam.id}", json={"active": False, "version": 1},
                      headers=admin).status_code == 200
    assert_problem(there.get(ME, headers=headers), 401, "unauthorized")


def test_the_cache_is_bounded_in_entries_and_by_the_session_lifetime():
    callers = Callers(seconds=60, max_entries=2)
    users = [uuid.uuid4() for _ in range(3)]
    sessions = [uuid.uuid4() for _ in range(3)]
    for user, session in zip(users, sessions):
        callers.remember(user, UserState("sales", None), session, session_ends_in=60)
    assert callers.user(users[0]) is None and not callers.session_alive(sessions[0], users[0])
    assert callers.user(users[2]) == UserState("sales", None)
    assert callers.session_alive(sessions[2], users[2])
    assert not callers.session_alive(sessions[2], users[1])  # a session is its user's only

    ending = uuid.uuid4()
    callers.remember(users[2], UserState("sales", None), ending, session_ends_in=0.05)
    assert callers.session_alive(ending, users[2])
    deadline = time.monotonic() + 1.0  # the session's lifetime ends before the entry would
    while callers.session_alive(ending, users[2]):
        assert time.monotonic() < deadline, "remembered past the session's lifetime"
        time.sleep(0.01)

    callers.forget_user(users[2])
    assert callers.user(users[2]) is None and not callers.session_alive(sessions[2], users[2])
