"""``common.dumping.Dumper`` dumps what marshmallow's ``Schema.dump`` dumps: every field type
the output schemas use, renamed and defaulted fields, values that are None or missing, and
what it leaves to marshmallow (hooks, mappings, dotted attributes, computed fields)."""
import datetime as dt
import decimal
import uuid
from types import SimpleNamespace

import pytest
from marshmallow import Schema, fields, post_dump

from common.dumping import Dumper
from common.validation import UTCDateTimeField


class Inner(Schema):
    code = fields.String()


class Everything(Schema):
    id = fields.UUID()
    name = fields.String()
    count = fields.Integer()
    amount = fields.Decimal(as_string=True)
    ratio = fields.Float(allow_none=True)
    active = fields.Boolean()
    tags = fields.List(fields.String())
    custom_fields = fields.Dict()
    created_at = UTCDateTimeField()
    day = fields.Date(allow_none=True)
    renamed = fields.String(data_key="shown_as")
    sourced = fields.String(attribute="stored_as")
    defaulted = fields.String(dump_default="none given")
    inner = fields.Nested(Inner, allow_none=True)
    dotted = fields.String(attribute="inner.code")
    computed = fields.Method("compute")
    constant = fields.Constant("always")

    def compute(self, obj):
        return f"computed from {getattr(obj, 'name', None)}"


class WithHook(Schema):
    name = fields.String()

    @post_dump
    def upper(self, data, **kwargs):
        return {key: value.upper() for key, value in data.items()}


FULL = SimpleNamespace(
    id=uuid.uuid4(), name="杭州 客户", count=3, amount=decimal.Decimal("12.50"), ratio=0.25,
    active=True, tags=["a", "b"], custom_fields={"erp": "001", "n": 1},
    created_at=dt.datetime(2026, 12, 7, 8, 0, 1, 123456, tzinfo=dt.timezone.utc),
    day=dt.date(2026, 12, 7), renamed="r", stored_as="s", defaulted="given",
    inner=SimpleNamespace(code="x"))
NONES = SimpleNamespace(**{key: None for key in vars(FULL)})
SPARSE = SimpleNamespace(id=uuid.uuid4(), name="only a name")


@pytest.mark.parametrize("obj", [FULL, NONES, SPARSE, vars(FULL)],
                         ids=["full", "nones", "sparse", "mapping"])
def test_it_dumps_what_marshmallow_dumps(obj):
    schema = Everything()
    assert Dumper(schema).dump(obj) == schema.dump(obj)


def test_a_schema_with_hooks_is_dumped_by_marshmallow():
    assert Dumper(WithHook()).dump(SimpleNamespace(name="sam")) == {"name": "SAM"}


def test_only_and_exclude_are_kept():
    schema = Everything(only=("id", "name"))
    assert Dumper(schema).dump(FULL) == schema.dump(FULL) == {"id": str(FULL.id), "name": FULL.name}
