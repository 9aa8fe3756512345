"""Fixtures of the tests that stop the shared broker (named ``..._STOPS_BROKER``, run last)."""
import pytest

from tests.support.stack import rabbitmqctl


@pytest.fixture
def restartable_broker():
    """Skips where ``rabbitmqctl`` cannot reach the broker; starts it again whatever the test
    left it as."""
    if not rabbitmqctl("status"):
        pytest.skip("rabbitmqctl is not usable here: the broker cannot be stopped")
    yield
    rabbitmqctl("start_app")
