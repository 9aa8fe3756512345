"""The product catalogue and the pipeline's stages."""
from __future__ import annotations

import sqlalchemy as sa

from common.errors import Conflict, ValidationError
from common.listing import order_by, paginate, where_equal
from common.records import found, locked_row, update
from common.uow import UnitOfWork
from common.validation import load
from services.sales import access
from services.sales import schemas as s
from services.sales.events import emit_deal
from services.sales.models import Counter, Deal, Product, Stage

product_out = s.ProductSchema()
stage_out = s.StageSchema()


# -- products --------------------------------------------------------------------------------
def product(uow: UnitOfWork, product_id) -> Product:
    return found(uow.session, Product, product_id, "product")


def _sku_taken(uow: UnitOfWork, sku: str, product_id=None) -> None:
    query = sa.select(Product.id).where(sa.func.lower(Product.sku) == sku.lower())
    if product_id is not None:
        query = query.where(Product.id != product_id)
    if uow.session.scalar(query) is not None:
        raise Conflict("A product with this SKU already exists.", {"sku": ["Already taken."]})


def create_product(uow: UnitOfWork, payload) -> dict:
    access.require_catalogue_write(uow.actor)
    data = load(s.ProductCreateSchema, payload)
    data["name"] = data["name"].strip()
    _sku_taken(uow, data["sku"])
    item = Product(**data)
    uow.session.add(item)
    uow.session.flush()
    after = product_out.dump(item)
    uow.emit("product.created", item.id, item.version, after)
    uow.commit()
    return after


def get_product(uow: UnitOfWork, product_id) -> dict:
    return product_out.dump(product(uow, product_id))


def list_products(uow: UnitOfWork, query_args) -> dict:
    args = load(s.ProductListQuerySchema, query_args)
    query = sa.select(Product)
    query = where_equal(query, Product, args, ("category", "active"))
    if "q" in args:
        needle = args["q"].strip().casefold()
        query = query.where(sa.or_(sa.func.lower(Product.sku).contains(needle, autoescape=True),
                                   sa.func.lower(Product.name).contains(needle, autoescape=True)))
    query = query.order_by(*order_by(Product, args["sort"], s.PRODUCT_SORT_FIELDS))
    return paginate(uow.session, query, args, dump=product_out.dump)


def update_product(uow: UnitOfWork, product_id, payload) -> dict:
    access.require_catalogue_write(uow.actor)
    data = load(s.ProductUpdateSchema, payload)
    item = product(uow, product_id)

    def apply():
        if "sku" in data:
            _sku_taken(uow, data["sku"], item.id)
        for field, value in data.items():
            if field != "version":
                setattr(item, field, value.strip() if field == "name" else value)

    change = update(uow, item, data["version"], product_out.dump, apply)
    if change is None:
        return product_out.dump(item)
    uow.emit("product.updated", item.id, item.version, change.after)
    uow.commit()
    return change.after


# -- pipeline --------------------------------------------------------------------------------
def stages(session) -> list[Stage]:
    """The stages in order (the migration writes the defaults)."""
    return session.scalars(sa.select(Stage).order_by(Stage.position)).all()


def stage(session, key: str) -> Stage:
    for item in stages(session):
        if item.key == key:
            return item
    known = ", ".join(item.key for item in stages(session))
    raise ValidationError("Invalid input.", {"stage": [f"Unknown stage {key}; use one of: {known}."]})


PIPELINE_COUNTER = "pipeline"


def get_pipeline(uow: UnitOfWork) -> dict:
    counter = uow.session.get(Counter, PIPELINE_COUNTER)
    return {"stages": [stage_out.dump(item) for item in stages(uow.session)],
            "version": counter.value if counter else 0}


def _publish_pipeline(uow: UnitOfWork, counter: Counter) -> None:
    """A new version of the pipeline and its ``pipeline.updated`` event."""
    counter.value += 1
    uow.session.flush()
    uow.emit("pipeline.updated", PIPELINE_COUNTER, counter.value, get_pipeline(uow))


def announce_pipeline(uow: UnitOfWork) -> None:
    """Publish the pipeline once if it never was (the default one the migration wrote), so
    consumers know the stages before any admin changes them."""
    counter = locked_row(uow.session, Counter, PIPELINE_COUNTER, value=0)
    if counter.value == 0:
        _publish_pipeline(uow, counter)
    uow.commit()


def set_pipeline(uow: UnitOfWork, payload) -> dict:
    """Replace the stages. A stage some deal is in cannot go; open deals in a stage whose
    probability changed take the new one (and say so with ``deal.updated``)."""
    access.require_admin(uow.actor)
    data = load(s.PipelineSchema, payload)
    wanted = {item["key"]: item for item in data["stages"]}
    current = {item.key: item for item in stages(uow.session)}
    removed = sorted(set(current) - set(wanted))
    in_use = uow.session.scalars(
        sa.select(Deal.stage).where(Deal.stage.in_(removed)).distinct()).all() if removed else []
    if in_use:
        raise Conflict(f"Stages in use by deals cannot be removed: {', '.join(sorted(in_use))}.")
    for key in removed:
        uow.session.delete(current[key])
    changed = []
    for position, item in enumerate(data["stages"]):
        row = current.get(item["key"])
        if row is None:
            uow.session.add(Stage(position=position, **item))
            continue
        if row.probability != item["probability"]:
            changed.append(row.key)
        row.name, row.probability, row.position = item["name"], item["probability"], position
    uow.session.flush()
    if changed:
        deals = uow.session.scalars(
            sa.select(Deal).where(Deal.stage.in_(changed), Deal.status == "open")).all()
        for deal in deals:
            deal.probability = wanted[deal.stage]["probability"]
            uow.session.flush()
            emit_deal(uow, "deal.updated", deal)
    _publish_pipeline(uow, locked_row(uow.session, Counter, PIPELINE_COUNTER, value=0))
    uow.commit()
    return get_pipeline(uow)
