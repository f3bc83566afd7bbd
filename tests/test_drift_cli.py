"""``opscheck drift``: the one-shot measurement against the sandbox's VALR simulator (and failures on live)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from ops_checks.cli.app import app

runner = CliRunner()
ESTIMATE = re.compile(r"^offset ([+-]\d+\.\d) ms ± (\d+\.\d) ms\s+rtt (\d+\.\d) ms\s+band (\w+)$", re.M)


def run(*args: str) -> tuple[int, str, tuple[Decimal, Decimal, Decimal, str] | None]:
    result = runner.invoke(app, ["drift", *args])
    m = ESTIMATE.search(result.output)
    parsed = (Decimal(m[1]), Decimal(m[2]), Decimal(m[3]), m[4]) if m else None
    return result.exit_code, result.output, parsed


def test_offset_1500_is_neutral() -> None:
    code, out, est = run("--sandbox-offset-ms", "1500")
    assert est is not None, out
    offset, bound, _, band = est
    assert band == "NEUTRAL" and abs(offset - 1500) <= 20 and bound < 20
    assert code == 1 and "NOT within the 1000 ms tolerance" in out


def test_slow_round_trip_with_zero_offset_is_not_drift() -> None:
    code, out, est = run("--sandbox-latency-ms", "400", "--samples", "3")
    assert est is not None, out
    offset, bound, rtt, band = est
    assert abs(offset) <= 20 and rtt >= 400 and bound >= 200 and band == "HEALTHY"
    assert code == 0 and "within the 1000 ms tolerance" in out


def test_negative_offset_and_samples_listed() -> None:
    code, out, est = run("--sandbox-offset-ms", "-700", "--samples", "4")
    assert est is not None and est[3] == "WARNING" and code == 0
    assert len(re.findall(r"^\d{19} ", out, re.M)) == 4


def test_live_unreachable_is_one_line_exit_2(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("VALR_BASE_URL=http://127.0.0.1:9\n")
    result = runner.invoke(app, ["drift", "--target", "live", "--env-file", str(env), "--samples", "1"])
    assert result.exit_code == 2 and "not measured" in result.output and "Traceback" not in result.output


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["drift", "--target", "moon"]).exit_code == 2
    assert runner.invoke(app, ["drift", "--env-file", str(tmp_path / "x")]).exit_code == 2
    assert runner.invoke(app, ["drift", "--target", "live", "--env-file", str(tmp_path / "missing")]).exit_code == 2


def test_the_tolerance_is_the_drift_threshold() -> None:
    """Issue 21 §9: ``opscheck drift`` judges with OPSCHECK_DRIFT_MAX_MS (the threshold 8.6.2 applies), not a
    hard-coded 1000 ms: lowered below any measurable bound, the same healthy clock fails."""
    result = runner.invoke(app, ["drift", "--samples", "2"], env={"OPSCHECK_DRIFT_MAX_MS": "0.001"})
    assert result.exit_code == 1, result.output
    assert "NOT within the 0.001 ms tolerance" in result.output
    raised = runner.invoke(
        app, ["drift", "--sandbox-offset-ms", "1500", "--samples", "2"], env={"OPSCHECK_DRIFT_MAX_MS": "5000"}
    )
    assert raised.exit_code == 0 and "within the 5000 ms tolerance" in raised.output


def test_the_report_names_the_tolerance_it_judged_by() -> None:
    from ops_checks.access.clock import OffsetEstimate
    from ops_checks.cli import drift as drift_cli

    est = OffsetEstimate(Decimal(2), Decimal("0.5"), Decimal(1), ())  # |offset| up to 2.5 ms
    assert "NOT within the 1 ms tolerance" in drift_cli.report(est, Decimal(1))
    assert "within the 1000 ms tolerance" in drift_cli.report(est) and "NOT" not in drift_cli.report(est)


def test_a_malformed_tolerance_is_exit_2(tmp_path: Path) -> None:
    for target in ("sandbox", "live"):
        result = runner.invoke(app, ["drift", "--target", target], env={"OPSCHECK_DRIFT_MAX_MS": "1e-999999"})
        assert result.exit_code == 2 and "OPSCHECK_DRIFT_MAX_MS='1e-999999'" in result.output, result.output
    env = tmp_path / ".env"
    env.write_text("VALR_BASE_URL=http://127.0.0.1:9\nOPSCHECK_DRIFT_MAX_MS=NaN\n")
    result = runner.invoke(app, ["drift", "--target", "live", "--env-file", str(env)])
    assert result.exit_code == 2 and "OPSCHECK_DRIFT_MAX_MS='NaN': not a finite number" in result.output
