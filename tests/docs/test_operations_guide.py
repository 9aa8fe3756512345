"""The operations guide names exactly the registered components: in its table of processes,
and in the loop that backs up their databases."""
import re

from common import components

GUIDE = components.ROOT / "docs" / "operations.md"


def section(title: str) -> str:
    return GUIDE.read_text().split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_what_runs_has_a_row_per_registered_component():
    commands = dict(re.findall(r"^\| (\w+) \| `([^`]*)`", section("What runs"), re.MULTILINE))
    commands.pop("setup")
    assert set(commands) == set(components.names()), "docs/operations.md, What runs"
    for component in components.services():
        assert commands[component.name] == (
            f"nameko run --config deploy/nameko.yml {component.service_class}"), component.name


def test_the_backup_loop_dumps_every_component_database():
    backup = section("Backup and restore")
    (loop,) = re.findall(r"^for db in ([\w ]+); do$", backup, re.MULTILINE)
    assert sorted(loop.split()) == sorted(f"crm_{name}" for name in components.names()), (
        "docs/operations.md, Backup and restore: the pg_dump loop")
    assert "pg_dump -U postgres -Fc" in backup and "pg_restore -U postgres" in backup
