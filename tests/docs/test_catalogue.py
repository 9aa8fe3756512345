"""The event catalogue is generated from the code and must be current."""
from common import asyncapi


def test_asyncapi_catalogue_is_current():
    assert asyncapi.main(["--check"]) == 0, "run: python -m common.asyncapi"


def test_every_published_event_is_catalogued():
    from services.customers.schemas import EVENTS

    channels = asyncapi.build()["channels"]
    assert {f"customers.events/{event}" for event in EVENTS} <= set(channels)
