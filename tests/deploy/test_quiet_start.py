"""A quiet start: the third-party deprecation warnings every process printed before our first
log line are filtered by ``PYTHONWARNINGS`` (``make run``: the Makefile's ``QUIET_WARNINGS``;
the image: ``deploy/Dockerfile``, which compose and Kubernetes run), and nothing else is."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NAMEKO = Path(sys.executable).parent / "nameko"


def makefile_value() -> str:
    (value,) = re.findall(r"^QUIET_WARNINGS := (.+)$", (ROOT / "Makefile").read_text(), re.M)
    return value.strip()


def dockerfile_value() -> str:
    (value,) = re.findall(r'^ENV PYTHONWARNINGS="([^"]+)"$',
                          (ROOT / "deploy" / "Dockerfile").read_text(), re.M)
    return value


def run(argv, pythonwarnings) -> str:
    """The warnings a fresh process prints (its stderr), with ``PYTHONWARNINGS`` as given."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONWARNINGS"}
    if pythonwarnings is not None:
        env["PYTHONWARNINGS"] = pythonwarnings
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120).stderr


def test_make_run_and_the_image_filter_the_same_and_only_by_message_or_module():
    value = makefile_value()
    assert value == dockerfile_value(), "the Makefile and deploy/Dockerfile disagree"
    for option in value.split(","):
        action, message, category, module = (option.split(":") + [""] * 4)[:4]
        assert action == "ignore" and (message or module), f"{option}: too broad"
    # Python skips an option it cannot read (a category it cannot import, say) with a message.
    assert run([sys.executable, "-c", "pass"], value) == ""


@pytest.mark.parametrize("argv", [
    # nameko run (the services): pkg_resources, then eventlet from nameko.cli.commands; a
    # service that does not exist makes it stop right after.
    [str(NAMEKO), "run", "--config", "deploy/nameko.yml", "no_such_module:NoService"],
    # the processes themselves, as they import eventlet (through nameko.containers,
    # nameko.extensions or nameko.messaging, whichever comes first)
    [sys.executable, "-c", "import gateway.app"],
    [sys.executable, "-c", "import common.migrations, gateway.seed, gateway.identity.announce"],
    [sys.executable, "-c", "import common.topology"],
], ids=["nameko-run", "gateway", "migrations-seed-announce", "topology"])
def test_third_party_deprecations_are_quiet(argv):
    assert "Warning" not in run(argv, makefile_value())


def test_our_warnings_still_show():
    code = ("import warnings\n"
            "warnings.warn('ours, deprecated', DeprecationWarning)\n"
            "warnings.warn('ours, to read')\n")
    printed = run([sys.executable, "-c", code], makefile_value())
    assert "DeprecationWarning: ours, deprecated" in printed
    assert "UserWarning: ours, to read" in printed
