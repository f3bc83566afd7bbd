"""Issue 15: the preflight CLI follows InSpec/Goss conventions and tells the truth about partial runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ops_checks import __version__
from ops_checks.cli import output as cli_output
from tests.preflight_runner import REPO

pytestmark = pytest.mark.slow


def opscheck(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ops_checks.cli", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_version() -> None:
    r = opscheck("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"opscheck {__version__}"


def test_a_feature_selection_is_partial_exit_3(tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    r = opscheck("preflight", "--no-html", "--features", "1_1*.feature", "--reports", str(tmp_path),
                 env=shared_pg_env)
    assert r.returncode == 3, r.stdout + r.stderr
    data = json.loads(next(tmp_path.glob("*/verdict.json")).read_text())
    assert data["verdict"] == "PARTIAL" and data["selection"]["features"] == "1_1*.feature"
    assert "1.2.1" in data["selection"]["left_out"]
    out = r.stdout + r.stderr
    assert out.count("VERDICT:") == 1 and "VERDICT: PARTIAL" in out
    assert " passed in " not in out and "deselected" not in out  # pytest's own summary is not shown


def test_a_partial_run_is_never_signed(tmp_path: Path) -> None:
    r = opscheck("preflight", "--features", "1_1*.feature", "--operator", "A", "--witness", "B", "--reports",
                 str(tmp_path))
    assert r.returncode == 2 and "never signed" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_format_json_prints_one_document_on_stdout(tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    r = opscheck("preflight", "--no-html", "--format", "json", "-m", "section_1_1", "--features", "1_1*.feature",
                 "--reports", str(tmp_path), env=dict(shared_pg_env, NO_COLOR="1"))
    doc = json.loads(r.stdout)  # the whole of stdout is the document; human lines went to stderr
    assert doc["verdict"] == "PARTIAL" and doc["counts"]["total"] == 6
    assert "VERDICT: PARTIAL" in r.stderr and "\033[" not in r.stderr


def test_bad_format_exits_2() -> None:
    r = opscheck("preflight", "--format", "xml")
    assert r.returncode == 2 and "--format must be one of" in r.stderr


def test_tap_and_nagios_renderings() -> None:
    result = {"verdict": "NO-GO", "counts": {"passed": 1, "failed": 1, "broken": 0, "skipped": 1, "waived": 0,
                                             "total": 3},
              "items": [{"id": "1.1.1", "title": "DB", "severity": "blocker", "status": "passed", "reason": ""},
                        {"id": "1.4.3", "title": "Grafana", "severity": "warning", "status": "failed",
                         "reason": "none"},
                        {"id": "4.4.3", "title": "HALT", "severity": "blocker", "status": "skipped",
                         "reason": "not verified: x"}]}
    tap = cli_output.tap(result).splitlines()
    assert tap[:3] == ["TAP version 13", "1..3", "ok 1 - 1.1.1 DB"]
    assert tap[3].startswith("ok 2 - 1.4.3 Grafana # TODO warning")
    assert tap[4].startswith("not ok 3 - 4.4.3 HALT # skipped")
    nagios = cli_output.nagios(result)
    assert nagios.startswith("OPSCHECK CRITICAL - NO-GO 1/3 passed; blockers not passed: 4.4.3 | ")
