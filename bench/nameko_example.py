"""The second reference of ``read_floor.py``: a read by id built the way nameko's example
application builds it (github.com/nameko/nameko-examples: an HTTP gateway service calling a
products service by RPC, products kept in Redis, no auth).

Both services are plain nameko with its defaults: the ``@http`` entrypoint, ``RpcProxy``
(a publisher confirm per request and per reply), a Redis dependency, a marshmallow schema
on each side. The issue's target for our ``GET /customers/{id}`` is 1.2× this app's req/s in
the same run.

    nameko run --config FILE bench.nameko_example:ExampleGateway bench.nameko_example:ExampleProducts

with ``AMQP_URI``, ``REDIS_URI``, ``WEB_SERVER_ADDRESS`` and ``PRODUCTS_PREFIX`` (the Redis key
prefix of this run's products) in FILE. :func:`seed` stores the products.
"""
from __future__ import annotations

import json

import redis
from marshmallow import Schema, fields
from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy, rpc
from nameko.web.handlers import http
from werkzeug import Response


class Product(Schema):
    id = fields.Str(required=True)
    title = fields.Str(required=True)
    passenger_capacity = fields.Int(required=True)
    maximum_speed = fields.Int(required=True)
    in_stock = fields.Int(required=True)


class ProductNotFound(Exception):
    pass


class Products(DependencyProvider):
    """The products in Redis, one hash per product under the configured prefix."""

    def setup(self):
        self.client = redis.Redis.from_url(self.container.config["REDIS_URI"])
        self.prefix = self.container.config["PRODUCTS_PREFIX"]

    def get_dependency(self, worker_ctx):
        return self

    def get(self, product_id: str) -> dict:
        stored = self.client.hgetall(f"{self.prefix}{product_id}")
        if not stored:
            raise ProductNotFound(product_id)
        return {"id": stored[b"id"].decode(), "title": stored[b"title"].decode(),
                **{name: int(stored[name.encode()])
                   for name in ("passenger_capacity", "maximum_speed", "in_stock")}}


class ExampleProducts:
    name = "example_products"
    products = Products()

    @rpc
    def get(self, product_id):
        return Product().dump(self.products.get(product_id))


class ExampleGateway:
    name = "example_gateway"
    products_rpc = RpcProxy("example_products")

    @http("GET", "/products/<string:product_id>")
    def get_product(self, request, product_id):
        product = self.products_rpc.get(product_id)
        return Response(json.dumps(Product().dump(product)), mimetype="application/json")


SEED_LIFETIME = 3600  # seconds; the products go by themselves should a run not remove them


def seed(redis_uri: str, prefix: str, ids: list[str]) -> None:
    client = redis.Redis.from_url(redis_uri)
    for number, product_id in enumerate(ids):
        client.hset(f"{prefix}{product_id}", mapping={
            "id": product_id, "title": f"Product {number}", "passenger_capacity": 101,
            "maximum_speed": 5, "in_stock": 10})
        client.expire(f"{prefix}{product_id}", SEED_LIFETIME)


def forget(redis_uri: str, prefix: str) -> None:
    client = redis.Redis.from_url(redis_uri)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
