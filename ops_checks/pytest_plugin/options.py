"""The plugin's command-line options (``--target``, ``--env-file``, ``--runbook`` …), registered by plugin.py."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ops_checks")
    group.addoption(
        "--target",
        choices=("sandbox", "live"),
        default=None,
        help="where the checks run (default: $OPSCHECK_TARGET or sandbox)",
    )
    group.addoption("--env-file", default=None, help="env file for the live target (dotenv syntax)")
    group.addoption(
        "--allow-mutations",
        action="store_true",
        default=False,
        help="live only: allow the checks that write (kill-switch test, test signal, test alert)",
    )
    group.addoption(
        "--sandbox-fault",
        action="append",
        default=[],
        metavar="NAME",
        help="break the sandbox in a named way before the checks run (repeatable)",
    )
    group.addoption("--run-dir", default=None, help="write verdict.json (and the results manifest) here")
    group.addoption("--operator", default=None, help="operator running this preflight")
    group.addoption("--witness", default=None, help="second operator witnessing it")
    group.addoption("--waivers", default=None, help="waivers.yml: approved, expiring exceptions for items")
    group.addoption(
        "--cadence",
        default=None,
        metavar="weekly,monthly",
        help="also run the incident SOP's weekly and/or monthly prevention-checklist items",
    )
    group.addoption(
        "--runbook",
        default=None,
        help="runbook directory: the report quotes it (default $OPSCHECK_RUNBOOK_DIR, else ../shared/runbooks "
        "beside the repository checkout you run from)",
    )
