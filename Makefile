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

# The guard rails, cheapest first; CI (.ci/run) runs them before the tests, pre-commit runs the same
# (.pre-commit-config.yaml): ruff (lint and format), the layer rule (imports and the registry's module:function
# strings point down: tests/test_layers.py, a few seconds), mypy (pyproject.toml [tool.mypy]: strict for core,
# access, catalogue, verdict)
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -q -p no:xdist -p no:randomly tests/test_layers.py
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
