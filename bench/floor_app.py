"""The floor of ``bench/read_floor.py``: a bare Flask + SQLAlchemy app reading a customer by id,
and a page of the customers list (its count, the page newest first, the page's tags), from the
same database (the customers service's, its table and indexes as they are), with no gateway,
no RPC, no authentication and no access rule. What the CRM's read costs beyond this
is the price of its architecture; the ratio of the two, measured in one run, is the figure.

    FLOOR_DATABASE_URL=postgresql://... gunicorn --worker-class gthread --workers 2 \\
        --threads 8 --bind 127.0.0.1:8100 "bench.floor_app:create_app()"
"""
from __future__ import annotations

import os
import uuid

import sqlalchemy as sa
from flask import Flask, abort, jsonify, request

from common.db import create_db_engine


def create_app() -> Flask:
    app = Flask(__name__)
    engine = create_db_engine(os.environ["FLOOR_DATABASE_URL"])
    customer = sa.text(
        "SELECT id, name, type, industry, country, province, city, source, tier, status, "
        "owner_id, team_id, custom_fields, notes, version, created_at, updated_at "
        "FROM customers WHERE id = :id AND deleted_at IS NULL")
    tags = sa.text("SELECT tag FROM customer_tags WHERE customer_id = :id ORDER BY tag")
    columns = ("id, name, type, industry, country, province, city, source, tier, status, "
               "owner_id, team_id, custom_fields, notes, version, created_at, updated_at")
    count = sa.text("SELECT count(*) FROM customers WHERE deleted_at IS NULL")
    page = sa.text(f"SELECT {columns} FROM customers WHERE deleted_at IS NULL "
                   "ORDER BY created_at DESC, id LIMIT :limit OFFSET :offset")
    page_tags = sa.text("SELECT customer_id, tag FROM customer_tags WHERE customer_id IN :ids "
                        "ORDER BY tag").bindparams(sa.bindparam("ids", expanding=True))

    # The key as the table stores it: a UUID on PostgreSQL, 32 hex digits on SQLite.
    stored = (lambda text: uuid.UUID(text).hex) if engine.dialect.name == "sqlite" else str

    @app.get("/customers/<customer_id>")
    def get_customer(customer_id):
        customer_id = stored(customer_id)
        with engine.connect() as connection:
            row = connection.execute(customer, {"id": customer_id}).mappings().first()
            if row is None:
                abort(404)
            found = as_json(row)
            found["tags"] = connection.execute(tags, {"id": customer_id}).scalars().all()
        return jsonify(found)

    @app.get("/customers")
    def list_customers():
        number = request.args.get("page", 1, type=int)
        per_page = request.args.get("per_page", 50, type=int)
        with engine.connect() as connection:
            total = connection.execute(count).scalar()
            rows = connection.execute(page, {"limit": per_page,
                                             "offset": (number - 1) * per_page}).mappings().all()
            items = [as_json(row) for row in rows]
            by_id = {item["id"]: item for item in items}
            for item in items:
                item["tags"] = []
            if rows:
                for customer_id, tag in connection.execute(
                        page_tags, {"ids": [row["id"] for row in rows]}):
                    by_id[str(customer_id)]["tags"].append(tag)
        return jsonify({"items": items, "page": number, "per_page": per_page, "total": total})

    return app


def as_json(row) -> dict:
    return {key: value if isinstance(value, (str, int, dict, type(None))) else str(value)
            for key, value in row.items()}
