"""Record-level access in its two forms agrees: the filter a list applies
(``access.visible_customers``, SQL) and the check a read by id makes on the row it loaded
(``access.may_see``, Python), for every role over customers owned by the caller, by their
team, by another team and by no one."""
import uuid

import sqlalchemy as sa

from common.actor import Actor
from services.customers import access, operations
from services.customers.models import Customer
from tests.customers.conftest import ADMIN, ALEX, EAST, LONER, MARIA, SAM, SARA

SYSTEM = Actor.system("test")
# Callers with no user id that do not see everything own nothing, unowned records included.
NO_USER_ID = (Actor(user_id=None, role="sales", team_id=EAST),
              Actor(user_id=None, role="manager", team_id=EAST))


def test_the_filter_and_the_check_agree(run):
    made = {}
    for label, owner, team in [("sam's", SAM.user_id, EAST), ("maria's", MARIA.user_id, EAST),
                               ("east, nobody's", None, EAST), ("sara's", SARA.user_id, None),
                               ("nobody's", None, None)]:
        made[label] = run(ADMIN, operations.create_customer, {
            "name": f"Access {label}", "allow_duplicate": True, "owner_id": owner,
            "team_id": team})["id"]

    def agree(uow):
        rows = uow.session.scalars(sa.select(Customer)).all()
        for actor in (SAM, SARA, MARIA, LONER, ALEX, ADMIN, SYSTEM, *NO_USER_ID):
            listed = set(uow.session.scalars(
                access.visible_customers(actor, sa.select(Customer.id))).all())
            checked = {row.id for row in rows if access.may_see(actor, row)}
            assert listed == checked, actor.role
        return {row.id for row in rows if access.may_see(SAM, row)}

    assert run(ADMIN, agree) == {uuid.UUID(made["sam's"])}

