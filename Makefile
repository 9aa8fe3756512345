# The two commands of the README: `make run` (the whole suite, for development) and
# `make test` (the test suite, also what CI runs). Everything else is a step they share.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard gateway/translations/*/LC_MESSAGES/*.po))
export CRM_DATA_DIR ?= $(CURDIR)/var
# Quiet starts: the third-party deprecation warnings every process printed before our first
# log line are hidden (eventlet's, attributed to the nameko module importing it, and
# setuptools' pkg_resources); every other warning, ours included, shows as before. The image
# sets the same (deploy/Dockerfile); `make test` keeps pytest's own filters.
QUIET_WARNINGS := ignore:pkg_resources is deprecated as an API:UserWarning,ignore::Warning:nameko.cli.commands,ignore::Warning:nameko.containers,ignore::Warning:nameko.extensions,ignore::Warning:nameko.messaging
run migrate topology seed announce: export PYTHONWARNINGS ?= $(QUIET_WARNINGS)

.PHONY: run test chaos install broker migrate topology seed announce bench clean

run: install broker migrate topology seed announce
	@echo "Starting every service and the gateway on http://localhost:$${CRM_PORT:-8000} (Ctrl-C stops all)"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --procfile deploy/Procfile --app-root $(CURDIR) start

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The chaos run alone, printing its counts (it is part of `make test` too; it stops the
# local broker for a few seconds).
chaos: install
	$(BIN)/python -m pytest -s -p no:cacheprovider tests/reliability/test_zz_chaos.py

install: $(STAMP) $(CATALOGUES)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-* && touch $@

# The gettext catalogues, compiled (gateway/translations: what the gateway and the console
# read); a .po newer than its .mo is compiled again.
%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

broker:
	@deploy/ensure-rabbitmq.sh

migrate: install
	$(BIN)/python -m common.migrations

topology: install
	$(BIN)/python -m common.topology

seed: install
	$(BIN)/python -m gateway.seed --demo

announce: install
	$(BIN)/python -m gateway.identity.announce

bench: install
	$(BIN)/python bench/api_load.py

clean:
	rm -rf $(VENV) var .pytest_cache
