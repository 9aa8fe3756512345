"""The events this service consumes (:data:`EVENTS`, from the contract's list) and what each
asks for.

``common.service.consumes`` turns :data:`EVENTS` into the service's idempotent handlers (one
durable queue each, ``on_<type>``), so this list is also what the broker topology declares.
Every event is then handed to the webhooks subscribed to its type. The gateway's ``user.*``
events update the directory of people (``common.directory``: email, language, time zone and
whether the user is active, for sending); its ``team.*`` events only that (no webhook may
subscribe to them). The other services' events plan reminders (``planning``) or change those
already planned about an entity (``lifecycle``); an entity's event is applied only when it is
newer than the one held (``tracking``), so out-of-order delivery never goes backwards.
"""
from __future__ import annotations

import datetime as dt

from common import config, directory
from common.db import utcnow
from common.events import version_of
from common.uow import UnitOfWork
from services.notifications import lifecycle, tracking, webhooks
from services.notifications import schemas as s
from services.notifications.planning import Wanted, plan
from services.notifications.settings import settings_of
from services.notifications.templates import zone

CONTRACT_NOTICE_DAYS = (30, 7, 1)
CONTRACT_ENDED = ("terminated", "cancelled", "expired")


def parse_time(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def morning_of(day: dt.date, timezone: str) -> dt.datetime:
    """09:00 of ``day`` in the user's time zone, in UTC: when date-based reminders fire."""
    return dt.datetime.combine(day, dt.time(9, 0), tzinfo=zone(timezone)).astimezone(dt.timezone.utc)


# -- customers -------------------------------------------------------------------------------
def on_activity(uow: UnitOfWork, event: dict) -> None:
    data = event["data"]
    if data.get("deal_id") and data.get("occurred_at"):
        deal_activity(uow, data["deal_id"], parse_time(data["occurred_at"]))
    if tracking.newer(uow, "activity", event) is None:
        return
    wanted = []
    if data.get("next_follow_up_at") and data.get("owner_id"):
        due = parse_time(data["next_follow_up_at"])
        context = {"customer_name": data.get("customer_name") or "",
                   "customer_id": data.get("customer_id")}
        wanted.append(Wanted(f"follow_up:{data['id']}:{due.isoformat()}", due, context))
    plan(uow, kind="follow_up", source_id=data["id"], user_id=data.get("owner_id"),
         wanted=wanted, entity_type="customer", entity_id=data.get("customer_id"))
    customer = tracking.tracked(uow, "customer", data["customer_id"])
    if customer.state.get("deleted"):
        # Logged just before the customer went to the trash (its deletion handled first):
        # the follow-up is cancelled with the others, and comes back with them on restore.
        held = lifecycle.cancel_about(uow, "follow_up", "customer", data["customer_id"])
        customer.state = {**customer.state, "cancelled_follow_ups": [
            *customer.state.get("cancelled_follow_ups", []), *(str(r.id) for r in held)]}


def on_customer_deleted(uow: UnitOfWork, event: dict) -> None:
    """Cancel the customer's follow-ups, remembering which, so a restore brings them back;
    one logged while it is in the trash is planned cancelled the same way."""
    customer = tracking.newer(uow, "customer", event)
    if customer is None:
        return
    cancelled = lifecycle.cancel_about(uow, "follow_up", "customer", event["data"]["id"])
    customer.state = {**customer.state, "deleted": True,
                      "cancelled_follow_ups": [str(r.id) for r in cancelled]}


def on_customer_restored(uow: UnitOfWork, event: dict) -> None:
    customer = tracking.newer(uow, "customer", event)
    if customer is None:
        return
    lifecycle.reopen(uow, customer.state.get("cancelled_follow_ups", []))
    customer.state = {key: value for key, value in customer.state.items()
                      if key not in ("deleted", "cancelled_follow_ups")}


def on_customer_merged(uow: UnitOfWork, event: dict) -> None:
    """The pending reminders about the merged customer are about the kept one now. Its
    follow-ups moved with their activities (each re-planned by its ``activity.updated``), so
    the ones its trashing cancelled are no longer its own to bring back on a restore. Ordered
    by the merged customer's version, so a late merge never undoes a later one of the same
    customer (restored and merged again)."""
    data = event["data"]
    if tracking.newer(uow, "customer_merge", event, entity_id=data["from_id"],
                      version=data.get("from_version")) is None:
        return
    lifecycle.repoint_about(uow, "customer", data["from_id"], data["into_id"])
    merged = tracking.tracked(uow, "customer", data["from_id"])
    merged.state = {key: value for key, value in merged.state.items()
                    if key != "cancelled_follow_ups"}


def on_customer_updated(uow: UnitOfWork, event: dict) -> None:
    """A new owner takes over the customer's pending follow-ups."""
    data = event["data"]
    if tracking.newer(uow, "customer", event) is None:
        return
    if data.get("owner_id"):
        lifecycle.reassign_about(uow, "follow_up", "customer", data["id"], data["owner_id"])


# -- sales -----------------------------------------------------------------------------------
def on_lead_assigned(uow: UnitOfWork, event: dict) -> None:
    data = event["data"]
    if not data.get("owner_id") or tracking.newer(uow, "lead", event) is None:
        return
    key = f"lead_assigned:{data['id']}:{version_of(event) or event['id']}"
    context = {"name": data.get("name") or "", "company": data.get("company") or ""}
    plan(uow, kind="lead_assigned", source_id=data["id"], user_id=data["owner_id"],
         wanted=[Wanted(key, utcnow(), context)], entity_type="lead", entity_id=data["id"])


DEAL_FIELDS = ("title", "owner_id", "status", "amount", "currency", "expected_close_date",
               "customer_id")


def on_deal(uow: UnitOfWork, event: dict) -> None:
    data = event["data"]
    row = tracking.newer(uow, "deal", event)
    if row is None:
        return
    state = {**row.state, **{name: data.get(name) for name in DEAL_FIELDS}}
    state["stage_changed_at"] = (data.get("stage_changed_at") or row.state.get("stage_changed_at")
                                 or event["occurred_at"])
    row.state = state
    plan_deal(uow, data["id"], state)


def deal_activity(uow: UnitOfWork, deal_id, occurred_at: dt.datetime) -> None:
    """A follow-up on a deal: its idle period starts again."""
    row = tracking.tracked(uow, "deal", deal_id)
    last = row.state.get("last_activity_at")
    if last and parse_time(last) >= occurred_at:
        return
    row.state = {**row.state, "last_activity_at": occurred_at.isoformat()}
    if row.state.get("status"):
        plan_deal(uow, deal_id, row.state)


def plan_deal(uow: UnitOfWork, deal_id, state: dict) -> None:
    """"Closes in N days" while open, and "no activity for N days" once per idle period."""
    owner = state.get("owner_id")
    is_open = state.get("status") == "open" and owner
    context = {name: state.get(name) for name in ("title", "amount", "currency")}
    closing, stale = [], []
    if is_open and state.get("expected_close_date"):
        days = config.deal_closing_days()
        close_date = dt.date.fromisoformat(state["expected_close_date"])
        timezone = settings_of(uow.session, owner).timezone
        due = morning_of(close_date - dt.timedelta(days=days), timezone)
        if due > utcnow():
            closing.append(Wanted(f"deal_closing:{deal_id}:{close_date.isoformat()}", due,
                                  {**context, "days": days, "close_date": close_date.isoformat()}))
    if is_open:
        days = config.deal_stale_days()
        idle_since = max(parse_time(moment) for moment in (
            state.get("stage_changed_at"), state.get("last_activity_at")) if moment)
        stale.append(Wanted(f"deal_stale:{deal_id}:{idle_since.isoformat()}",
                            idle_since + dt.timedelta(days=days),
                            {**context, "days": days, "idle_since": idle_since.isoformat()}))
    for kind, wanted in (("deal_closing", closing), ("deal_stale", stale)):
        plan(uow, kind=kind, source_id=deal_id, user_id=owner, wanted=wanted,
             entity_type="deal", entity_id=deal_id)


def on_contract(uow: UnitOfWork, event: dict) -> None:
    data = event["data"]
    if tracking.newer(uow, "contract", event) is None:
        return
    owner, wanted = data.get("owner_id"), []
    if owner and data.get("end_date") and data.get("status") not in CONTRACT_ENDED:
        end_date = dt.date.fromisoformat(data["end_date"])
        timezone = settings_of(uow.session, owner).timezone
        context = {name: data.get(name) for name in ("number", "amount", "currency", "end_date")}
        for days in CONTRACT_NOTICE_DAYS:
            due = morning_of(end_date - dt.timedelta(days=days), timezone)
            if due > utcnow():
                wanted.append(Wanted(f"contract_expiry:{data['id']}:{days}:{end_date.isoformat()}",
                                     due, {**context, "days": days}))
    plan(uow, kind="contract_expiry", source_id=data["id"], user_id=owner, wanted=wanted,
         entity_type="contract", entity_id=data["id"])


# -- the list --------------------------------------------------------------------------------
def then_to_webhooks(apply):
    """``apply``, then the event to the webhooks subscribed to its type, unless ``apply``
    answers ``False``: it told nothing new (the directory's copy of a user already as new, as
    when ``gateway.identity.announce`` tells every user again)."""

    def applied(uow: UnitOfWork, event: dict) -> None:
        if apply(uow, event) is not False:
            webhooks.fan_out(uow, event)

    return applied


# What each consumed event asks for; which events are consumed, from which source, is the
# contract's list (``schemas.CONSUMED_EVENTS``, also what webhooks may subscribe to).
APPLY = {
    "activity.logged": on_activity,
    "activity.updated": on_activity,
    "customer.updated": on_customer_updated,
    "customer.deleted": on_customer_deleted,
    "customer.restored": on_customer_restored,
    "customer.merged": on_customer_merged,
    "lead.assigned": on_lead_assigned,
    "deal.created": on_deal,
    "deal.updated": on_deal,
    "deal.stage_changed": on_deal,
    "deal.won": on_deal,
    "deal.lost": on_deal,
    "contract.created": on_contract,
    "contract.updated": on_contract,
    # Overrides the directory's own handlers: the copy is kept, and webhooks get them too.
    "user.created": directory.apply_user,
    "user.updated": directory.apply_user,
}

EVENTS = {
    # team.*: the directory only, as every service keeps it.
    **directory.EVENTS,
    **{(source, event_type): then_to_webhooks(APPLY[event_type])
       for source, event_types in s.CONSUMED_EVENTS.items() for event_type in event_types},
}
