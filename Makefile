# Two entry points: `make preflight` (sandbox go/no-go + report) and `make test` (the whole suite).
# Both install what they need: the virtualenv in .venv/, the Allure CLI in .tools/, Postgres server binaries.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
ALLURE := .tools/allure/node_modules/allure-commandline/dist/bin/allure
PYTEST_ARGS ?=

.PHONY: preflight test lint install tools bytecode clean

preflight: install tools bytecode
	$(VENV)/bin/opscheck preflight

test: install tools bytecode
	$(PY) -m pytest tests -n 4 --dist worksteal -q $(PYTEST_ARGS)

# ruff (lint and format) and mypy (its settings: pyproject.toml [tool.mypy]); CI runs it before the tests
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

install: $(STAMP)

# Byte-compile the package, the step modules and tests (changed files only): every preflight starts Python
# processes, and with PYTHONDONTWRITEBYTECODE set (as on some CI images, and for the preflight's own child) each would
# otherwise compile every module from source.
bytecode: install
	@$(PY) -m compileall -q -j 0 ops_checks steps tests conftest.py >/dev/null

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
