"""``gateway.json_provider``: the gateway's bodies are byte for byte what Flask's own provider
(keys unsorted, UTF-8) writes, for every JSON type, for what JSON has no type for, for what
orjson refuses (an integer past 64 bits) and in debug mode; a number below 1e-4 is the same
number, spelled without an exponent."""
import datetime as dt
import decimal
import uuid

import pytest
from flask import Flask, json, jsonify

from gateway.json_provider import OrjsonProvider

VALUES = [
    {"z": 1, "a": [1.5, -0.0, 1e16, 10**18, "杭州", None, True, False], "nested": {"k": {}}},
    {"text": 'quote " backslash \\ newline \n tab \t nul-free \u2028 emoji 🙂'},
    {"at": dt.datetime(2026, 12, 7, 13, 4, 5, tzinfo=dt.timezone.utc), "day": dt.date(2026, 1, 2),
     "amount": decimal.Decimal("12.50"), "id": uuid.UUID(int=5), 3: "an integer key"},
    {"custom_fields": {"account": 2**70}},
    [], "plain text", 42,
]


def flask_default() -> Flask:
    app = Flask("default")
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    return app


def ours() -> Flask:
    app = Flask("ours")
    app.json = OrjsonProvider(app)
    return app


@pytest.mark.parametrize("value", VALUES)
def test_a_body_is_what_flask_writes(value):
    bodies = []
    for app in (flask_default(), ours()):
        with app.app_context():
            response = jsonify(value)
            bodies.append((response.get_data(), response.mimetype, json.dumps(value)))
    assert bodies[0] == bodies[1]


def test_a_small_number_is_the_same_number():
    value = {"custom_fields": {"rate": 1e-05, "tiny": 1.5e-07, "least": 5e-324}}
    bodies = []
    for app in (flask_default(), ours()):
        with app.app_context():
            bodies.append(jsonify(value).get_data())
    assert json.loads(bodies[0]) == json.loads(bodies[1]) == value


def test_debug_mode_indents_as_flask_does():
    bodies = []
    for app in (flask_default(), ours()):
        app.debug = True
        with app.app_context():
            bodies.append(jsonify(VALUES[0]).get_data())
    assert bodies[0] == bodies[1] and b"\n  " in bodies[1]
