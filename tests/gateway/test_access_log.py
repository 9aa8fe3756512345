"""gateway.access_log: the line gunicorn's logger would write, for any format, written whole
from many threads (long lines on a pipe too), and to the new file after a rotation."""
from __future__ import annotations

import datetime as dt
import os
import threading
import time
import types

import pytest
from gunicorn import glogging
from gunicorn.config import Config

from gateway.access_log import AccessLog

DEPLOYED = ('%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms '
            'rid=%({x-request-id}o)s')
EVERY_ATOM = ('%(h)s|%(l)s|%(u)s|%(t)s|%(r)s|%(s)s|%(m)s|%(U)s|%(q)s|%(H)s|%(b)s|%(B)s|%(f)s|'
              '%(a)s|%(T)s|%(D)s|%(M)s|%(L)s|%(p)s|%({Host}i)s|%({x-request-id}o)s|'
              '%({X-Twice}o)s|%({path_info}e)s|%({absent}i)s|%({absent}o)s|%(absent)s')


def a_request(user_agent='curl/8 "quoted"', basic_auth=False, request_id="rid-1",
              status="200 OK", sent=1234, seconds=0, microseconds=4567):
    headers = [("Host", "crm.example"), ("User-Agent", user_agent)]
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/api/v1/customers?q=%E6%9D%AD",
               "PATH_INFO": "/api/v1/customers", "QUERY_STRING": "q=%E6%9D%AD",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.7",
               "HTTP_USER_AGENT": user_agent, "HTTP_HOST": "crm.example"}
    if basic_auth:
        environ["HTTP_AUTHORIZATION"] = "Basic YWxpY2U6c2VjcmV0"  # alice:secret
    response_headers = [("Content-Type", "application/json"), ("X-Twice", "first"),
                        ("X-Twice", "second")]
    if request_id:
        response_headers.append(("X-Request-Id", request_id))
    resp = types.SimpleNamespace(status=status, sent=sent, headers=response_headers)
    req = types.SimpleNamespace(headers=headers)
    return resp, req, environ, dt.timedelta(seconds=seconds, microseconds=microseconds)


def logger(cls, path, access_log_format=DEPLOYED):
    cfg = Config()
    cfg.set("accesslog", str(path))
    cfg.set("access_log_format", access_log_format)
    return cls(cfg)


@pytest.fixture(autouse=True)
def same_clock(monkeypatch):
    monkeypatch.setattr(glogging.Logger, "now", lambda self: "[07/Dec/2026:16:00:00 +0000]")


@pytest.mark.parametrize("access_log_format", [DEPLOYED, glogging.Logger.access_fmt, EVERY_ATOM])
@pytest.mark.parametrize("request_args", [
    {}, {"basic_auth": True, "user_agent": "Mozilla/5.0 (X11)"}, {"request_id": None},
    {"status": "404 Not Found", "sent": None, "seconds": 2, "microseconds": 999999},
])
def test_the_line_is_gunicorns(tmp_path, access_log_format, request_args):
    ours = logger(AccessLog, tmp_path / "ours.log", access_log_format)
    theirs = logger(glogging.Logger, tmp_path / "theirs.log", access_log_format)
    ours.access(*a_request(**request_args))
    theirs.access(*a_request(**request_args))
    for handler in theirs.access_log.handlers:
        handler.flush()
    written = (tmp_path / "ours.log").read_text()
    assert written == (tmp_path / "theirs.log").read_text()
    assert written.count("\n") == 1 and written.endswith("\n")


def test_lines_from_many_threads_stay_whole(tmp_path):
    ours = logger(AccessLog, tmp_path / "access.log")
    expected = {}

    def answer(thread: int):
        for number in range(300):
            request_id = f"t{thread}-{number}-" + "x" * 200
            ours.access(*a_request(request_id=request_id))
            expected[request_id] = True

    threads = [threading.Thread(target=answer, args=(thread,)) for thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = (tmp_path / "access.log").read_text().splitlines()
    assert len(lines) == 8 * 300
    assert {line.rsplit("rid=", 1)[1] for line in lines} == set(expected)
    assert all(line.startswith('10.0.0.7 - - [07/Dec/2026') for line in lines)


def test_a_rotated_file_is_written_again_by_its_name(tmp_path):
    path = tmp_path / "access.log"
    ours = logger(AccessLog, path)
    ours.access(*a_request(request_id="before"))
    path.rename(tmp_path / "access.log.1")
    ours.access(*a_request(request_id="still-old"))  # until SIGUSR1 reopens the files
    ours.reopen_files()
    ours.access(*a_request(request_id="after"))
    assert [line.rsplit("=", 1)[1] for line in (tmp_path / "access.log.1").read_text().splitlines()] \
        == ["before", "still-old"]
    assert path.read_text().rsplit("=", 1)[1] == "after\n"


def test_no_access_log_writes_nothing(tmp_path, capfd):
    cfg = Config()
    ours = AccessLog(cfg)  # accesslog unset: gunicorn's default, no access lines
    ours.access(*a_request())
    assert capfd.readouterr().out == ""


def test_long_lines_on_a_pipe_stay_whole(monkeypatch):
    """Standard output in a container is a pipe, which takes a write of more than PIPE_BUF
    bytes in parts: such lines (a long list URL) are written one at a time."""
    reader, writer = os.pipe()
    monkeypatch.setattr(os, "write", _slow_write(os.write))
    ours = AccessLog(Config())
    ours.cfg.set("access_log_format", DEPLOYED)
    ours._fd = writer  # as setup() takes fd 1 for "-"
    received = bytearray()
    draining = threading.Thread(target=_drain, args=(reader, received))
    draining.start()
    threads = [threading.Thread(target=lambda thread=thread: [
        ours.access(*a_request(request_id=f"{thread}-{number}-" + str(thread) * 6000))
        for number in range(20)]) for thread in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    os.close(writer)
    draining.join()
    lines = received.decode().splitlines()
    assert len(lines) == 6 * 20
    for line in lines:
        request_id = line.rsplit("rid=", 1)[1]
        thread = request_id.split("-", 1)[0]
        assert request_id.endswith(thread * 6000)


def _slow_write(write):
    """``os.write`` taking at most 1,000 bytes a call and yielding between calls, as a pipe
    full of another's bytes does."""
    def partial(fd, data):
        time.sleep(0)
        return write(fd, data[:1000])
    return partial


def _drain(reader, into: bytearray):
    while chunk := os.read(reader, 65536):
        into.extend(chunk)
    os.close(reader)
