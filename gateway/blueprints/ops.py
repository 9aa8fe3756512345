"""Liveness and readiness probes and metrics, at the root (outside ``/api/v1``) where
orchestrators and Prometheus look."""
from __future__ import annotations

import functools

import sqlalchemy as sa
from flask import Response, current_app
from flask_smorest import Blueprint
from kombu import Connection
from marshmallow import Schema, fields

from common import config
from common.errors import CrmError
from gateway.database import session
from gateway.errors import problem
from gateway.metrics import gateway_exposition, services_exposition
from gateway.rpc import ping, system_call

blp = Blueprint("ops", __name__, description="Health and readiness")

BROKER_TIMEOUT = 2


class HealthSchema(Schema):
    status = fields.String(metadata={"example": "ok"})


class ReadinessSchema(HealthSchema):
    checks = fields.Dict(keys=fields.String(), values=fields.String())


def _database() -> None:
    session().execute(sa.text("SELECT 1"))


def _broker() -> None:
    with Connection(config.amqp_uri(), ssl=config.amqp_ssl(),
                    connect_timeout=BROKER_TIMEOUT) as connection:
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


@blp.route("/metrics")
@blp.doc(responses={200: {"description": "Prometheus text format",
                          "content": {"text/plain": {"schema": {"type": "string"}}}}})
def metrics():
    """Request counts and durations, each service's outbox backlog and parked events, and
    reminder lateness (crm_reminder_lateness_seconds)"""
    timeout = current_app.config["PING_TIMEOUT"]
    reports = {}
    for service in current_app.config["CRM_SERVICES"]:
        try:
            reports[service] = system_call(service, "metrics", timeout)
        except Exception:  # noqa: BLE001 - a silent service is reported as down, not an error
            reports[service] = None
    body = gateway_exposition() + services_exposition(reports)
    return Response(body, mimetype="text/plain; version=0.0.4")
