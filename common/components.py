"""The one registry of the CRM's components: adding a service is one entry here.

Migrations, the event catalogue, the broker topology, the gateway's readiness check and the
test stack read this list; the files that cannot import it (the Procfile, docker-compose.yml,
the Kubernetes manifests) are checked against it by ``tests/deploy``. Nothing here imports a
component: its modules load only when asked for, so one component being written does not
break the others.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Component:
    """A process the CRM runs, owning one database."""

    name: str
    kind: str  # "service" (nameko) or "gateway"
    package: str  # dotted: its models, schemas and migrations live under it
    events_module: str  # the module whose ``EVENTS`` it publishes (may be empty)
    service_class: str | None = None  # "module:Class" that ``nameko run`` runs, for a service

    @property
    def migrations(self) -> Path:
        """Its Alembic history."""
        return ROOT.joinpath(*self.package.split("."), "migrations")

    @property
    def models_module(self) -> str:
        return f"{self.package}.models"

    def published_events(self) -> dict:
        """Its ``EVENTS``: event type -> (data schema class, summary)."""
        return importlib.import_module(self.events_module).EVENTS


def _service(name: str, class_name: str) -> Component:
    package = f"services.{name}"
    return Component(name, "service", package, f"{package}.schemas",
                     f"{package}.service:{class_name}")


# Order matters where one runs after another: migrations follow it.
COMPONENTS = (
    Component("gateway", "gateway", "gateway", "gateway.identity.schemas"),
    _service("customers", "CustomersService"),
    _service("sales", "SalesService"),
    _service("notifications", "NotificationsService"),
    _service("reports", "ReportsService"),
)


def names() -> list[str]:
    """Every component, the gateway included."""
    return [component.name for component in COMPONENTS]


def services() -> list[Component]:
    """The nameko services."""
    return [component for component in COMPONENTS if component.kind == "service"]


def service_names() -> list[str]:
    return [component.name for component in services()]


def by_name(name: str) -> Component:
    for component in COMPONENTS:
        if component.name == name:
            return component
    raise KeyError(f"no component {name!r}; the components are {', '.join(names())}")


def service_classes() -> dict[str, str]:
    """Service name -> ``module:Class`` of each nameko service."""
    return {component.name: component.service_class for component in services()}


def event_sources() -> list[str]:
    """The components that publish at least one event (each on exchange ``<name>.events``).
    Imports every events module."""
    return [component.name for component in COMPONENTS if component.published_events()]


def load_class(path: str):
    """The class a ``module:Class`` path names."""
    module_name, _, class_name = path.partition(":")
    return getattr(importlib.import_module(module_name), class_name)
