# Two entry points: `make preflight` (sandbox go/no-go + report) and `make test` (the whole suite).
# Both install what they need: the virtualenv in .venv/, the Allure CLI in .tools/, Postgres server binaries.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
ALLURE := .tools/allure/node_modules/allure-commandline/dist/bin/allure
PYTEST_ARGS ?=

.PHONY: preflight test lint install tools clean

preflight: install tools
	$(VENV)/bin/opscheck preflight

test: install tools
	$(PY) -m pytest -n 3 --dist loadgroup -q $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

tools: $(ALLURE)
	@scripts/ensure-postgres.sh
	@scripts/ensure-chromium.sh

$(ALLURE):
	@scripts/install-allure.sh >/dev/null

clean:
	rm -rf $(VENV) .tools reports/*/
