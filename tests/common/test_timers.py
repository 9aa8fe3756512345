"""The services' timer (``common.timers``) folds the ticks that fell due while a tick ran into
one, where nameko's fires them all back to back; it keeps ticking after."""
import time

import eventlet
from nameko.containers import ServiceContainer

from common.timers import timer

INTERVAL = 0.05
LONG = 40  # intervals the first tick takes: 40 ticks fall due while it runs


class Ticking:
    name = "ticking"
    started: list[float] = []
    long_tick_ended: list[float] = []

    @timer(interval=INTERVAL)
    def tick(self):
        Ticking.started.append(time.monotonic())
        if len(Ticking.started) == 1:
            eventlet.sleep(LONG * INTERVAL)
            Ticking.long_tick_ended.append(time.monotonic())


def test_ticks_missed_during_a_long_tick_are_folded_into_one():
    Ticking.started.clear()
    Ticking.long_tick_ended.clear()
    container = ServiceContainer(Ticking, {})
    container.start()
    try:
        # until 3 ticks have come after the long one, and 5 intervals have passed since it
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (
                Ticking.long_tick_ended
                and time.monotonic() > Ticking.long_tick_ended[0] + 5 * INTERVAL
                and len(Ticking.started) > 3):
            eventlet.sleep(INTERVAL)
    finally:
        container.stop()
    assert Ticking.long_tick_ended, "the first tick never ended"
    assert len(Ticking.started) > 3, "the timer stopped ticking after the long tick"
    window_end = Ticking.long_tick_ended[0] + 5 * INTERVAL
    after_the_long_tick = [started for started in Ticking.started[1:] if started <= window_end]
    # The missed ones as one, then up to 6 on the beat in the 5 intervals after it; nameko's
    # timer fires the 40 it missed at once.
    assert 1 <= len(after_the_long_tick) <= 7, after_the_long_tick
