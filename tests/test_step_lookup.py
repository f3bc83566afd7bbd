"""pytest-bdd's step lookup, indexed (issue 23 §6): on every step of every runbook scenario it finds the same step
definitions, in the same order, as pytest-bdd's own lookup (run in a pytest of its own: collection only)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHECKER = """
import importlib

from ops_checks.pytest_plugin import step_lookup

scenario = importlib.import_module("pytest_bdd.scenario")


def pytest_collection_finish(session):
    fm = session._fixturemanager
    indexed, original = scenario.find_fixturedefs_for_step, step_lookup.replaced
    assert getattr(indexed, "_opscheck_indexed", False) and original is not None
    steps = found = 0
    for item in session.items:
        template = scenario.scenario_wrapper_template_registry.get(getattr(item, "function", None))
        if template is None:
            continue
        for step in template.render({}).steps:
            mine, theirs = list(indexed(step, fm, item)), list(original(step, fm, item))
            assert mine == theirs, (item.nodeid, step.type, step.name, mine, theirs)
            steps += 1
            found += bool(mine)
    print(f"STEP-LOOKUP {len(session.items)} items {steps} steps {found} found")
"""


def test_the_index_finds_what_pytest_bdd_finds(tmp_path: Path) -> None:
    (tmp_path / "step_lookup_checker.py").write_text(CHECKER)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(REPO)]))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "step_lookup_checker", "-p", "no:xdist"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = next((s for s in run.stdout.splitlines() if s.startswith("STEP-LOOKUP")), "")
    assert run.returncode == 0 and line, run.stdout[-3000:] + run.stderr[-3000:]
    _, items, _, steps, _, found, _ = line.split()
    assert int(items) >= 145 and int(steps) >= 3 * int(items) and found == steps  # every step has a definition
