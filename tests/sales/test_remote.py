"""common.remote: a call to another service that hangs or has no consumer fails, typed."""
import eventlet.event
import pytest
from nameko.exceptions import UnknownService

from common.errors import DependencyTimeout, DependencyUnavailable
from common.remote import Remote


class Proxy:
    def hangs(self):
        eventlet.event.Event().wait()  # never answered

    def absent(self):
        raise UnknownService("customers")

    def answers(self, value):
        return {"value": value}


def test_a_hung_call_times_out_and_an_absent_service_is_unavailable():
    remote = Remote(Proxy(), "customers", timeout=0.05)
    assert remote.answers(3) == {"value": 3}
    with pytest.raises(DependencyTimeout) as timed_out:
        remote.hangs()
    assert timed_out.value.status == 504
    assert timed_out.value.message == "The customers service did not answer in time."
    with pytest.raises(DependencyUnavailable) as absent:
        remote.absent()
    assert absent.value.status == 503
