"""CONTRIBUTING.md's "Adding a runbook item", done for real: in a copy of the repository, one new item touches
exactly four files (its registry entry, its scenario, its check, its fault) and no step code; then
``pytest -m sop_daily_5`` at the copy's root runs it against the sandbox: passed, and NO-GO under its fault.

The snippets below are the ones CONTRIBUTING.md shows (``test_contributing_shows_these_snippets`` keeps them equal).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ops_checks.catalogue import runbook_text
from tests.repo_copy import NOT_SOURCE, REPO

pytestmark = pytest.mark.slow


# ---------------------------------------------------------------- the four changes (as in CONTRIBUTING.md)

REGISTRY_FILE = "ops_checks/catalogue/items/sop_incident.py"
REGISTRY_ENTRY = """\
    _daily(
        "sop.daily.5",
        "Bot reports itself up",
        check="ops_checks.checks.sop.prevention:bot_reports_up",
        when="the bot's bot_up gauge is read",
    ),
"""
SCENARIO_FILE = "features/sop_prevention_daily.feature"
SCENARIO = """\

  @sop_daily_5 @blocker
  Scenario: sop.daily.5 Bot reports itself up
    When the bot's bot_up gauge is read
    Then the runbook expects "The bot is up"
"""
CHECK_FILE = "ops_checks/checks/sop/prevention.py"
CHECK = '''\


def bot_reports_up(t: Target) -> CheckResult:
    """sop.daily.5: the bot's bot_up gauge says 1."""
    try:
        up = scrape(t).flag("bot_up", "sop.daily.5")
    except MetricsError as exc:
        return failed("unreadable", "bot_up 1", f"the bot's up gauge: {exc}")
    if not up:
        return failed("bot_up 0", "bot_up 1", "the bot reports itself down")
    return passed("bot_up 1", "bot_up 1", "the bot reports itself up")
'''
FAULT_FILE = "ops_checks/sandbox/faults/sop_incident.py"
FAULT = """\
    Fault("bot_up_missing", "sop.daily.5", "the bot stopped exporting bot_up", knob("bot", omit_metrics=("bot_up",))),
"""
CHANGES = {
    REGISTRY_FILE: ("tuple", REGISTRY_ENTRY),
    SCENARIO_FILE: ("end", SCENARIO),
    CHECK_FILE: ("end", CHECK),
    FAULT_FILE: ("tuple", FAULT),
}


def add_item(root: Path) -> None:
    """The four edits: an entry at the end of the area's ``ITEMS`` / ``FAULTS`` tuple (the file's last line closes
    it), a scenario and a function at the end of their files."""
    for name, (where, text) in CHANGES.items():
        path = root / name
        old = path.read_text(encoding="utf-8")
        if where == "tuple":
            assert old.endswith("\n)\n"), f"{name} no longer ends with its tuple"
            new = old.removesuffix(")\n") + text + ")\n"
        else:
            new = old.rstrip("\n") + "\n" + text
        path.write_text(new, encoding="utf-8")


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository with the new item added; ``git diff --stat`` there lists exactly four files."""
    root = tmp_path_factory.mktemp("add-item") / "repo"
    shutil.copytree(REPO, root, ignore=NOT_SOURCE)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    add_item(root)
    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    touched = sorted(str(p.relative_to(root)) for p in after if before.get(p) != after[p])
    assert touched == sorted(CHANGES)
    assert not [p for p in touched if p.startswith("steps/")]
    return root


def _env(shared_pg_env: dict[str, str], root: Path) -> dict[str, str]:
    env = dict(shared_pg_env, PYTHONPATH=str(root))
    runbooks = runbook_text.resolve_dir(cwd=REPO)
    if runbooks.is_dir():
        env[runbook_text.ENV] = str(runbooks)
    return env


def test_the_new_item_agrees_with_the_registry_and_has_its_steps(copy: Path, shared_pg_env: dict[str, str]) -> None:
    proc = _run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:xdist",
            "-p",
            "no:cacheprovider",
            "tests/test_traceability.py",
        ],
        copy,
        _env(shared_pg_env, copy),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


def test_the_new_item_passes_on_the_healthy_sandbox(copy: Path, shared_pg_env: dict[str, str]) -> None:
    proc = _run(
        [sys.executable, "-m", "pytest", "-m", "sop_daily_5", "-p", "no:xdist"], copy, _env(shared_pg_env, copy)
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "1 passed" in proc.stdout, out[-3000:]
    assert "(1/1 passed, 0 failed" in proc.stdout, out[-3000:]


def test_the_new_item_fails_under_its_fault_and_the_verdict_is_no_go(copy: Path, shared_pg_env: dict[str, str]) -> None:
    argv = [sys.executable, "-m", "pytest", "-m", "sop_daily_5", "-p", "no:xdist", "--sandbox-fault", "bot_up_missing"]
    proc = _run(argv, copy, _env(shared_pg_env, copy))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "1 failed" in proc.stdout, out[-3000:]
    assert "VERDICT: NO-GO" in proc.stdout and "sop.daily.5" in proc.stdout, out[-3000:]


def test_contributing_shows_these_snippets() -> None:
    """Each snippet, as it sits in its numbered step (indented by three spaces), and the file it goes into."""
    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for name, (_, snippet) in CHANGES.items():
        assert f"`{name}`" in text
        assert textwrap.indent(snippet.strip("\n"), "   ") in text, (
            f"CONTRIBUTING.md no longer shows the {name} snippet"
        )
    assert "pytest -m sop_daily_5 --sandbox-fault bot_up_missing" in text
