"""The registry (``common/components.py``) names every component the code holds, and each
entry points at real code: a service package left out of it would be migrated, declared,
deployed and checked by nothing."""
import pytest

from common import components


def test_every_service_package_is_registered():
    packages = {path.parent.name for path in (components.ROOT / "services").glob("*/__init__.py")}
    assert packages == set(components.service_names()), "add it to common/components.py"


@pytest.mark.parametrize("component", components.COMPONENTS, ids=components.names())
def test_each_component_has_its_migrations_and_its_published_events(component):
    assert (component.migrations / "versions").is_dir()
    assert isinstance(component.published_events(), dict)


def test_only_components_that_publish_events_are_event_sources():
    sources = components.event_sources()
    assert "customers" in sources
    assert "reports" not in sources  # its EVENTS is empty: it only reads the others' events


def test_an_unknown_name_says_which_exist():
    with pytest.raises(KeyError, match="customers"):
        components.by_name("invoices")
