"""waivers.yml: well-formed waivers load; kill-switch and §7.5 items are refused; expired waivers are ignored."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from ops_checks.verdict import waivers

GOOD = """
- item: "1.4.3"
  justification: "Grafana migration in progress"
  approver: "Head of Trading Ops"
  expires: 2099-12-01
- item: "1.4.2"
  justification: "old"
  approver: "someone"
  expires: 2020-01-01
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "waivers.yml"
    p.write_text(text)
    return p


def test_load_and_expiry(tmp_path: Path) -> None:
    loaded = waivers.load(write(tmp_path, GOOD))
    active, warnings = waivers.active_for(loaded, date(2026, 11, 22))
    assert set(active) == {"1.4.3"} and active["1.4.3"].approver == "Head of Trading Ops"
    assert len(warnings) == 1 and "1.4.2 expired on 2020-01-01" in warnings[0]


@pytest.mark.parametrize("item", ["1.3.1", "4.4.3", "4.5.1", "7.5.1"])
def test_unwaivable_items_refuse_the_file(tmp_path: Path, item: str) -> None:
    text = f'- item: "{item}"\n  justification: "x"\n  approver: "y"\n  expires: 2099-01-01\n'
    with pytest.raises(waivers.WaiverError, match="can never be waived"):
        waivers.load(write(tmp_path, text))


@pytest.mark.parametrize(
    "text",
    [
        "- item: 1.4.3\n",
        "{a: [",
        "just text",
        "- item: '1.4.3'\n  justification: x\n  approver: y\n  expires: someday\n",
        # an item id that names nothing (a typo, or an unquoted 1.4 read as a number) is no waiver in force
        "- item: '9.9.9'\n  justification: x\n  approver: y\n  expires: 2099-01-01\n",
        "- item: 1.4\n  justification: x\n  approver: y\n  expires: 2099-01-01\n",
        # one waiver per item
        "- item: '1.4.3'\n  justification: x\n  approver: y\n  expires: 2099-01-01\n"
        "- item: '1.4.3'\n  justification: z\n  approver: w\n  expires: 2099-02-01\n",
    ],
)
def test_malformed_files_are_refused_with_one_line(tmp_path: Path, text: str) -> None:
    with pytest.raises(waivers.WaiverError) as err:
        waivers.load(write(tmp_path, text))
    assert "\n" not in str(err.value)


def _waiver_file(tmp_path: Path, item: str, expires: str) -> Path:
    return write(
        tmp_path,
        f'- item: "{item}"\n  justification: "dashboards being migrated"\n'
        f'  approver: "Head of Trading Ops"\n  expires: {expires}\n',
    )


@pytest.mark.slow
def test_waived_failure_is_go_and_expired_waiver_blocks_again(tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    from tests.preflight_runner import preflight

    args = ("--no-html", "--sandbox-fault", "grafana_dashboards_missing", "-m", "section_1_4")
    run = preflight(
        tmp_path / "a", *args, "--waivers", str(_waiver_file(tmp_path, "1.4.3", "2099-01-01")), env=shared_pg_env
    )
    # scoped to one section: PARTIAL (exit 3), the best a selection can be
    assert run.exit_code == 3 and run.verdict is not None and run.verdict["verdict"] == "PARTIAL", run.output[-2000:]
    item = next(i for i in run.verdict["items"] if i["id"] == "1.4.3")
    assert item["status"] == "waived" and "dashboards being migrated" in item["reason"]
    assert "WAIVED" in run.output
    # every output says waived, with the justification: JUnit <skipped>, Allure skipped + tag, Cucumber skipped
    assert run.run_dir is not None
    junit = (run.run_dir / "junit.xml").read_text()
    assert 'name="1.4.3 Grafana dashboards"' in junit and 'type="waived"' in junit
    assert "dashboards being migrated" in junit
    allure = [json.loads(p.read_text()) for p in (run.run_dir / "allure-results").glob("*-result.json")]
    [waived] = [r for r in allure if any(lbl.get("value") == "waived" for lbl in r["labels"])]
    assert waived["status"] == "skipped" and "dashboards being migrated" in waived["statusDetails"]["message"]
    cucumber = (run.run_dir / "cucumber.json").read_text()
    assert '"waived"' in cucumber and "dashboards being migrated" in cucumber
    assert run.verdict["waivers"][0]["approver"]

    expired = preflight(
        tmp_path / "b", *args, "--waivers", str(_waiver_file(tmp_path, "1.4.3", "2020-01-01")), env=shared_pg_env
    )
    assert expired.exit_code == 1 and expired.verdict is not None and expired.verdict["verdict"] == "NO-GO"
    assert any("expired" in w for w in expired.verdict["warnings"])


def test_kill_switch_waiver_refuses_to_start(tmp_path: Path) -> None:
    from tests.preflight_runner import preflight

    run = preflight(tmp_path / "r", "--no-html", "--waivers", str(_waiver_file(tmp_path, "1.3.1", "2099-01-01")))
    assert run.exit_code == 2 and run.verdict is None and "can never be waived" in run.output


@pytest.mark.parametrize("item", ["sop.7.1", "sop.daily.4", "5.7.1", "1.3.1", "4.4.3", "7.5.1"])
def test_kill_switch_and_integrity_items_are_never_waivable(item: str) -> None:
    assert waivers.never_waivable(item)


def test_waivers_in_the_working_directory_are_not_loaded(tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    """Issue 15: ./waivers.yml once waived an item that broke only because Postgres was unreachable."""
    import subprocess
    import sys

    from tests.preflight_runner import REPO

    (tmp_path / "waivers.yml").write_text('- {item: "1.4.3", justification: "x", approver: "y", expires: 2099-01-01}\n')
    env = dict(shared_pg_env, PYTHONPATH=str(REPO))
    env.pop("OPSCHECK_WAIVERS", None)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "ops_checks.cli",
            "preflight",
            "--no-html",
            "--sandbox-fault",
            "grafana_dashboards_missing",
            "-m",
            "section_1_4",
            "--reports",
            str(tmp_path / "r"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "WAIVERS" not in r.stdout, r.stdout[-2000:]
    verdict = json.loads(next((tmp_path / "r").glob("*/verdict.json")).read_text())
    assert next(i for i in verdict["items"] if i["id"] == "1.4.3")["status"] == "failed"
    assert verdict["waivers"] == []


@pytest.mark.slow
def test_a_waiver_holds_for_the_items_resting_on_it(tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    """Issue 22 (done when): the Grafana fault with a waiver on 1.4.3 (the README's example) is GO: 1.4.3 waived,
    and 3.1.2 and the §3 transition drill (whose own preflight applies the run's waivers) passed."""
    from tests.preflight_runner import preflight

    waiver = _waiver_file(tmp_path, "1.4.3", "2099-01-01")
    run = preflight(
        tmp_path / "r",
        "--no-html",
        "--sandbox-fault",
        "grafana_dashboards_missing",
        "--waivers",
        str(waiver),
        env=shared_pg_env,
        timeout=900,
    )
    assert run.verdict is not None, run.output[-3000:]
    status = run.status_of()
    assert run.verdict["verdict"] == "GO" and run.exit_code == 0, run.output[-3000:]
    assert status["1.4.3"] == "waived" and run.verdict["causes"] == []
    assert status["3.1.2"] == "passed"
    assert {i: s for i, s in status.items() if i.startswith("3.3.")} == {f"3.3.{n}": "passed" for n in range(1, 11)}
    assert [i for i, s in status.items() if s != "passed"] == ["1.4.3"]
