"""Liveness and readiness probes, at the root (outside ``/api/v1``) where orchestrators look."""
from __future__ import annotations

import functools

import sqlalchemy as sa
from flask import current_app
from flask_smorest import Blueprint
from kombu import Connection
from marshmallow import Schema, fields

from common import config
from common.errors import CrmError
from gateway.database import session
from gateway.errors import problem
from gateway.rpc import ping

blp = Blueprint("ops", __name__, description="Health and readiness")

BROKER_TIMEOUT = 2


class HealthSchema(Schema):
    status = fields.String(metadata={"example": "ok"})


class ReadinessSchema(HealthSchema):
    checks = fields.Dict(keys=fields.String(), values=fields.String())


def _database() -> None:
    session().execute(sa.text("SELECT 1"))


def _broker() -> None:
    with Connection(config.amqp_uri(), connect_timeout=BROKER_TIMEOUT) as connection:
        connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)


def _outcome(check) -> str:
    try:
        check()
    except CrmError as exc:
        return exc.code
    except Exception as exc:  # a probe reports any failure; it never raises
        return type(exc).__name__
    return "ok"


@blp.route("/healthz")
@blp.response(200, HealthSchema)
def healthz():
    """The process is up"""
    return {"status": "ok"}


@blp.route("/readyz")
@blp.response(200, ReadinessSchema)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def readyz():
    """The identity database, the broker and every service answer"""
    timeout = current_app.config["PING_TIMEOUT"]
    checks = {"database": _database, "broker": _broker} | {
        service: functools.partial(ping, service, timeout)
        for service in current_app.config["CRM_SERVICES"]
    }
    results = {name: _outcome(check) for name, check in checks.items()}
    failed = [name for name, outcome in results.items() if outcome != "ok"]
    if failed:
        return problem(
            503, "service_unavailable", f"Not ready: {', '.join(failed)}.", extra={"checks": results}
        )
    return {"status": "ok", "checks": results}
