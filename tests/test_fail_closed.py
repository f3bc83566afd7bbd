"""Issues 13 §3 and 21 §4: checks that read the bot or the exchange fail closed on anything they do not understand.

A loopback HTTP server (a real socket, as the bot would be) answers every path with a hostile payload that
hypothesis generates: NaN, Infinity, lowercase or padded modes, wrong types, nesting, junk text. VALR's answers
come through the exchange transport. Whatever the payload, none of these checks may pass.

Issue 21: every numeric and boolean field a check reads (the bot's metrics, its /health, VALR's amounts, the
database's settings, ages and counts) is fed, one at a time into an otherwise healthy answer, with NaN, ±Inf,
null, a negative, a huge value, a bool, a list or a string. First the healthy answer must pass (so a failure is
the bad value's doing), then no check that reads the field may pass.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ops_checks.access import botapi
from ops_checks.access.config import Target, live_target
from ops_checks.checks.s1_preconditions import exchange, infra, monitoring
from ops_checks.checks.s3_transition import transition_gate
from ops_checks.checks.s8_clock_drift import drift
from ops_checks.core import readings
from ops_checks.core.result import Evidence
from ops_checks.sandbox.postgres import free_port
from ops_checks.sandbox.sop_env import declared_sources

STATE: dict[str, Any] = {"body": b"{}", "type": "application/json"}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = STATE["body"]
        self.send_response(200)
        self.send_header("Content-Type", STATE["type"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}"
    env = {
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(free_port()),
        "DB_PASSWORD": "x" * 32,
        "BOT_API_URL": url,
        "METRICS_URL": f"{url}/metrics",
        "VALR_BASE_URL": "https://api.valr.com",
        "VALR_API_KEY": "k" * 64,
        "VALR_API_SECRET": "s" * 64,
        "EXECUTION_MODE": "DRY_RUN",
        "LOG_DIR": str(tmp_path_factory.mktemp("logs")),
        **declared_sources(),
    }  # the SOP figures' sources, declared as the sandbox declares its bot's
    t = live_target(env, allow_mutations=False)
    t = dataclasses.replace(
        t,
        valr_transport=httpx.MockTransport(
            lambda r: httpx.Response(200, content=STATE["body"], headers={"content-type": STATE["type"]})
        ),
    )
    yield t
    srv.shutdown()


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "",
            "live",
            "dry_run",
            " LIVE",
            "LIVE ",
            "NaN",
            "nan",
            "Infinity",
            "-1",
            "1e309",
            "null",
            "HEALTHY",
            "healthy ",
            "connected ",
            "0x10",
            "5000.5",
            "\u0000",
            "∞",
        ]
    ),
    st.text(max_size=20),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
KEYS = st.sampled_from(
    [
        "status",
        "database",
        "execution_mode",
        "components",
        "time",
        "epochTime",
        "balance",
        "currency",
        "available",
        "system_locked",
    ]
)
PAYLOADS = st.one_of(
    st.dictionaries(KEYS, VALUES, min_size=1, max_size=5),
    st.dictionaries(KEYS, st.dictionaries(KEYS, VALUES, max_size=3), min_size=1, max_size=3),
    st.lists(VALUES, max_size=4),
    VALUES,
)


def _encode(payload: Any) -> bytes:
    return json.dumps(payload, allow_nan=True, default=str).encode()


def _valid_health(p: Any) -> bool:
    return isinstance(p, dict) and p.get("status") == "healthy" and p.get("database") == "connected"


def _reports_a_valid_mode(p: Any) -> bool:
    def mode_in(d: Any) -> bool:
        return isinstance(d, dict) and d.get("execution_mode") in ("LIVE", "DRY_RUN")

    return mode_in(p) or (isinstance(p, dict) and mode_in(p.get("components")))


def _reports_no_mode(p: Any) -> bool:
    def has(d: Any) -> bool:
        return isinstance(d, dict) and d.get("execution_mode") is not None

    return not (has(p) or (isinstance(p, dict) and has(p.get("components"))))


COMMON = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@COMMON
@given(payload=PAYLOADS)
def test_health_check_fails_closed(target: Target, payload: Any) -> None:
    STATE.update(body=_encode(payload), type="application/json")
    result = infra.api_health(target)
    assert result.ok is _valid_health(payload), (payload, result.reason)


@COMMON
@given(payload=PAYLOADS)
def test_execution_mode_fails_closed(target: Target, payload: Any) -> None:
    """Only an exact LIVE/DRY_RUN from the bot counts; a payload without a mode leaves the env file's."""
    STATE.update(body=_encode(payload), type="application/json")
    got = botapi.execution_mode(target)
    if isinstance(got, str):
        assert _reports_a_valid_mode(payload), (payload, got)
    mode = transition_gate.execution_mode(target)
    if mode.value is not None:
        assert _reports_a_valid_mode(payload) or _reports_no_mode(payload), (payload, mode.reason)


@COMMON
@given(payload=PAYLOADS)
def test_exchange_checks_fail_closed(target: Target, payload: Any) -> None:
    STATE.update(body=_encode(payload), type="application/json")
    for check in (
        exchange.valr_reachable,
        exchange.api_key_valid,
        exchange.balance_readable,
        drift.exchange_time_reachable,
    ):
        result = check(target)
        assert not result.ok, (check.__name__, payload, result.reason)


@COMMON
@given(
    text=st.one_of(
        st.text(max_size=200),
        st.sampled_from(
            [
                "exchange_clock_drift_ms NaN",
                "exchange_clock_drift_ms +Inf",
                "trade_signals_received_total{} abc",
                '# TYPE x gauge\nx{a="1"} 1e999',
                "\x00\x01\x02",
            ]
        ),
    )
)
def test_metrics_check_fails_closed_on_junk(target: Target, text: str) -> None:
    STATE.update(body=text.encode("utf-8", "replace"), type="text/plain")
    result = monitoring.metrics_respond(target)
    assert not result.ok, (text, result.reason)


def test_nan_and_lowercase_live_never_pass(target: Target) -> None:
    for payload in (
        {"execution_mode": math.nan},
        {"execution_mode": "live"},
        {"execution_mode": " LIVE"},
        {"components": {"execution_mode": "dry_run"}},
    ):
        STATE.update(body=_encode(payload), type="application/json")
        assert not isinstance(botapi.execution_mode(target), str), payload
        assert transition_gate.execution_mode(target).value is None, payload


def test_health_without_a_database_state_never_passes(target: Target) -> None:
    for payload in (
        {"status": "healthy", "database": None},
        {"status": "healthy"},
        {"status": "healthy", "database": True},
        {"status": "healthy", "database": ["connected"]},
        {"status": "healthy", "database": "connected "},
    ):
        STATE.update(body=_encode(payload), type="application/json")
        result = infra.api_health(target)
        assert not result.ok and "database" in result.reason and "\n" not in result.reason, payload
    STATE.update(body=_encode({"status": "healthy", "database": "connected"}), type="application/json")
    assert infra.api_health(target).ok


# ================================================================ issue 21: every field, one bad value at a time
NAN, INF = math.nan, math.inf
SIM_KEY, SIM_SECRET = "a" * 64, "b" * 64


def _prom(value: float) -> str:
    """A float in the Prometheus text format."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


# the SOP observables, the runbook's drift metrics and the real bot's equity gauge, at values a healthy bot shows
HEALTHY_METRICS: dict[str, float] = {
    "market_data_age_seconds": 0.4,
    "trading_reduce_only": 0.0,
    "websocket_disconnects_last_hour": 1.0,
    "websocket_downtime_seconds": 0.0,
    "websocket_connected": 1.0,
    'exchange_request_latency_ms{quantile="0.5"}': 40.0,
    'exchange_request_latency_ms{quantile="0.95"}': 80.0,
    'exchange_request_latency_ms{quantile="0.99"}': 120.0,
    "exchange_clock_drift_ms": -3.0,
    "exchange_clock_drift_exceeded_total": 0.0,
    "exchange_time_sync_failures_total": 0.0,
    "equity_zar_gauge": 100000.0,  # the simulator's ZAR total
}

# what each value is: a 0/1 flag, a signed reading (a drift), or (the rest) a finite reading >= 0
FLAG_METRICS = {"trading_reduce_only", "websocket_connected"}
SIGNED_METRICS = {"exchange_clock_drift_ms"}


def _metric_readers() -> dict[str, list[Callable[[Target], Any]]]:
    from ops_checks.checks.s8_clock_drift import drift_metrics
    from ops_checks.checks.sop import feed, latency, prevention

    return {
        "market_data_age_seconds": [
            feed.stale_blocks_entries,
            feed.stale_activates_kill_switch,
            feed.staleness_observable,
        ],
        "trading_reduce_only": [feed.stale_blocks_entries, feed.feed_down_blocks_entries, feed.staleness_observable],
        "websocket_disconnects_last_hour": [feed.disconnects_not_in_warning_band, feed.disconnects_below_critical],
        "websocket_downtime_seconds": [feed.downtime_within_limit],
        "websocket_connected": [feed.downtime_within_limit, feed.feed_down_blocks_entries],
        'exchange_request_latency_ms{quantile="0.5"}': [prevention.latency_metric_exported],
        'exchange_request_latency_ms{quantile="0.95"}': [prevention.latency_metric_exported, latency.p95_within_limit],
        'exchange_request_latency_ms{quantile="0.99"}': [prevention.latency_metric_exported],
        "exchange_clock_drift_ms": [drift_metrics.drift_gauge_ok],
        "exchange_clock_drift_exceeded_total": [drift_metrics.drift_exceeded_not_increased],
        "exchange_time_sync_failures_total": [drift_metrics.sync_failures_not_increased],
        "equity_zar_gauge": [exchange.balance_readable],
    }


def _metrics_text(**changed: float) -> bytes:
    values = HEALTHY_METRICS | {k.replace("__", ""): v for k, v in changed.items()}
    return "".join(f"{name} {_prom(v)}\n" for name, v in values.items()).encode()


class _Tamper(httpx.BaseTransport):
    """The VALR simulator, with one JSON answer rewritten (``edits[path](data)``) on its way back."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.edits: dict[str, Callable[[Any], None]] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        resp = self.inner.handle_request(request)
        edit = self.edits.get(request.url.path)
        if edit is None:
            return resp
        data = json.loads(resp.read())
        edit(data)
        return httpx.Response(resp.status_code, content=_encode(data), headers={"content-type": "application/json"})


@pytest.fixture(scope="module")
def healthy(target: Target) -> Iterator[tuple[Target, _Tamper]]:
    """The loopback bot (metrics from STATE) in front of a VALR simulator with one resting order."""
    from ops_checks.checks.s1_preconditions.exchange import client
    from ops_checks.core.http import Recorder
    from ops_checks.sandbox.valr_sim import ValrSimulator

    sim = ValrSimulator(SIM_KEY, SIM_SECRET)
    tamper = _Tamper(sim.transport())
    env = {
        **target.env,
        "VALR_API_KEY": SIM_KEY,
        "VALR_API_SECRET": SIM_SECRET,
        "PERPETUAL_PAIRS": "BTCUSDTPERP",
        "MAX_ORDER_ZAR": "5000",
        "MAX_RISK_ZAR": "5000",
        "ZAR_FLOOR": "20000",
    }
    t = dataclasses.replace(target, env=env, valr_base_url=sim.base_url, valr_transport=tamper)
    client(t, Recorder(t.redactor)).place_limit_order("BTCZAR", "BUY", Decimal("0.0001"), Decimal("1000000"))
    yield t, tamper


BAD_READING = st.one_of(
    st.sampled_from([NAN, INF, -INF, 1e13, 1e300]), st.floats(max_value=-1e-300, allow_nan=False, allow_infinity=False)
)
BAD_SIGNED = st.sampled_from([NAN, INF, -INF, 1e13, -1e13, 1e300, -1e300])
BAD_FLAG = st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: v not in (0.0, 1.0))


def _bad_metric_values(name: str) -> st.SearchStrategy[float]:
    return BAD_FLAG if name in FLAG_METRICS else BAD_SIGNED if name in SIGNED_METRICS else BAD_READING


def test_the_healthy_metrics_pass(healthy: tuple[Target, _Tamper]) -> None:
    """The baseline: every check below passes on it, so each failure later is the bad value's doing."""
    t, _ = healthy
    STATE.update(body=_metrics_text(), type="text/plain")
    for name, checks in _metric_readers().items():
        for check in checks:
            result = check(t)
            assert result.ok, (name, check.__name__, result.reason)


@COMMON
@given(data=st.data())
def test_no_check_passes_on_an_impossible_metric(healthy: tuple[Target, _Tamper], data: st.DataObject) -> None:
    t, _ = healthy
    name = data.draw(st.sampled_from(sorted(HEALTHY_METRICS)), label="metric")
    value = data.draw(_bad_metric_values(name), label="value")
    STATE.update(body=_metrics_text(**{name: value}), type="text/plain")
    for check in _metric_readers()[name]:
        result = check(t)
        assert not result.ok, (name, value, check.__name__, result.reason)
        assert "\n" not in result.reason and "Traceback" not in result.reason


def test_market_data_age_minus_inf_fails_sop_8_1_and_8_2(healthy: tuple[Target, _Tamper]) -> None:
    """The probe's reproduction: ``market_data_age_seconds -Inf`` passed ``age > limit``."""
    from ops_checks.checks.sop import feed

    t, _ = healthy
    STATE.update(body=_metrics_text(market_data_age_seconds=-INF), type="text/plain")
    for check in (feed.stale_blocks_entries, feed.stale_activates_kill_switch):
        result = check(t)
        assert not result.ok and result.reason == "market_data_age_seconds is -inf: not a finite number", result.reason


# -- JSON fields of the exchange (VALR sends amounts as strings) ------------------------------------------------------
BAD_JSON_NUMBER = st.one_of(
    st.sampled_from(
        [
            None,
            True,
            False,
            NAN,
            INF,
            -INF,
            "NaN",
            "Infinity",
            "-1",
            "-0.5",
            "٣",
            "1_000",
            "0x10",
            " 5",
            "1e999",
            "",
            "5 000",
            1e300,
            -5,
            10**20,
            [],
            {},
            ["1"],
            {"value": "1"},
        ]
    ),
    st.text(max_size=8).filter(lambda s: readings.decimal_text(s) is None),  # any text but a plain number
)
BAD_JSON_FLAG = st.sampled_from([None, 0, 1, "true", "false", NAN, [], {}, "True"])


def _valr_fields() -> list[tuple[str, str, Callable[[Any, Any], None], Callable[[Target], Any]]]:
    """(path, field, set the field to a value in the answer, the check that reads it)."""
    from ops_checks.checks.sop import funding, prevention

    def balance(key: str) -> Callable[[Any, Any], None]:
        def put(data: Any, v: Any) -> None:
            next(b for b in data if b["currency"] == "ZAR")[key] = v

        return put

    def order(key: str) -> Callable[[Any, Any], None]:
        def put(data: Any, v: Any) -> None:
            data[0][key] = v

        return put

    def rate(data: Any, v: Any) -> None:
        data[0]["fundingRate"] = v

    def sub_account(data: Any, v: Any) -> None:
        data["isSubAccount"] = v

    return [
        ("/v1/account/balances", "total", balance("total"), exchange.balance_readable),
        ("/v1/account/balances", "available", balance("available"), exchange.balance_readable),
        ("/v1/account/balances", "reserved", balance("reserved"), exchange.balance_readable),
        ("/v1/orders/open", "price", order("price"), prevention.resting_orders_within_risk),
        ("/v1/orders/open", "remainingQuantity", order("remainingQuantity"), prevention.resting_orders_within_risk),
        ("/v1/public/futures/funding/history", "fundingRate", rate, funding.funding_within_limit),
        ("/v1/account/api-keys/current", "isSubAccount", sub_account, exchange.api_key_valid),
    ]


def test_the_healthy_exchange_passes(healthy: tuple[Target, _Tamper]) -> None:
    t, tamper = healthy
    STATE.update(body=_metrics_text(), type="text/plain")
    tamper.edits.clear()
    for path, name, _, check in _valr_fields():
        result = check(t)
        assert result.ok, (path, name, check.__name__, result.reason)


@COMMON
@given(data=st.data())
def test_no_check_passes_on_an_impossible_exchange_value(healthy: tuple[Target, _Tamper], data: st.DataObject) -> None:
    t, tamper = healthy
    STATE.update(body=_metrics_text(), type="text/plain")
    path, name, put, check = data.draw(st.sampled_from(_valr_fields()), label="field")
    value = data.draw(BAD_JSON_FLAG if name == "isSubAccount" else BAD_JSON_NUMBER, label="value")
    tamper.edits = {path: lambda d: put(d, value)}
    try:
        result = check(t)
    finally:
        tamper.edits = {}
    assert not result.ok, (path, name, value, result.reason)
    assert "\n" not in result.reason and "Traceback" not in result.reason


# -- the database: settings, ages, counts (a fake connection answers one crafted row) -------------------------------
class _FakeDb:
    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        self.log = SimpleNamespace(evidence=lambda: Evidence("SQL", "(crafted row)"))

    def one(self, *args: object, **kwargs: object) -> dict[str, Any]:
        return self.row

    def rows(self, *args: object, **kwargs: object) -> list[dict[str, Any]]:
        return [self.row]


def _connect_to(row: dict[str, Any]) -> Callable[..., Any]:
    @contextmanager
    def connect(*args: object, **kwargs: object) -> Iterator[_FakeDb]:
        yield _FakeDb(row)

    return connect


NOW = datetime.now(UTC)
SETTINGS_ROW: dict[str, Any] = {
    "id": 1,
    "circuit_breaker_active": False,
    "circuit_breaker_reason": None,
    "daily_pnl_pct": Decimal("-0.01"),
    "daily_loss_limit_pct": Decimal("0.03"),
    "consecutive_losses": 0,
    "max_consecutive_losses": 3,
    "daily_pnl_zar": Decimal("-100"),
    "daily_pnl_reset_at": NOW,
    "daily_starting_equity_zar": Decimal("100000"),
    "db_now": NOW,
}
DECISION_ROW: dict[str, Any] = {
    "correlation_id": "c",
    "policy_decision": "ALLOW",
    "reason_code": "ALL_GATES_PASSED",
    "timestamp_utc": NOW,
    "context_snapshot": {
        "kill_switch_active": False,
        "budget_signal": "ALLOW",
        "health_status": "GREEN",
        "risk_assessment": "HEALTHY",
    },
    "age_s": Decimal("1.5"),
    "age": Decimal("1.5"),
}
REVIEW_ROW: dict[str, Any] = {
    "decisions": 2000,
    "first_at": NOW,
    "lead_s": Decimal("5"),
    "tail_s": Decimal("2"),
    "max_gap_s": Decimal("30"),
    "max_gap_end": NOW,
    "unexplained_halts": 0,
    "errors": 0,
    "neutrals": 0,
    "live_orders": 0,
    "failed_orders": 0,
}

BAD_DB_NUMBER = st.sampled_from(
    [
        None,
        True,
        False,
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        NAN,
        INF,
        -INF,
        Decimal("1e13"),
        10**15,
        "0.03",
        "1",
        [1],
        {"v": 1},
    ]
)
BAD_DB_AMOUNT = st.one_of(BAD_DB_NUMBER, st.sampled_from([Decimal("-0.01"), -1]))  # a negative where none can be
BAD_DB_COUNT = st.one_of(BAD_DB_AMOUNT, st.sampled_from([Decimal("1.5"), 2.5]))
BAD_DB_AGE = st.one_of(BAD_DB_NUMBER, st.sampled_from([Decimal("-3600"), -86400.0]))  # in the future
BAD_DB_FLAG = st.sampled_from([None, 0, 1, "true", "f", Decimal(1), NAN, [True]])


def _db_fields() -> list[tuple[str, dict[str, Any], str, st.SearchStrategy[Any], Callable[[Target], Any]]]:
    """(module with ``connect``, the healthy row, the field, its bad values, the check)."""
    from ops_checks.checks import givens
    from ops_checks.checks.s1_preconditions import dry_run
    from ops_checks.checks.s2_environment import gates
    from ops_checks.checks.sop import loss, orders

    def precondition(t: Target) -> Any:
        problem = givens.bot_not_deciding(t)
        return SimpleNamespace(ok=problem is None, reason=problem.reason if problem else "")

    signed = st.one_of(BAD_DB_NUMBER.filter(lambda v: v is not None))
    fields: list[tuple[str, dict[str, Any], str, st.SearchStrategy[Any], Callable[[Target], Any]]] = [
        (loss.__name__, SETTINGS_ROW, "circuit_breaker_active", BAD_DB_FLAG, loss.loss_breach_handled),
        (loss.__name__, SETTINGS_ROW, "daily_pnl_pct", signed, loss.loss_breach_handled),
        (loss.__name__, SETTINGS_ROW, "daily_loss_limit_pct", BAD_DB_AMOUNT, loss.loss_breach_handled),
        (loss.__name__, SETTINGS_ROW, "daily_loss_limit_pct", BAD_DB_AMOUNT, loss.breach_settings_sane),
        (loss.__name__, SETTINGS_ROW, "consecutive_losses", BAD_DB_COUNT, loss.loss_breach_handled),
        (loss.__name__, SETTINGS_ROW, "max_consecutive_losses", BAD_DB_COUNT, loss.loss_breach_handled),
        (loss.__name__, SETTINGS_ROW, "max_consecutive_losses", BAD_DB_COUNT, loss.breach_settings_sane),
        (orders.__name__, SETTINGS_ROW, "circuit_breaker_active", BAD_DB_FLAG, orders.kill_switch_leaves_no_orders),
        (
            exchange.__name__,
            SETTINGS_ROW,
            "daily_starting_equity_zar",
            BAD_DB_AMOUNT,
            exchange.starting_equity_recorded,
        ),
        (gates.__name__, SETTINGS_ROW, "daily_starting_equity_zar", BAD_DB_AMOUNT, gates.limits_consistent),
        (dry_run.__name__, DECISION_ROW, "age_s", BAD_DB_AGE, dry_run.decisions_logged),
        (givens.__name__, DECISION_ROW, "age", BAD_DB_AGE.filter(lambda v: v is not None), precondition),
        (infra.__name__, {"one": 1}, "one", BAD_DB_NUMBER, infra.database_connectivity),
        (infra.__name__, SETTINGS_ROW, "daily_loss_limit_pct", BAD_DB_AMOUNT, infra.settings_row_valid),
        (infra.__name__, SETTINGS_ROW, "max_consecutive_losses", BAD_DB_COUNT, infra.settings_row_valid),
        (infra.__name__, SETTINGS_ROW, "circuit_breaker_active", BAD_DB_FLAG, infra.settings_row_valid),
    ]
    for key in ("lead_s", "tail_s", "max_gap_s"):
        bad = BAD_DB_AGE if key != "max_gap_s" else BAD_DB_AMOUNT.filter(lambda v: v is not None and v is not False)
        fields.append((dry_run.__name__, REVIEW_ROW, key, bad, dry_run.dry_run_review))
    for key in ("decisions", "unexplained_halts", "errors", "live_orders", "failed_orders"):
        bad = BAD_DB_COUNT if key != "decisions" else BAD_DB_COUNT.filter(lambda v: v not in (None, False))
        fields.append((dry_run.__name__, REVIEW_ROW, key, bad, dry_run.dry_run_review))
    return fields


def _run_db_check(t: Target, module: str, row: dict[str, Any], check: Callable[[Target], Any]) -> Any:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(importlib.import_module(module), "connect", _connect_to(row))
        return check(t)


def test_the_healthy_database_rows_pass(healthy: tuple[Target, _Tamper]) -> None:
    t, tamper = healthy
    tamper.edits = {}
    STATE.update(body=_metrics_text(), type="text/plain")
    for module, row, name, _, check in _db_fields():
        result = _run_db_check(t, module, row, check)
        assert result.ok, (name, getattr(check, "__name__", check), result.reason)


@COMMON
@given(data=st.data())
def test_no_check_passes_on_an_impossible_database_value(healthy: tuple[Target, _Tamper], data: st.DataObject) -> None:
    t, _ = healthy
    module, row, name, bad, check = data.draw(st.sampled_from(_db_fields()), label="field")
    value = data.draw(bad, label="value")
    result = _run_db_check(t, module, row | {name: value}, check)
    assert not result.ok, (name, value, getattr(check, "__name__", check), result.reason)
    assert "\n" not in result.reason and "Traceback" not in result.reason


# -- the helper itself ------------------------------------------------------------------------------------------
@given(
    value=st.one_of(
        st.none(),
        st.booleans(),
        st.lists(st.integers(), max_size=2),
        st.text(max_size=6),
        st.sampled_from([NAN, INF, -INF, Decimal("NaN"), Decimal("-Infinity"), 1e300, -1.0, -1]),
    )
)
def test_readings_refuse_what_is_no_reading(value: Any) -> None:
    with pytest.raises(readings.BadReading) as err:
        readings.number(value, "age")
    assert str(err.value).startswith("age is ") and "\n" not in str(err.value)
    if not isinstance(value, bool):
        with pytest.raises(readings.BadReading):
            readings.flag(value, "connected")
    if value not in (0, 1) or isinstance(value, bool):
        with pytest.raises(readings.BadReading):
            readings.gauge_flag(value, "connected")


@pytest.mark.parametrize("value", [NAN, INF, -INF, -1.0, 0.5, 2.0, 1e13])
def test_a_breach_is_never_handled_on_an_impossible_metric(monkeypatch: pytest.MonkeyPatch, value: float) -> None:
    """sop.4.1's reduce-only flag and alert count: ``+Inf > 0`` must not count as "an alert was sent"."""
    from ops_checks.access.profile import profile_from_env
    from ops_checks.access.prometheus import Metrics
    from ops_checks.checks.sop import loss
    from ops_checks.core.redaction import Redactor

    def metrics(reduce_only: float, alerts: float) -> Metrics:
        return Metrics(
            {
                "trading_reduce_only": [({}, reduce_only)],
                "bot_alerts_sent_total": [({"reason": "DAILY_LOSS_LIMIT"}, alerts)],
            },
            "",
        )

    monkeypatch.setattr(loss, "open_orders", lambda t, rec: [])
    t = SimpleNamespace(profile=profile_from_env(declared_sources()), redactor=Redactor())
    state = loss.LossState(True, "DAILY_LOSS_LIMIT", Decimal("-0.05"), Decimal("0.03"), 0, 3)
    monkeypatch.setattr(loss, "scrape", lambda t: metrics(1.0, 1.0))
    assert loss.breach_actions(t, state) == []  # type: ignore[arg-type]
    for reduce_only, alerts in ((value, 1.0), (1.0, value)):
        if value == 2.0 and alerts == value:
            continue  # two alerts sent is a fine count
        monkeypatch.setattr(loss, "scrape", lambda t, ro=reduce_only, a=alerts: metrics(ro, a))
        missing = loss.breach_actions(t, state)  # type: ignore[arg-type]
        assert missing and all("\n" not in m for m in missing), (reduce_only, alerts)


def test_a_log_line_stamped_in_the_future_never_passes(target: Target, tmp_path: Path) -> None:
    """A line dated ahead of now would be "the latest" forever (a clock or a zone-less local time read as UTC)."""
    from datetime import timedelta

    from ops_checks.checks.s1_preconditions import logs

    t = dataclasses.replace(target, log_dir=tmp_path)
    ahead = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    (tmp_path / "bot.log").write_text(f"{now} INFO health_status=RED\n{ahead} INFO health_status=GREEN\n")
    result = logs.health_green(t)
    assert not result.ok and "in the future" in result.reason and "\n" not in result.reason, result.reason
    (tmp_path / "bot.log").write_text(f"{now} INFO health_status=GREEN\n")
    assert logs.health_green(t).ok
