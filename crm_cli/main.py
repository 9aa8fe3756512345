"""The ``crm`` command: ``crm import`` and ``crm export`` over the public API.

    crm import customers.csv --entity customers [--dry-run] [--on-duplicate update]
    crm export --entity customers --format xlsx -o customers.xlsx [--filter city=Hangzhou]

Who and where: ``--url`` (``CRM_URL``, default http://localhost:8000) and one of ``--token``
(``CRM_TOKEN``), ``--api-key`` (``CRM_API_KEY``) or ``--username`` (``CRM_USERNAME``) with
``--password`` (``CRM_PASSWORD``; asked for on a terminal when missing). Progress goes to
stderr (when it is a terminal), results to stdout. Exit status: 0 done, 1 an import with
failed rows or a failed job, 2 refused or unreachable, 3 still running at the deadline.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import getpass
import http.client
import os
import re
import secrets
import sys
import time
import urllib.error
from pathlib import Path

from crm_cli.client import ApiError, Client

ENTITIES = ("customers", "leads")
FINISHED = ("succeeded", "failed")
BUSY = (502, 503, 504)
UPLOAD_TRIES = 4
COUNTS = ("total", "created", "updated", "skipped", "failed")
ERRORS_SHOWN = 20
CELL_WIDTH = 40
DONE, FAILED_ROWS, REFUSED, STILL_RUNNING = 0, 1, 2, 3


class Progress:
    """One line on stderr redrawn in place, at most ten times a second; silent when stderr
    is not a terminal (a log file gets the summary only)."""

    WIDTH = 30

    def __init__(self, label: str):
        self.label, self.started, self.drawn = label, time.monotonic(), 0.0
        self.live = sys.stderr.isatty()

    def show(self, done: float, total: float | None = None, text: str = "",
             force: bool = False) -> None:
        now = time.monotonic()
        if not self.live or (not force and now - self.drawn < 0.1):
            return
        self.drawn = now
        if total:
            filled = int(self.WIDTH * min(done / total, 1))
            bar = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {100 * done / total:3.0f}% "
        else:
            bar = ""
        sys.stderr.write(f"\r{self.label} {bar}{text}\x1b[K")
        sys.stderr.flush()

    def close(self) -> None:
        if self.live:
            sys.stderr.write("\n")


def megabytes(size: float) -> str:
    return f"{size / 1e6:,.1f} MB"


def table(headers: list[str], rows: list[list]) -> str:
    """Rows under headers in aligned columns; long cells cut to :data:`CELL_WIDTH`."""
    cells = [[str(value) if value is not None else "" for value in row] for row in rows]
    cells = [[value if len(value) <= CELL_WIDTH else value[:CELL_WIDTH - 1] + "…"
              for value in row] for row in cells]
    widths = [max(len(str(row[index])) for row in [headers, *cells])
              for index in range(len(headers))]
    return "\n".join("  ".join(str(value).ljust(width) for value, width in zip(row, widths))
                     .rstrip() for row in [headers, *cells])


# -- crm import ------------------------------------------------------------------------------
def run_import(client: Client, args) -> int:
    file = Path(args.file)
    if not file.is_file():
        raise SystemExit(f"crm: no file {file}")
    job = submit(client, file, {
        "entity": args.entity, "on_duplicate": args.on_duplicate,
        "dry_run": str(args.dry_run).lower(), "atomic": str(not args.no_atomic).lower(),
    })
    job = wait_for(client, job, time.monotonic() + args.wait)
    print(summary(job))
    if job["status"] not in FINISHED:
        print(f"still {job['status']} after {args.wait:g} s: "
              f"GET /api/v1/imports/{job['id']} tells how it ends", file=sys.stderr)
        return STILL_RUNNING
    if args.errors and job["counts"]["failed"]:
        save_errors(client, job, Path(args.errors))
    return DONE if job["status"] == "succeeded" and not job["counts"]["failed"] else FAILED_ROWS


def submit(client: Client, file: Path, fields: dict) -> dict:
    """The job of ``file`` uploaded to ``POST /imports``. An answer that leaves the outcome
    unknown (502, 503, 504: the broker or a service was away) is met by sending the file
    again under the same idempotency key, which makes no second job."""
    key = f"crm-import-{secrets.token_hex(16)}"
    for attempt in range(UPLOAD_TRIES):
        progress = Progress("upload")
        try:
            return client.upload("/imports", fields, file,
                                 lambda sent, size: progress.show(sent, size, megabytes(sent)),
                                 idempotency_key=key)
        except ApiError as error:
            if error.status not in BUSY or attempt == UPLOAD_TRIES - 1:
                raise
            print(f"crm: {error.status} {error.problem.get('title', '')}; sending again "
                  "under the same idempotency key", file=sys.stderr)
            time.sleep(2 ** attempt)
        finally:
            progress.close()


def wait_for(client: Client, job: dict, deadline: float) -> dict:
    """The job once finished (or as it is at the deadline), polled with a growing pause; a
    poll the server is too busy to answer (502, 503, 504) is asked again."""
    progress, pause, busy = Progress("import"), 0.2, ""
    while job["status"] not in FINISHED and time.monotonic() < deadline:
        counts = job.get("counts") or {}
        done = sum(counts.get(name, 0) for name in COUNTS[1:])
        progress.show(done, counts.get("total"), f"{done:,}/{counts.get('total', 0):,} rows "
                      f"{job['status']}{busy}", force=True)
        time.sleep(min(pause, max(deadline - time.monotonic(), 0)))
        pause = min(pause * 1.5, 2.0)
        try:
            job, busy = client.call("GET", f"/imports/{job['id']}"), ""
        except ApiError as error:
            if error.status not in BUSY:
                raise
            busy = f" (server busy: {error.status})"
    progress.close()
    return job


def summary(job: dict) -> str:
    counts = job.get("counts") or {}
    mode = " (dry run: nothing stored)" if job.get("dry_run") else ""
    lines = [f"import {job['id']} of {job.get('entity', '')}: {job['status']}{mode}", "",
             table(["rows", ""], [[name, f"{counts.get(name, 0):,}"] for name in COUNTS])]
    errors = job.get("errors") or []
    if errors:
        lines += ["", table(["row", "column", "value", "message"],
                            [[error.get("row"), error.get("column"), error.get("value"),
                              error.get("message")] for error in errors[:ERRORS_SHOWN]])]
        if len(errors) > ERRORS_SHOWN or counts.get("failed", 0) > ERRORS_SHOWN:
            lines.append(f"... the first {ERRORS_SHOWN} errors; every failed row: --errors "
                         f"FILE, or GET /api/v1/imports/{job['id']}/errors.csv")
    return "\n".join(lines)


def save_errors(client: Client, job: dict, target: Path) -> None:
    with client.open("GET", f"/imports/{job['id']}/errors.csv") as response:
        target.write_bytes(response.read())
    print(f"failed rows, with an error column, written to {target}")


# -- crm export ------------------------------------------------------------------------------
def run_export(client: Client, args) -> int:
    params = dict(args.filter or [])
    params["format"] = args.format
    progress = Progress("export")
    with client.open("GET", f"/{args.entity}/export", params=params) as response:
        target = Path(args.output or attachment_name(response) or f"{args.entity}.{args.format}")
        partial = target.with_name(f".{target.name}.part")
        size = int(response.headers.get("Content-Length") or 0) or None
        received = 0
        try:
            with partial.open("wb") as out:
                while chunk := response.read1(64 * 1024):
                    out.write(chunk)
                    received += len(chunk)
                    rate = received / max(time.monotonic() - progress.started, 1e-6)
                    progress.show(received, size, f"{megabytes(received)} "
                                                  f"{megabytes(rate)}/s")
        except http.client.IncompleteRead:
            partial.unlink(missing_ok=True)
            print("crm: the download was cut off (the server failed part way); nothing was "
                  "written", file=sys.stderr)
            return REFUSED
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    progress.close()
    os.replace(partial, target)
    seconds = time.monotonic() - progress.started
    rows = f"{count_csv_rows(target):,} {args.entity}, " if args.format == "csv" else ""
    print(f"{rows}{megabytes(received)} written to {target} in {seconds:.1f} s")
    return DONE


def attachment_name(response) -> str | None:
    match = re.search(r'filename="([^"/\\]+)"', response.headers.get("Content-Disposition", ""))
    return match.group(1) if match else None


def count_csv_rows(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return max(sum(1 for _ in csv.reader(file)) - 1, 0)


# -- the command -----------------------------------------------------------------------------
def key_value(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r}: use FIELD=VALUE, e.g. city=Hangzhou")
    return name, value


def parser() -> argparse.ArgumentParser:
    env = os.environ.get
    root = argparse.ArgumentParser(
        prog="crm", description="Import and export customers and leads through the CRM's "
        "HTTP API.", epilog="Exit status: 0 done; 1 an import with failed rows or a failed job; "
        "2 refused or unreachable; 3 still running at the deadline (--wait).")
    root.add_argument("--url", default=env("CRM_URL", "http://localhost:8000"),
                      help="the gateway (CRM_URL; default http://localhost:8000)")
    root.add_argument("--token", default=env("CRM_TOKEN"), help="an access token (CRM_TOKEN)")
    root.add_argument("--api-key", default=env("CRM_API_KEY"), help="an API key (CRM_API_KEY)")
    root.add_argument("-u", "--username", default=env("CRM_USERNAME"),
                      help="sign in as this user (CRM_USERNAME)")
    root.add_argument("--password", default=env("CRM_PASSWORD"),
                      help="the user's password (CRM_PASSWORD; asked for when missing)")
    root.add_argument("--language", default=env("CRM_LANGUAGE"),
                      help="language of messages: en or zh-CN (CRM_LANGUAGE)")
    root.add_argument("--timeout", type=float, default=300,
                      help="seconds to wait for the server to answer a request (default 300)")
    commands = root.add_subparsers(dest="command", required=True)

    importing = commands.add_parser("import", help="import a CSV or XLSX file")
    importing.add_argument("file")
    importing.add_argument("--entity", choices=ENTITIES, required=True)
    importing.add_argument("--on-duplicate", choices=("skip", "update", "create"),
                           default="skip", help="a row matching a stored record (default skip)")
    importing.add_argument("--dry-run", action="store_true",
                           help="report what would happen, store nothing")
    importing.add_argument("--no-atomic", action="store_true",
                           help="store the valid rows even when others fail")
    importing.add_argument("--wait", type=float, default=3600,
                           help="seconds to wait for the job to finish (default 3600)")
    importing.add_argument("--errors", metavar="FILE",
                           help="write the failed rows, with an error column, to FILE")
    importing.set_defaults(run=run_import)

    exporting = commands.add_parser("export", help="export to a CSV or XLSX file")
    exporting.add_argument("--entity", choices=ENTITIES, required=True)
    exporting.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    exporting.add_argument("-o", "--output", metavar="FILE",
                           help="default: the server's file name, in this directory")
    exporting.add_argument("--filter", type=key_value, action="append", metavar="FIELD=VALUE",
                           help="a filter of the list, e.g. city=Hangzhou (repeatable)")
    exporting.set_defaults(run=run_export)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.username and not (args.password or args.token or args.api_key):
        args.password = getpass.getpass(f"password of {args.username}: ")
    if not (args.username or args.token or args.api_key):
        print("crm: say who you are: --username (CRM_USERNAME), --token (CRM_TOKEN) or "
              "--api-key (CRM_API_KEY)", file=sys.stderr)
        return REFUSED
    client = Client(args.url, token=args.token, api_key=args.api_key, username=args.username,
                    password=args.password, language=args.language, timeout=args.timeout)
    try:
        client.sign_in()
        try:
            return args.run(client, args)
        finally:
            with contextlib.suppress(ApiError, OSError):  # the answer stands without it
                client.sign_out()
    except ApiError as error:
        print(f"crm: {error}", file=sys.stderr)
        return REFUSED
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        print(f"crm: {args.url}: {error}", file=sys.stderr)
        return REFUSED
    except KeyboardInterrupt:
        return 130
