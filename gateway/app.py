"""The gateway's Flask application factory: the only HTTP entry of the CRM.

    gunicorn 'gateway.app:create_app()'
"""
from __future__ import annotations

from flask import Flask
from flask.sessions import NullSession, SessionInterface
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.middleware.proxy_fix import ProxyFix

from common import amqp_reads, config
from gateway import console, database, errors, metrics, outbox, request_context, translations
from gateway.auth import callers, ratelimit
from gateway.auth.access import API_KEY_HEADER, API_KEY_SCHEME, API_PREFIX, SECURITY_SCHEME
from gateway.blueprints import (api_keys, audit, auth, customers, notifications, ops, reports,
                                sales, teams, users)
from gateway.blueprints import imports
from gateway.json_provider import OrjsonProvider


# (blueprint, url_prefix): every resource of the API, in the order the docs list them.
BLUEPRINTS = [
    (ops.blp, None),
    (auth.blp, API_PREFIX),
    (users.blp, API_PREFIX),
    (teams.blp, API_PREFIX),
    (api_keys.blp, API_PREFIX),
    (audit.blp, API_PREFIX),
    (customers.blp, API_PREFIX),
    (sales.blp, API_PREFIX),
    (imports.blp, API_PREFIX),
    (notifications.blp, API_PREFIX),
    (reports.blp, API_PREFIX),
]


class _Unused(NullSession):
    """Flask's ``session`` in the gateway: empty; a write raises, saying why."""

    def _fail(self, *args, **kwargs):
        raise RuntimeError("Flask's session is not used by the gateway (gateway.app.NoSession); "
                           "a browser's session is gateway.auth.cookies.")

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail


class NoSession(SessionInterface):
    """Flask's ``session`` unopened: nothing of the gateway keeps state in Flask's signed cookie
    (a browser's refresh token has a cookie of its own, ``gateway.auth.cookies``). It stays
    empty, and writing to it raises."""

    null_session_class = _Unused

    def open_session(self, app, request):
        return self.make_null_session(app)

    def save_session(self, app, session, response):
        pass


class Gateway(Flask):
    """Flask without two costs of every request the gateway does not use: opening a signed-cookie
    session (a signer built per request), and asking of each view and hook (about a dozen a
    request) whether it is a coroutine: none is (tests/gateway/test_platform.py checks)."""

    session_interface = NoSession()

    def ensure_sync(self, func):
        return func


class CrmApi(Api):
    """flask-smorest's Api, documenting the problem+json body as the error schema, and the
    rate limits' 429 (``RATE_LIMITED``) with the headers that say when to come back."""

    ERROR_SCHEMA = errors.ProblemSchema

    def _register_responses(self):
        super()._register_responses()
        response = {**ratelimit.RESPONSE_DOC, "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
        self.spec.components.response(ratelimit.RESPONSE, response, lazy=True)


SWAGGER_UI = "swagger-ui-5.36.0"  # the vendored release's folder under gateway/static


def create_app(overrides: dict | None = None) -> Flask:
    for language in translations.LOCALES:  # a missing catalogue stops the start, not a request
        translations.catalogue(language)
    amqp_reads.install()  # the RPC client's replies in one recv, not ten
    app = Gateway(__name__)
    app.config.update(
        API_TITLE="CRM API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # Served by the gateway itself (gateway/static/<SWAGGER_UI>/VENDORED.md): no CDN.
        OPENAPI_SWAGGER_UI_URL=f"/static/{SWAGGER_UI}/",
        MAX_CONTENT_LENGTH=10 * 1024 * 1024,
        DATABASE_URL=config.database_url("gateway"),
        SECRET_KEY=config.secret_key(),
        CRM_SERVICES=config.services(),
        PING_TIMEOUT=2.0,
        RATE_LIMIT=config.rate_limit(),
        AUTH_CACHE_SECONDS=config.auth_cache_seconds(),
        REDIS_URL=config.redis_url(),
    )
    app.config.update(overrides or {})
    proxies = config.trusted_proxies()
    if proxies:
        # The client's address as the proxies saw it, for the rate limits and the logs.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    app.json = OrjsonProvider(app)

    api = CrmApi(
        app,
        spec_kwargs={
            "extra_plugins": [errors.ProblemJsonPlugin()],
            "components": {
                "securitySchemes": {
                    SECURITY_SCHEME: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                    API_KEY_SCHEME: {"type": "apiKey", "in": "header", "name": API_KEY_HEADER},
                }
            }
        },
    )
    errors.init_app(app)
    request_context.init_app(app)
    metrics.init_app(app)
    database.init_app(app)
    outbox.init_app(app)
    ratelimit.init_app(app)
    callers.init_app(app, app.config["AUTH_CACHE_SECONDS"])
    for blueprint, url_prefix in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix=url_prefix)
    app.register_blueprint(console.bp)  # the web console at /, outside the API document
    return app
