"""The operations guide's table of processes lists exactly the registered components."""
import re

from common import components

GUIDE = components.ROOT / "docs" / "operations.md"


def test_what_runs_has_a_row_per_registered_component():
    section = GUIDE.read_text().split("## What runs", 1)[1].split("\n## ", 1)[0]
    commands = dict(re.findall(r"^\| (\w+) \| `([^`]*)`", section, re.MULTILINE))
    commands.pop("setup")
    assert set(commands) == set(components.names()), "docs/operations.md, What runs"
    for component in components.services():
        assert commands[component.name] == (
            f"nameko run --config deploy/nameko.yml {component.service_class}"), component.name
