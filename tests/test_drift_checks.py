"""The §8 checks on their own: a hand-built target around the VALR simulator, log files, stand-in NTP tools
and a loopback metrics endpoint. Every failure is a one-line reason; rejections carry VALR's code and message."""

from __future__ import annotations

import dataclasses
import http.server
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ops_checks.checks.s8_clock_drift import drift, drift_logs, drift_metrics, ntp, signed_request
from ops_checks.core.redaction import Redactor
from ops_checks.core.secret import Secret
from ops_checks.sandbox import ntp_host
from ops_checks.sandbox.valr_sim import ValrSimulator
from ops_checks.target.clock import CRITICAL, WARNING
from ops_checks.target.config import DbParams, Target, Thresholds

KEY, SECRET = "k" * 64, "s" * 64


def make_target(tmp_path: Path, sim: ValrSimulator | None = None, **env: str) -> Target:
    sim = sim or ValrSimulator(KEY, SECRET)
    log_dir = tmp_path / "logs"
    log_dir.mkdir(exist_ok=True)
    return Target(
        name="test",
        db=DbParams("127.0.0.1", 1, "x", "x", Secret("")),
        bot_api_url="http://127.0.0.1:9",
        metrics_url=env.pop("METRICS_URL", "http://127.0.0.1:9/metrics"),
        grafana_url="http://127.0.0.1:9",
        log_dir=log_dir,
        valr_base_url=sim.base_url,
        env={"VALR_API_KEY": KEY, "VALR_API_SECRET": SECRET, **env},
        redactor=Redactor([Secret(KEY), Secret(SECRET)]),
        thresholds=Thresholds(log_window_s=300, log_fresh_s=2),
        valr_transport=sim.transport(),
    )


def one_line(result: Any) -> str:
    assert "\n" not in result.reason and "Traceback" not in result.reason and SECRET not in result.reason
    return str(result.reason)


# -- measurement and bands ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("offset", [1500, -1500])
def test_offset_beyond_tolerance_fails_the_drift_item_only(tmp_path: Path, offset: int) -> None:
    sim = ValrSimulator(KEY, SECRET)
    sim.clock_offset_ms = offset
    t = make_target(tmp_path, sim)
    m = drift.measure(t)
    assert m.estimate is not None and abs(abs(m.estimate.offset_ms) - 1500) <= 20
    assert not drift.offset_within_tolerance(t, m).ok
    assert "reaches the 1000 ms tolerance" in one_line(drift.offset_within_tolerance(t, m))
    assert "item 8.6.2" in (drift.beyond_tolerance(t, m) or "")
    assert drift.band_unambiguous(m).ok  # NEUTRAL, unambiguously
    assert drift.outside_band(m, WARNING).ok and drift.outside_band(m, CRITICAL).ok


@pytest.mark.parametrize(("offset", "band"), [(700, WARNING), (-900, CRITICAL)])
def test_warning_and_critical_bands(tmp_path: Path, offset: int, band: str) -> None:
    sim = ValrSimulator(KEY, SECRET)
    sim.clock_offset_ms = offset
    t = make_target(tmp_path, sim)
    m = drift.measure(t)
    assert drift.offset_within_tolerance(t, m).ok and drift.beyond_tolerance(t, m) is None
    result = drift.outside_band(m, band)
    assert not result.ok and "band" in one_line(result)
    other = CRITICAL if band == WARNING else WARNING
    assert drift.outside_band(m, other).ok


def test_slow_exchange_with_zero_offset_passes(tmp_path: Path) -> None:
    """RTT 400 ms, true offset 0: not reported as drift beyond its bound (the issue's required case)."""
    sim = ValrSimulator(KEY, SECRET)
    sim.latency_up_ms = sim.latency_down_ms = 200
    t = make_target(tmp_path, sim)
    m = drift.measure(t, samples=3)
    assert m.estimate is not None and abs(m.estimate.offset_ms) <= 20 and m.estimate.rtt_ms >= 400
    assert drift.offset_within_tolerance(t, m).ok
    assert drift.band_unambiguous(m).ok
    assert drift.outside_band(m, WARNING).ok


def test_too_slow_to_place_in_a_band(tmp_path: Path) -> None:
    sim = ValrSimulator(KEY, SECRET)
    sim.latency_up_ms = sim.latency_down_ms = 550
    t = make_target(tmp_path, sim)
    m = drift.measure(t, samples=1)
    assert drift.offset_within_tolerance(t, m).ok
    result = drift.band_unambiguous(m)
    assert not result.ok and "HEALTHY/WARNING" in one_line(result)


@pytest.mark.parametrize(
    ("knob", "value", "reason"),
    [
        ("fail", {"/v1/public/time": 503}, "HTTP 503"),
        ("malformed", {"/v1/public/time"}, "malformed JSON"),
        ("hang", {"/v1/public/time"}, "timed out"),
        ("omit_fields", {"/v1/public/time": {"time", "epochTime"}}, "unexpected response shape"),
    ],
)
def test_unreadable_exchange_time(tmp_path: Path, knob: str, value: object, reason: str) -> None:
    sim = ValrSimulator(KEY, SECRET)
    setattr(sim, knob, value)
    t = make_target(tmp_path, sim)
    reach = drift.exchange_time_reachable(t)
    assert not reach.ok and reason in one_line(reach)
    m = drift.measure(t)
    assert m.estimate is None and reason in (drift.time_unavailable(m) or "")
    for result in (drift.offset_within_tolerance(t, m), drift.band_unambiguous(m), drift.outside_band(m, WARNING)):
        assert not result.ok and reason in one_line(result)


def test_epoch_time_only_is_reachable_but_coarse(tmp_path: Path) -> None:
    sim = ValrSimulator(KEY, SECRET)
    sim.omit_fields = {"/v1/public/time": {"time"}}
    t = make_target(tmp_path, sim)
    reach = drift.exchange_time_reachable(t)
    assert reach.ok and "epochTime(s)" in reach.observed and "coarse" in reach.observed
    m = drift.measure(t, samples=2)
    assert m.estimate is not None and m.estimate.bound_ms >= 500


# -- 8.6.5 signed request -------------------------------------------------------------------------------------------
def test_signed_request_accepted(tmp_path: Path) -> None:
    result = signed_request.signed_request_accepted(make_target(tmp_path))
    assert result.ok and "HTTP 200" in result.observed
    http_log = result.evidence[0].content
    assert "x-valr-timestamp" in http_log.lower() and SECRET not in http_log and KEY not in http_log


def test_invalid_signature_reported_with_valr_code_and_message(tmp_path: Path) -> None:
    t = make_target(tmp_path)
    t.env = {**t.env, "VALR_API_SECRET": "0" * 64}
    result = signed_request.signed_request_accepted(t)
    reason = one_line(result)
    assert not result.ok and reason.startswith("invalid signature")
    assert "code -11252" in reason and "Request has an invalid signature" in reason and "0" * 64 not in reason


def test_timestamp_outside_window_reported_as_such(tmp_path: Path) -> None:
    sim = ValrSimulator(KEY, SECRET)
    sim.clock_offset_ms = 3000
    result = signed_request.signed_request_accepted(make_target(tmp_path, sim))
    reason = one_line(result)
    assert not result.ok and reason.startswith("timestamp rejected") and "code -99001" in reason
    assert "outside the 1000 ms window" in reason


def test_signed_request_without_secrets(tmp_path: Path) -> None:
    t = make_target(tmp_path)
    t.env = {}
    assert "not set" in one_line(signed_request.signed_request_accepted(t))


# -- 8.6.3 NTP ------------------------------------------------------------------------------------------------------
def _tool(bin_dir: Path, name: str, output: str, rc: int = 0) -> None:
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / f"{name}.out").write_text(output)
    exe = bin_dir / name
    exe.write_text(f'#!/bin/sh\ncat "$(dirname "$0")/{name}.out"\nexit {rc}\n')
    exe.chmod(0o755)


def test_sandbox_ntp_stand_in(tmp_path: Path) -> None:
    bin_dir = ntp_host.install(tmp_path)
    t = make_target(tmp_path, NTP_TOOLS_PATH=str(bin_dir))
    assert ntp.tool_missing(t) is None and ntp.ntp_synchronized(t).ok
    ntp_host.set_synchronized(bin_dir, False)
    result = ntp.ntp_synchronized(t)
    assert not result.ok and "System clock synchronized: no" in one_line(result)


def test_no_ntp_tool_is_not_verified(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    t = make_target(tmp_path, NTP_TOOLS_PATH=str(tmp_path / "empty"))
    problem = ntp.tool_missing(t)
    assert problem and problem.startswith("no NTP tool on this host") and "timedatectl: not installed" in problem
    assert not ntp.ntp_synchronized(t).ok


def test_timedatectl_without_systemd_falls_back_to_chronyc(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    _tool(bin_dir, "timedatectl", "System has not been booted with systemd as init system (PID 1).", rc=1)
    _tool(
        bin_dir,
        "chronyc",
        "Reference ID    : A9FEA97B\nSystem time     : 0.000012 seconds fast of NTP time\nLeap status     : Normal\n",
    )
    t = make_target(tmp_path, NTP_TOOLS_PATH=str(bin_dir))
    result = ntp.ntp_synchronized(t)
    assert result.ok and result.observed.startswith("chronyc: Leap status: Normal")
    _tool(bin_dir, "chronyc", "Reference ID    : 00000000 ()\nLeap status     : Not synchronised\n")
    assert not ntp.ntp_synchronized(t).ok


def test_ntpq_system_peer(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    header = "     remote           refid      st t when poll reach   delay   offset  jitter\n" + "=" * 78 + "\n"
    _tool(bin_dir, "ntpq", header + "*192.168.1.1     .GPS.   1 u   33   64  377    0.234    0.012   0.004\n")
    t = make_target(tmp_path, NTP_TOOLS_PATH=str(bin_dir))
    assert ntp.ntp_synchronized(t).observed == "ntpq: system peer 192.168.1.1"
    _tool(bin_dir, "ntpq", header + " 192.168.1.1     .INIT.  16 u    -   64    0    0.000    0.000   0.000\n")
    assert "none selected" in one_line(ntp.ntp_synchronized(t))


# -- 8.6.4 / 8.7.4 bot log lines ------------------------------------------------------------------------------------
def write_log(t: Target, *lines: tuple[float, str]) -> None:
    """Lines as (seconds ago, message), in the reference bot's format."""
    now = datetime.now(UTC)
    text = "".join(
        f"{(now - timedelta(seconds=ago)).strftime('%Y-%m-%dT%H:%M:%S.%f')}Z INFO {msg}\n" for ago, msg in lines
    )
    (t.log_dir / "bot.log").write_text(text)


def measured(t: Target, offset: int) -> drift.Measurement:
    sim = ValrSimulator(KEY, SECRET)
    sim.clock_offset_ms = offset
    return drift.measure(make_target(t.log_dir.parent, sim), samples=3)


def test_time_sync_logs_ok(tmp_path: Path) -> None:
    t = make_target(tmp_path)
    write_log(
        t,
        (30, "[TIME_SYNC] drift_ms=3 is_within_tolerance=True"),
        (1, "[TIME_SYNC] drift_ms=2 is_within_tolerance=True"),
    )
    assert drift_logs.time_sync_logs_ok(t).ok
    assert drift_logs.neutral_guard(t, measured(t, 0)).ok


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        (
            [
                (60, "[EXCHANGE_TIME_DRIFT] drift_ms=1523 NEUTRAL state triggered"),
                (1, "[TIME_SYNC] drift_ms=2 is_within_tolerance=True"),
            ],
            "[EXCHANGE_TIME_DRIFT] line",
        ),
        ([(1, "[TIME_SYNC] failure ConnectError: refused")], "latest time sync failed"),
        ([(40, "[TIME_SYNC] drift_ms=2 is_within_tolerance=True")], "last time sync was"),
        ([(1000, "[TIME_SYNC] drift_ms=2 is_within_tolerance=True")], "no [TIME_SYNC] line"),
        ([(1, "[TIME_SYNC] drift_ms=NaN is_within_tolerance=True")], "latest time sync failed"),
        # the real bot's own line (its synchroniser's DEBUG log): named beside the runbook's tag
        (
            [(1, "Exchange time sync: drift_ms=12")],
            "runbook §8.2 expects [TIME_SYNC] lines; the bot logged no [TIME_SYNC] line in the last 300 s "
            "(the bot writes 1 'Exchange time sync: drift_ms=…' line(s) instead)",
        ),
        ([], "nor its own 'Exchange time sync: drift_ms=…' line"),
    ],
)
def test_time_sync_logs_fail(tmp_path: Path, lines: list[tuple[float, str]], reason: str) -> None:
    t = make_target(tmp_path)
    write_log(t, *lines)
    result = drift_logs.time_sync_logs_ok(t)
    assert not result.ok and reason in one_line(result)


def test_time_sync_logs_missing_dir(tmp_path: Path) -> None:
    t = make_target(tmp_path)
    t.log_dir = tmp_path / "nowhere"
    assert "does not exist" in one_line(drift_logs.time_sync_logs_ok(t))


def test_neutral_guard_beyond_tolerance_consistent(tmp_path: Path) -> None:
    t = make_target(tmp_path)
    write_log(
        t,
        (0.5, "[TIME_SYNC] drift_ms=-1500 is_within_tolerance=False"),
        (0.5, "[EXCHANGE_TIME_DRIFT] drift_ms=-1500 NEUTRAL state triggered"),
    )
    result = drift_logs.neutral_guard(t, measured(t, 1500))
    assert result.ok and "bot NEUTRAL" in result.reason


@pytest.mark.parametrize(
    ("offset", "lines", "reason"),
    [
        (0, [(1, "[TIME_SYNC] drift_ms=600 is_within_tolerance=True")], "disagrees with the measured offset"),
        (0, [(1, "[TIME_SYNC] drift_ms=-900 is_within_tolerance=False")], "does not use the 1000 ms threshold"),
        (1500, [(1, "[TIME_SYNC] drift_ms=-1500 is_within_tolerance=False")], "without NEUTRAL"),
        (1500, [(1, "[TIME_SYNC] drift_ms=-1500 is_within_tolerance=True")], "does not use the 1000 ms threshold"),
        (0, [(1, "[TIME_SYNC] failure HTTP 503")], "no [TIME_SYNC] drift reading"),
    ],
)
def test_neutral_guard_fails(tmp_path: Path, offset: int, lines: list[tuple[float, str]], reason: str) -> None:
    t = make_target(tmp_path)
    write_log(t, *lines)
    result = drift_logs.neutral_guard(t, measured(t, offset))
    assert not result.ok and reason in one_line(result)


# -- 8.5 metrics ----------------------------------------------------------------------------------------------------
class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, str]] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        status, body = self.routes.get(self.path.split("?")[0], (404, "not found"))
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def served() -> Iterator[tuple[str, dict[str, tuple[int, str]]]]:
    routes: dict[str, tuple[int, str]] = {}
    handler = type("H", (_Handler,), {"routes": routes})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", routes
    finally:
        server.shutdown()
        server.server_close()


def metrics_text(
    gauge: float | None = 12, exceeded: float = 0, failures: float = 0, created: float | None = None
) -> str:
    created = time.time() - 60 if created is None else created
    text = ""
    if gauge is not None:
        text += (
            f"# HELP exchange_clock_drift_ms d\n# TYPE exchange_clock_drift_ms gauge\nexchange_clock_drift_ms {gauge}\n"
        )
    for name, value in (("exchange_clock_drift_exceeded", exceeded), ("exchange_time_sync_failures", failures)):
        text += f"# HELP {name} c\n# TYPE {name} counter\n{name}_total {value}\n{name}_created {created}\n"
    return text


def test_metrics_healthy(tmp_path: Path, served: tuple[str, dict[str, tuple[int, str]]]) -> None:
    base, routes = served
    routes["/metrics"] = (200, metrics_text())
    t = make_target(tmp_path, METRICS_URL=f"{base}/metrics")
    assert drift_metrics.drift_gauge_ok(t).ok
    assert drift_metrics.drift_exceeded_not_increased(t).ok
    assert drift_metrics.sync_failures_not_increased(t).ok


@pytest.mark.parametrize(
    ("body", "check", "reason"),
    [
        (metrics_text(gauge=None), "drift_gauge_ok", "the bot exports no exchange_clock_drift_ms (it exports"),
        (metrics_text(gauge=-1500), "drift_gauge_ok", "beyond the 1000 ms tolerance"),
        (metrics_text(exceeded=2), "drift_exceeded_not_increased", "increased by 2 in the last 3600 s"),
        (metrics_text(failures=1), "sync_failures_not_increased", "increased by 1"),
        (metrics_text(exceeded=2, created=time.time() - 7200), "drift_exceeded_not_increased", "set PROMETHEUS_URL"),
        ("exchange_clock_drift_ms{ 12\n", "drift_gauge_ok", "not valid Prometheus text"),
    ],
)
def test_metrics_fail(
    tmp_path: Path, served: tuple[str, dict[str, tuple[int, str]]], body: str, check: str, reason: str
) -> None:
    base, routes = served
    routes["/metrics"] = (200, body)
    t = make_target(tmp_path, METRICS_URL=f"{base}/metrics")
    result = getattr(drift_metrics, check)(t)
    assert not result.ok and reason in one_line(result)


def test_metrics_5xx_and_unreachable(tmp_path: Path, served: tuple[str, dict[str, tuple[int, str]]]) -> None:
    base, routes = served
    routes["/metrics"] = (500, "boom")
    t = make_target(tmp_path, METRICS_URL=f"{base}/metrics")
    assert "HTTP 500" in one_line(drift_metrics.drift_gauge_ok(t))
    t = make_target(tmp_path, METRICS_URL="http://127.0.0.1:9/metrics")
    assert not drift_metrics.drift_exceeded_not_increased(t).ok


@pytest.mark.parametrize(("increase", "ok"), [("0", True), ("3", False)])
def test_old_counter_asks_prometheus(
    tmp_path: Path, served: tuple[str, dict[str, tuple[int, str]]], increase: str, ok: bool
) -> None:
    base, routes = served
    routes["/metrics"] = (200, metrics_text(exceeded=5, created=time.time() - 86400))
    routes["/api/v1/query"] = (
        200,
        json.dumps(
            {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, increase]}]}}
        ),
    )
    t = make_target(tmp_path, METRICS_URL=f"{base}/metrics", PROMETHEUS_URL=base)
    result = drift_metrics.drift_exceeded_not_increased(t)
    assert result.ok is ok and f"= {increase}" in result.observed


def test_agreement_allowance_is_the_validated_setting(tmp_path: Path) -> None:
    """Read from the thresholds (validated once, exit 2 when malformed), never re-parsed from the target's env."""
    assert drift.agreement_allowance_ms(make_target(tmp_path, OPSCHECK_DRIFT_AGREEMENT_MS="x")) == Decimal(250)
    t = dataclasses.replace(
        make_target(tmp_path), thresholds=Thresholds.from_env({"OPSCHECK_DRIFT_AGREEMENT_MS": "40"})
    )
    assert drift.agreement_allowance_ms(t) == Decimal(40)
