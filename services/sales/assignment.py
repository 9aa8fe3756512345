"""Who gets a new lead: each team's rule, round-robin among its active sales users, by region,
or to whoever has the fewest open leads. A team without a rule uses round-robin.

The rule's row is locked while choosing, so leads created at the same moment take turns and
round-robin stays even."""
from __future__ import annotations

import sqlalchemy as sa

from common.listing import paginate
from common.records import as_uuid, locked_row, optional_uuid
from common.uow import UnitOfWork
from common.validation import load
from common import directory
from services.sales import access
from services.sales import schemas as s
from services.sales.models import AssignmentRule, Lead

rule_out = s.AssignmentRuleSchema()


def list_rules(uow: UnitOfWork, query_args) -> dict:
    args = load(s.PageQuerySchema, query_args)
    query = sa.select(AssignmentRule).order_by(AssignmentRule.team_id)
    if not uow.actor.sees_everything:
        query = query.where(AssignmentRule.team_id == uow.actor.team_uuid)
    return paginate(uow.session, query, args, dump=rule_out.dump)


def put_rule(uow: UnitOfWork, team_id, payload) -> dict:
    team_id = as_uuid(team_id, "team")
    access.require_team_manager(uow.actor, team_id)
    data = load(s.AssignmentRulePutSchema, payload)
    rule = locked_row(uow.session, AssignmentRule, team_id, strategy="round_robin", region_map={})
    rule.strategy = data["strategy"]
    rule.region_map = {key: str(value) for key, value in data["region_map"].items()}
    uow.session.flush()
    uow.commit()
    return rule_out.dump(rule)


def _by_region(rule: AssignmentRule, lead: Lead, candidates: set):
    region_map = {key.casefold(): value for key, value in (rule.region_map or {}).items()}
    for place in (lead.city, lead.province, lead.country):
        chosen = optional_uuid(region_map.get((place or "").strip().casefold()))
        if chosen in candidates:
            return chosen
    return None


def _least_open(session, ids: list):
    counts = dict(session.execute(
        sa.select(Lead.owner_id, sa.func.count())
        .where(Lead.owner_id.in_(ids), Lead.status.in_(s.OPEN_LEAD_STATUSES))
        .group_by(Lead.owner_id)
    ).all())
    return min(ids, key=lambda user_id: (counts.get(user_id, 0), ids.index(user_id)))


def _next_in_turn(rule: AssignmentRule, ids: list):
    after = [user_id for user_id in ids if rule.last_assigned_id and user_id > rule.last_assigned_id]
    return (after or ids)[0]


def choose_owner(uow: UnitOfWork, lead: Lead):
    """The owner the team's rule gives ``lead`` (``None`` when the team has no active sales
    user known yet). Call before the lead is flushed."""
    rule = locked_row(uow.session, AssignmentRule, lead.team_id,
                      strategy="round_robin", region_map={})
    ids = [member.id for member in directory.active_sales(uow, lead.team_id)]
    if not ids:
        return None
    chosen = None
    if rule.strategy == "region":
        chosen = _by_region(rule, lead, set(ids))
    elif rule.strategy == "least_open":
        chosen = _least_open(uow.session, ids)
    if chosen is None:
        chosen = _next_in_turn(rule, ids)
        rule.last_assigned_id = chosen
    return chosen
