"""The fault matrix (DESIGN.md §6): a healthy sandbox is GO; each fault fails its item and no other in its section.

Each fault case runs the preflight's pytest run (``preflight_in_process``: the argv the CLI gives its pytest
subprocess, the same plugin and verdict code, verdict.json read back) in a child forked from this worker's warm
preflight process (``tests/fork_runner.py``), against a sandbox broken in the way the runbook fears, scoped to the
runbook section the fault breaks. The fault is undone by the child's exit: its sandbox goes with it (its database
is a copy of the server's template) and the next case starts again from the warm parent, so no state carries over.
A handful of cases go end to end through the real ``opscheck preflight`` subprocess: GO, NO-GO, PARTIAL and a run
that cannot start (exit 2).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ops_checks.catalogue import ITEMS, cadence
from ops_checks.sandbox.faults import registry
from tests.fork_runner import ForkRunner
from tests.preflight_runner import Run, preflight

pytestmark = [pytest.mark.fault_matrix, pytest.mark.slow]


def top_section(item_id: str) -> str:
    """The runbook section a fault is scoped to: "1" … "8" for the live runbook; "sop.1" … "sop.8",
    "sop.daily" … for the incident SOP, whose numbered sections are independent procedures (DESIGN.md §4)."""
    parts = item_id.split(".")
    return ".".join(parts[:2]) if parts[0] == "sop" else parts[0]


def section_selection(item_id: str) -> str:
    """The marker expression selecting every subsection of the item's top-level runbook section."""
    top = top_section(item_id)
    subsections = sorted({i.section.split(" ")[0] for i in ITEMS if top_section(i.id) == top})
    return " or ".join(f"section_{s.replace('.', '_')}" for s in subsections)


def feature_glob(item_id: str) -> str:
    """The feature files holding that section (sop.4 → sop_4_*, sop.daily → sop_prevention_daily*)."""
    top = top_section(item_id)
    if top.startswith("sop."):
        tail = top.split(".")[1]
        return f"sop_{tail}_*.feature" if tail.isdigit() else f"sop_prevention_{tail}*.feature"
    return f"{top}_*.feature"


def test_healthy_sandbox_is_go(healthy_run: Run) -> None:
    run = healthy_run
    assert run.verdict is not None, run.output[-3000:]
    assert run.verdict["verdict"] == "GO", run.output[-3000:]
    assert run.exit_code == 0
    assert run.verdict["counts"]["failed"] == 0 and run.verdict["counts"]["error"] == 0
    assert run.verdict["causes"] == []
    every_preflight = [i for i in ITEMS if cadence.of_item(i.id) is None]  # weekly/monthly: --cadence only
    assert run.verdict["counts"]["passed"] == run.verdict["counts"]["total"] >= len(every_preflight)
    assert len(run.verdict["results_sha256"]) == 64
    assert_evidence(run.run_dir)


def assert_evidence(run_dir: Path | None) -> None:
    """Every item's Allure result carries epic/feature/story/severity labels and at least one attachment."""
    assert run_dir is not None
    results = [json.loads(p.read_text()) for p in (run_dir / "allure-results").glob("*-result.json")]
    assert results
    for result in results:
        labels = {label["name"]: label["value"] for label in result["labels"]}
        assert {"epic", "feature", "story", "severity"} <= set(labels), result["name"]
        assert labels["story"].split(" ")[0] == result["name"].split(" ")[0]
        attachments = [a for step in result.get("steps", []) for a in step.get("attachments", [])]
        assert attachments, f"{result['name']} has no evidence"
    environment = (run_dir / "allure-results" / "environment.properties").read_text().splitlines()
    assert environment[0] == "verdict=GO" and "target=sandbox" in environment  # the overview shows the verdict
    assert (run_dir / "junit.xml").exists()


def scoped_argv(fault: str) -> tuple[list[str], str | None]:
    """The CLI options a fault case runs with: the fault, its section's markers and features, its cadence."""
    expected = registry()[fault].item
    optional = cadence.of_item(expected)
    argv = ["--sandbox-fault", fault, "-m", section_selection(expected), "--features", feature_glob(expected)]
    return argv + (["--cadence", optional] if optional else []), optional


def assert_fails_exactly_its_item(fault: str, run: Run) -> None:
    expected = registry()[fault].item
    section = top_section(expected) + "."
    assert run.verdict is not None, run.output[-3000:]
    # A section-scoped run leaves out the rest of the preflight, so a warning-only fault is PARTIAL (exit 3), never GO.
    scoped_verdict = "PARTIAL" if registry()[fault].verdict == "GO" else registry()[fault].verdict
    assert run.verdict["verdict"] == scoped_verdict
    assert run.exit_code == {"NO-GO": 1, "PARTIAL": 3}[scoped_verdict]
    assert run.verdict["selection"]["complete"] is False and run.verdict["selection"]["left_out"]
    assert run.failed(section) == {expected}, f"{fault}: {run.status_of(section)}\n{run.output[-2000:]}"
    reason = next(i["reason"] for i in run.verdict["items"] if i["id"] == expected)
    assert reason and "\n" not in reason and "Traceback" not in reason
    assert_one_cause(fault, run)


def assert_one_cause(fault: str, run: Run) -> None:
    """The fault's NO-GO names exactly one cause, rooted at the fault's item, with a remedy; every item of the run
    that did not pass is explained by it (a symptom points at the cause instead of repeating it)."""
    assert run.verdict is not None
    expected = registry()[fault].item
    causes = run.verdict["causes"]
    open_items = sorted(i["id"] for i in run.verdict["items"] if i["status"] in ("failed", "error", "not_verified"))
    summary = [(c["id"], c["roots"], c["items"], c["summary"]) for c in causes]
    assert len(causes) == 1, f"{fault}: {len(causes)} causes for {open_items}: {summary}"
    cause = causes[0]
    assert expected in cause["roots"], f"{fault}: cause rooted at {cause['roots']}, not {expected}: {summary}"
    assert sorted(cause["items"]) == open_items, f"{fault}: {summary}"
    assert cause["remedy"] and "\n" not in cause["summary"], cause


@pytest.mark.parametrize("fault", sorted(registry(), key=lambda f: registry()[f].item))
def test_fault_fails_exactly_its_item(fault: str, tmp_path: Path, fork_runner: ForkRunner) -> None:
    item = registry()[fault].item
    run = fork_runner.run(tmp_path, faults=[fault], select=section_selection(item), cadence=cadence.of_item(item))
    assert_fails_exactly_its_item(fault, run)


# End to end through the real CLI: a blocker fault (NO-GO, exit 1) and a warning-only fault (PARTIAL, exit 3).
E2E_FAULTS = ("db_connect_revoked", "budgetguard_lenient")


@pytest.mark.parametrize("fault", E2E_FAULTS)
def test_fault_through_the_cli(fault: str, tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    argv, _ = scoped_argv(fault)
    run = preflight(tmp_path, "--no-html", *argv, env=shared_pg_env)
    assert_fails_exactly_its_item(fault, run)
    assert run.verdict is not None and run.verdict["selection"]["features"] == feature_glob(registry()[fault].item)


def test_preflight_that_cannot_start_exits_2(tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    env_file = tmp_path / "live.env"
    env_file.write_text("DB_HOST=127.0.0.1\n")
    run = preflight(tmp_path / "reports", "--no-html", "--env-file", str(env_file), env=shared_pg_env)
    assert run.exit_code == 2, run.output[-2000:]
    assert run.verdict is None and "Traceback" not in run.output
    assert "cannot run" in run.output and len(run.output.strip().splitlines()) == 1
