"""The reports' read model loses and doubles nothing when its service is killed: events
published while it is down wait in its durable queues, a delivery cut short is redelivered and
applied once, and the figures come out exactly as the records say."""
import uuid
from decimal import Decimal

from tests.support.http import ok
from tests.support.stack import wait_until

DEALS = 12


def won_in(admin, city):
    totals = ok(admin.get("/reports/revenue", params={"region": city, "period": "year"}))["totals"]
    return totals["won_count"], Decimal(totals["won_amount"])


def test_reports_killed_mid_stream_count_every_deal_once(stack, admin):
    city = f"Killtown-{uuid.uuid4().hex[:8]}"
    customer = ok(admin.post("/customers", json={"name": "Kill test", "city": city}), 201)
    deals = [ok(admin.post("/deals", json={"customer_id": customer["id"], "title": f"Deal {n}",
                                           "amount": f"{100 + n}.00"}), 201)
             for n in range(DEALS)]
    half = DEALS // 2
    for deal in deals[:half]:
        ok(admin.post(f"/deals/{deal['id']}/stage", json={"stage": "won"}))
    stack.kill("reports")  # SIGKILL: whatever it was applying is redelivered
    try:
        for deal in deals[half:]:
            ok(admin.post(f"/deals/{deal['id']}/stage", json={"stage": "won"}))
    finally:
        stack.start_service("reports")
    expected = (DEALS, sum((Decimal(100 + n) for n in range(DEALS)), Decimal(0)))
    wait_until(lambda: won_in(admin, city) == expected, timeout=60, interval=0.5,
               message=f"{DEALS} won deals counted once after the restart")
    # A second look after the queues are drained: still exactly once.
    assert won_in(admin, city) == expected
    stack.wait_ready()
