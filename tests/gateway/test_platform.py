"""What every response shares: problem+json errors, request ids, languages, docs, probes."""
from __future__ import annotations

import re

import pytest

from common import errors as common_errors
from gateway import errors as gateway_errors
from gateway import i18n
from gateway.errors import HTTP_STATUS_CODES
from tests.gateway.helpers import assert_problem


def test_404_and_405_are_problems(client):
    assert_problem(client.get("/api/v1/nothing-here"), 404, "not_found")
    response = client.delete("/healthz")
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_problems_follow_accept_language(client):
    body = client.get("/nope", headers={"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.5"}).get_json()
    assert body["title"] == "未找到"
    body = client.get("/nope", headers={"Accept-Language": "fr, en;q=0.5"}).get_json()
    assert body["title"] == "Not found"


def test_too_large_body_is_413(client):
    response = client.post("/api/v1/auth/login", data=b"x" * (10 * 1024 * 1024 + 1),
                           content_type="application/json")
    assert_problem(response, 413, "payload_too_large")


def test_unexpected_error_is_a_500_problem_without_trace(make_app):
    app = make_app({"TESTING": False})

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    body = assert_problem(response, 500, "internal_error")
    assert "secret internals" not in response.get_data(as_text=True) and body["errors"] == {}


def test_request_id_is_echoed_or_made(client):
    assert client.get("/healthz", headers={"X-Request-Id": "abc.DEF-123_x"}).headers["X-Request-Id"] == "abc.DEF-123_x"
    for bad in ("has space", "x" * 65, "<script>"):
        made = client.get("/nope", headers={"X-Request-Id": bad})
        assert made.headers["X-Request-Id"] != bad
        assert made.get_json()["request_id"] == made.headers["X-Request-Id"]


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_names_a_missing_service(make_app):
    app = make_app({"CRM_SERVICES": ["no_such_service"], "PING_TIMEOUT": 1})
    response = app.test_client().get("/readyz")
    body = assert_problem(response, 503, "service_unavailable")
    assert "no_such_service" in body["detail"]
    assert body["checks"]["database"] == "ok" and body["checks"]["no_such_service"] != "ok"


def test_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["info"] == {"title": "CRM API", "version": "v1"} and spec["openapi"] == "3.0.3"
    for path in ("/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout", "/api/v1/me",
                 "/api/v1/users", "/api/v1/users/{user_id}", "/api/v1/teams", "/api/v1/teams/{team_id}"):
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert spec["paths"]["/api/v1/users"]["get"]["security"] == [{"bearerAuth": []}, {"apiKey": []}]
    assert "422" not in str(spec["paths"])


def test_docs_page_loads_everything_from_the_gateway_and_runs_no_inline_script(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html  # no CDN
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="' in attributes and not body.strip()
                           for attributes, body in scripts)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) == 3  # the stylesheet, the bundle, the start script
    for asset in assets:
        answer = client.get(asset)
        assert answer.status_code == 200, asset
        assert answer.content_length > 100


def test_every_answer_carries_the_security_headers(client):
    for answer in (client.get("/api/v1/docs"), client.get("/healthz"),
                   client.get("/api/v1/nothing-here")):
        policy = answer.headers["Content-Security-Policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "english, chinese",
    [
        ("Longer than maximum length 64.", "长度不能超过 64。"),
        ("Length must be between 3 and 64.", "长度必须在 3 到 64 之间。"),
        ("Must be greater than or equal to 1 and less than or equal to 200.", "必须大于等于 1 且小于等于 200。"),
        ("Not a valid aware datetime.", "不是有效的带时区日期时间。"),
        ("Something only a service says.", "Something only a service says."),
    ],
)
def test_messages_are_translated(english, chinese):
    assert i18n.translate(english, i18n.CHINESE) == chinese
    assert i18n.translate(english, i18n.ENGLISH) == english


def test_every_problem_code_has_both_languages():
    classes = [*vars(common_errors).values(), *vars(gateway_errors).values()]
    codes = {cls.code for cls in classes
             if isinstance(cls, type) and issubclass(cls, common_errors.CrmError)} - {"error"}
    codes |= set(HTTP_STATUS_CODES.values()) | {"internal_error"}
    for code in codes:
        english = i18n.PROBLEMS[code]
        assert i18n.problem_text(code, i18n.ENGLISH) == english, code
        chinese = i18n.problem_text(code, i18n.CHINESE)
        assert all(text != original for text, original in zip(chinese, english)), code


def test_no_view_or_hook_is_a_coroutine(app):
    """The gateway runs each as it is (``Gateway.ensure_sync``): an async one would answer a
    coroutine. Views are looked at through their decorators and, for a class-based view
    (flask-smorest's ``MethodView``), method by method."""
    import inspect

    functions = []
    for view in app.view_functions.values():
        view_class = getattr(view, "view_class", None)
        if view_class is not None:
            functions += [getattr(view_class, method.lower())
                          for method in getattr(view_class, "methods", None) or ()
                          if hasattr(view_class, method.lower())]
        functions.append(view)
    for hooks in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs,
                  app.url_value_preprocessors, app.url_default_functions,
                  app.template_context_processors):
        functions += [function for chain in hooks.values() for function in chain]
    functions += app.teardown_appcontext_funcs
    functions += [handler for by_code in app.error_handler_spec.values()
                  for by_class in by_code.values() for handler in by_class.values()]
    assert len(functions) > 50
    unwrapped = [inspect.unwrap(function) for function in functions]
    assert not [function for function in unwrapped if inspect.iscoroutinefunction(function)]


def test_flask_session_is_never_opened(app):
    """No answer sets Flask's session cookie, and a write to the session raises."""
    import flask

    with app.test_request_context("/"):
        app.preprocess_request()
        assert not flask.session
        with pytest.raises(RuntimeError, match="not used by the gateway"):
            flask.session["user"] = "sam"
    response = app.test_client().get("/healthz")
    assert "Set-Cookie" not in response.headers
