"""Issue 13 §3: checks that read the bot or the exchange fail closed on anything they do not understand.

A loopback HTTP server (a real socket, as the bot would be) answers every path with a hostile payload that
hypothesis generates: NaN, Infinity, lowercase or padded modes, wrong types, nesting, junk text. VALR's answers
come through the exchange transport. Whatever the payload, none of these checks may pass.
"""

from __future__ import annotations

import dataclasses
import json
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ops_checks.checks.s1_preconditions import exchange, infra, monitoring
from ops_checks.checks.s3_transition import transition_gate
from ops_checks.checks.s8_clock_drift import drift
from ops_checks.sandbox.postgres import free_port
from ops_checks.target import botapi
from ops_checks.target.config import Target, live_target

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
    env = {"DB_HOST": "127.0.0.1", "DB_PORT": str(free_port()), "DB_PASSWORD": "x" * 32, "BOT_API_URL": url,
           "METRICS_URL": f"{url}/metrics", "VALR_BASE_URL": "https://api.valr.com", "VALR_API_KEY": "k" * 64,
           "VALR_API_SECRET": "s" * 64, "EXECUTION_MODE": "DRY_RUN",
           "LOG_DIR": str(tmp_path_factory.mktemp("logs"))}
    t = live_target(env, allow_mutations=False)
    t = dataclasses.replace(t, valr_transport=httpx.MockTransport(
        lambda r: httpx.Response(200, content=STATE["body"], headers={"content-type": STATE["type"]})))
    yield t
    srv.shutdown()


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "live", "dry_run", " LIVE", "LIVE ", "NaN", "nan", "Infinity", "-1", "1e309", "null",
                     "HEALTHY", "healthy ", "connected ", "0x10", "5000.5", "\u0000", "∞"]),
    st.text(max_size=20),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8),
                                                                                         inner, max_size=3),
                      max_leaves=8)
KEYS = st.sampled_from(["status", "database", "execution_mode", "components", "time", "epochTime", "balance",
                        "currency", "available", "system_locked"])
PAYLOADS = st.one_of(
    st.dictionaries(KEYS, VALUES, min_size=1, max_size=5),
    st.dictionaries(KEYS, st.dictionaries(KEYS, VALUES, max_size=3), min_size=1, max_size=3),
    st.lists(VALUES, max_size=4),
    VALUES,
)


def _encode(payload: Any) -> bytes:
    return json.dumps(payload, allow_nan=True, default=str).encode()


def _valid_health(p: Any) -> bool:
    return isinstance(p, dict) and p.get("status") == "healthy" and p.get("database") in (None, "connected")


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
    for check in (exchange.valr_reachable, exchange.api_key_valid, exchange.balance_readable,
                  drift.exchange_time_reachable):
        result = check(target)
        assert not result.ok, (check.__name__, payload, result.reason)


@COMMON
@given(text=st.one_of(st.text(max_size=200), st.sampled_from([
    "exchange_clock_drift_ms NaN", "exchange_clock_drift_ms +Inf", "trade_signals_received_total{} abc",
    "# TYPE x gauge\nx{a=\"1\"} 1e999", "\x00\x01\x02"])))
def test_metrics_check_fails_closed_on_junk(target: Target, text: str) -> None:
    STATE.update(body=text.encode("utf-8", "replace"), type="text/plain")
    result = monitoring.metrics_respond(target)
    assert not result.ok, (text, result.reason)


def test_nan_and_lowercase_live_never_pass(target: Target) -> None:
    for payload in ({"execution_mode": math.nan}, {"execution_mode": "live"}, {"execution_mode": " LIVE"},
                    {"components": {"execution_mode": "dry_run"}}):
        STATE.update(body=_encode(payload), type="application/json")
        assert not isinstance(botapi.execution_mode(target), str), payload
        assert transition_gate.execution_mode(target).value is None, payload
