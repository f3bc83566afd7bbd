"""Reference trading bot for the sandbox: the real bot's API (TRADE_BOT v1.9.0) plus the runbook's promises.

Speaks what ``ops_checks.access.profile.REAL_BOT`` describes: ``GET /`` (``components``), ``GET /health``
(``{"status": "healthy", "database": "connected"}``, 503 when not), ``GET /metrics`` (the real metric names),
``GET /guardian/status``, ``POST /guardian/unlock`` (``Authorization: Bearer $GUARDIAN_ADMIN_TOKEN``),
``POST /guardian/reset`` (``reset_code``), ``POST /webhook/tradingview`` (``X-TradingView-Signature`` = hex
HMAC-SHA256 of the raw body keyed with SOVEREIGN_SECRET; body ``signal_id symbol side price quantity``; rows in
``signals``). Plus what the runbook promises and the real bot lacks: §4.2 Method 2 ``POST
/api/guardian/kill-switch`` (``X-Sovereign-Secret``), the §1.3 log tags, ``execution_mode`` in ``/health``, and a
§4.1 PolicyDecision recorded in ``policy_decision_audit`` for every signal (and every policy-loop tick) with the
real reason codes, blocking gate and precedence rank. Fault knobs in ``BotKnobs``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Self

import httpx
import psycopg
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from psycopg.types.json import Jsonb
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ops_checks.access import policy
from ops_checks.access.profile import REAL_BOT, BotProfile
from ops_checks.core.redaction import Redactor
from ops_checks.core.secret import Secret
from ops_checks.sandbox.bot_sop import SopState

VERSION = "1.5.0-sandbox"
EXECUTION_MODES = ("DRY_RUN", "LIVE")
DRIFT_TOLERANCE_MS = 1000
BUDGET_SOURCE = "sandbox-budget.json"
SIGNAL_PATH = REAL_BOT.signal_path
KILL_SWITCH_PATH = REAL_BOT.runbook_kill_switch_path
_SIGNAL_ID_MAX = REAL_BOT.signal_id_max_length
_SYMBOL = re.compile(REAL_BOT.signal_symbol_pattern)
#: §4.1 evaluation order, as the real TradePermissionPolicy names its gates (EVALUATION_PRECEDENCE)
GATE_RANK = {"KILL_SWITCH": 1, "BUDGET": 2, "HEALTH": 3, "RISK": 4}
REAL_REASON_CODES = (
    "ALLOW_ALL_GATES_PASSED",
    "HALT_KILL_SWITCH",
    "HALT_BUDGET_HARD_STOP",
    "HALT_BUDGET_RDS_EXCEEDED",
    "HALT_BUDGET_STALE_DATA",
    "HALT_RISK_CRITICAL",
    "NEUTRAL_HEALTH_YELLOW",
    "NEUTRAL_HEALTH_RED",
    "HALT_LATCHED",
    "HALT_CONTEXT_INCOMPLETE",
)
VALR_MARKET_ORDER_PATH = "/v1/orders/market"
_DB_CONNECT_TIMEOUT_S = 3
_STATEMENT_TIMEOUT_MS = 2000
_CUSTOMER_ORDER_ID = re.compile(r"^[A-Za-z0-9-]{1,50}$")
_VALR_TIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})T(?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d{1,9}))?(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)


@dataclass
class BotKnobs:
    """Fault knobs; public and mutable while the bot runs. ``reset()`` restores the healthy defaults."""

    loop_interval_s: float = 0.1
    loop_paused: bool = False
    ignore_kill_switch: bool = False
    kill_switch_delay_s: float = 0.0
    budget_signal: str = "ALLOW"
    budget_entries: int = 12
    health_status: str = "GREEN"
    risk_assessment: str = "HEALTHY"
    health_endpoint_ok: bool = True
    log_writer_stopped: bool = False
    metrics_broken: bool = False
    guardian_accept_any_secret: bool = False
    webhook_accept_any_signature: bool = False
    order_despite_halt: bool = False
    webhook_ignores_kill_switch: bool = False  # the webhook decides signals as if the kill switch were off
    latch_kill_switch: bool = False  # once HALTed by the kill switch, stays HALTed after deactivation
    orphan_exchange_worker: bool = False  # a worker outlives stop() and keeps calling VALR (until reset)
    orphan_db_session: bool = False  # stop() leaves a database session of the application role open
    reported_execution_mode: str | None = None
    equity_override_zar: str | None = None  # equity_zar_gauge reports this instead of the VALR ZAR balance
    status_interval_s: float = 1.0
    clock_offset_ms: float = 0.0  # the bot container's clock minus the host's (runbook §8.4.2)
    omit_metrics: tuple[str, ...] = ()  # metric families left out of /metrics
    # incident SOP (bot_sop.py): market-data feed, staleness, loss breach, kill-switch cancellation
    feed_connected: bool = True
    feed_stalled: bool = False
    feed_extra_disconnects: int = 0  # disconnects in the last hour beyond the ones the bot saw itself
    feed_time_scale: float = 1.0  # multiplies the SOP's durations (5 s, 30 s, 120 s): drills compress time
    feed_resume_clean_s: float = 120.0  # SOP §2: resume trading only after 2 clean minutes
    stale_block_entries: bool = True  # SOP §8: > 5 s stale blocks entries
    stale_kill_switch: bool = True  # SOP §8: > 30 s stale activates the kill switch
    breach_handler: bool = True  # SOP §4: the daily-loss / consecutive-loss circuit breaker
    breach_cancel_orders: bool = True
    kill_switch_cancel_orders: bool = True  # SOP §7: activation cancels every open order
    live_start_fails: bool = False  # §3.2 Step 7: the bot exits at start-up in LIVE (a LIVE-only config error)
    # a careless debug mode: /health and / echo the first 12 characters and the reverse of the bot's VALR key and
    # guardian admin token
    echo_credentials: bool = False

    def reset(self) -> None:
        for f in fields(self):
            setattr(self, f.name, f.default)


def parse_valr_time(text: str) -> int:
    """VALR's ``time`` field (ISO-8601, up to 9 fractional digits) → epoch nanoseconds (integer, no float loss)."""
    m = _VALR_TIME.match(text.strip())
    if not m:
        raise ValueError(f"unparseable exchange time: {text[:40]!r}")
    tz = m["tz"] or "Z"
    offset_s = 0
    if tz != "Z":
        digits = tz[1:].replace(":", "")
        offset_s = (int(digits[:2]) * 3600 + int(digits[2:]) * 60) * (1 if tz[0] == "+" else -1)
    whole = datetime.fromisoformat(f"{m['date']}T{m['time']}").replace(tzinfo=UTC)
    frac_ns = int((m["frac"] or "0").ljust(9, "0"))
    return (int(whole.timestamp()) - offset_s) * 1_000_000_000 + frac_ns


def _metric_name(line: str) -> str:
    """The metric a line of Prometheus text is about (``# HELP name …``, ``# TYPE name …`` or a sample)."""
    parts = line.split()
    if line.startswith("#"):
        return parts[2] if len(parts) > 2 else ""
    return parts[0] if parts else ""


@dataclass(frozen=True)
class RecordedDecision:
    """A policy decision as the real ``policy_decision_audit`` records it."""

    decision: str
    reason_code: str
    blocking_gate: str | None
    precedence_rank: int | None


def to_recorded(decision: policy.Decision, inputs: policy.PolicyInputs | None) -> RecordedDecision:
    """The oracle's decision in the real schema's vocabulary (reason codes, blocking gate, precedence rank)."""
    code, verdict = decision.reason_code, decision.decision
    if verdict == policy.ALLOW:
        return RecordedDecision(policy.ALLOW, "ALLOW_ALL_GATES_PASSED", None, None)
    if code == "HALT_LATCHED":
        return RecordedDecision(policy.HALT, code, "LATCH", 1)
    if inputs is None or code in ("HALT_NO_SETTINGS", "HALT_CONTEXT_INCOMPLETE"):
        return RecordedDecision(policy.HALT, "HALT_CONTEXT_INCOMPLETE", "CONTEXT", 1)
    if code.startswith("HALT_KILL_SWITCH"):
        return RecordedDecision(policy.HALT, "HALT_KILL_SWITCH", "KILL_SWITCH", 1)
    if code.startswith("HALT_BUDGET"):
        if code not in REAL_REASON_CODES:
            signal = str(inputs.budget_signal).upper()
            code = {"RDS_EXCEEDED": "HALT_BUDGET_RDS_EXCEEDED", "STALE_DATA": "HALT_BUDGET_STALE_DATA"}.get(
                signal, "HALT_BUDGET_HARD_STOP"
            )
        return RecordedDecision(policy.HALT, code, "BUDGET", 2)
    if code.startswith("NEUTRAL"):
        if code not in REAL_REASON_CODES:
            code = "NEUTRAL_HEALTH_RED" if str(inputs.health_status).upper() == "RED" else "NEUTRAL_HEALTH_YELLOW"
        return RecordedDecision(policy.NEUTRAL, code, "HEALTH", 3)
    if code.startswith("HALT_RISK"):
        return RecordedDecision(policy.HALT, "HALT_RISK_CRITICAL", "RISK", 4)
    return RecordedDecision(policy.HALT, "HALT_CONTEXT_INCOMPLETE", "CONTEXT", 1)  # fail closed


class _BotLog:
    """Thread-safe line writer: ``<ISO UTC µs>Z <LEVEL> <message>``, flushed per line, redacted."""

    def __init__(self, path: Path, redactor: Redactor, knobs: BotKnobs) -> None:
        self.path = path
        self._redactor = redactor
        self._knobs = knobs
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = path.open("a", encoding="utf-8")

    def write(self, level: str, message: str) -> None:
        if self._knobs.log_writer_stopped:
            return
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
        line = f"{stamp}Z {level} {self._redactor.text(message)}".replace("\n", " ")
        with self._lock:
            if self._fh.closed:
                return
            self._fh.write(line + "\n")
            self._fh.flush()

    def debug(self, message: str) -> None:
        self.write("DEBUG", message)

    def info(self, message: str) -> None:
        self.write("INFO", message)

    def warning(self, message: str) -> None:
        self.write("WARNING", message)

    def error(self, message: str) -> None:
        self.write("ERROR", message)

    def close(self) -> None:
        with self._lock:
            self._fh.close()


class _Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        # the real bot's metrics (app/observability/metrics.py)
        self.signals_received = Counter(
            "trade_signals_received",
            "Total number of trading signals received from TradingView",
            ["symbol", "action"],
            registry=r,
        )
        self.signals_executed = Counter(
            "trade_signals_executed",
            "Total number of trading signals successfully executed",
            ["symbol", "action", "status"],
            registry=r,
        )
        self.equity = Gauge("equity_zar_gauge", "Current account balance in ZAR from VALR", registry=r)
        self.slippage = Histogram(
            "slippage_pct_histogram",
            "Distribution of execution slippage percentage",
            ["symbol", "action"],
            buckets=[0.0001, 0.0005, 0.001, 0.0015, 0.002, 0.005, 0.01, 0.02, 0.05],
            registry=r,
        )
        self.expectancy = Gauge(
            "expectancy_gauge", "Rolling expectancy ratio (realized_pnl / realized_risk)", registry=r
        )
        # the sandbox's own (runbook §4/§8 promises)
        self.decisions = Counter("policy_decisions", "Policy decisions by outcome", ["decision"], registry=r)
        self.last_decision = Gauge(
            "policy_loop_last_decision_timestamp_seconds", "Unix time of the policy loop's last decision", registry=r
        )
        self.kill_switch = Gauge("kill_switch_active", "1 while the bot sees the kill switch active", registry=r)
        self.up = Gauge("bot_up", "1 while the bot runs", registry=r)
        self.drift = Gauge("exchange_clock_drift_ms", "Local minus exchange clock, ms", registry=r)
        self.drift_exceeded = Counter(
            "exchange_clock_drift_exceeded", "Time syncs with |drift| above tolerance", registry=r
        )
        self.sync_failures = Counter("exchange_time_sync_failures", "Failed exchange time syncs", registry=r)


class _DbError(Exception):
    """A database failure with a one-line, secret-free reason."""


#: how long a start waits for the bot's first status round (its VALR calls time out after 2 s each)
FIRST_STATUS_S = 6.0


class ReferenceBot:
    """The sandbox's trading bot. ``start()`` / ``stop()``; ``url``; ``knobs`` for faults."""

    def __init__(
        self,
        *,
        dsn: str,
        log_dir: Path,
        sovereign_secret: str,
        webhook_secret: str,
        execution_mode: str = "DRY_RUN",
        valr_base_url: str = "https://api.valr.com",
        valr_transport: httpx.BaseTransport | None = None,
        valr_api_key: str = "",
        valr_api_secret: str = "",
        guardian_admin_token: str = "",
        guardian_reset_code: str = "",
        profile: BotProfile = REAL_BOT,
    ) -> None:
        if execution_mode not in EXECUTION_MODES:
            raise ValueError(f"execution_mode must be one of {EXECUTION_MODES}")
        self._dsn = Secret(dsn)
        self._sovereign = Secret(sovereign_secret)
        self._webhook = Secret(webhook_secret)
        self._valr_key = Secret(valr_api_key)
        self._valr_secret = Secret(valr_api_secret)
        self._guardian_token = Secret(guardian_admin_token)
        self._reset_code = Secret(guardian_reset_code)
        self.profile = profile
        self.execution_mode = execution_mode
        self.valr_base_url = valr_base_url.rstrip("/")
        self._valr_transport = valr_transport
        self.log_dir = Path(log_dir)
        self.knobs = BotKnobs()
        self.metrics = _Metrics()
        self.redactor = Redactor(
            [self._sovereign, self._webhook, self._valr_key, self._valr_secret, self._guardian_token, self._reset_code]
        )
        with contextlib.suppress(psycopg.Error):
            password = psycopg.conninfo.conninfo_to_dict(dsn).get("password")
            self.redactor.register(None if password is None else str(password))
        self._log: _BotLog | None = None
        self._stop = threading.Event()
        self._first_status = threading.Event()  # the status loop's first round is done (its sync, its log lines)
        self._threads: list[threading.Thread] = []
        self._server: uvicorn.Server | None = None
        self._port: int | None = None
        # state shared between threads (simple values; assignments are atomic)
        self._drift_ms: int | None = None
        self._drift_exceeded = False
        self._last_loop_decision_mono: float | None = None
        self._last_loop_decision: RecordedDecision | None = None
        self._orphan_conn: psycopg.Connection[Any] | None = None
        self.sop = SopState(self)

    def __repr__(self) -> str:
        return f"ReferenceBot(url={self._url_or_none()!r}, execution_mode={self.execution_mode!r})"

    # ---------------------------------------------------------------- lifecycle
    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("bot not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / "bot.log"

    # -- the bot's public face for its SOP behaviour (bot_sop.SopHost) and the sandbox -------------------------
    @property
    def serving(self) -> bool:
        """True while the API server is up (between ``start()`` and ``stop()``)."""
        return self._server is not None

    @property
    def stop_event(self) -> threading.Event:
        """Set when the bot stops; its background threads wait on it."""
        return self._stop

    def open_db(self, connect_timeout: int = 3) -> psycopg.Connection[Any]:
        """A new autocommit connection to the bot's database, as the bot's role."""
        return psycopg.connect(self._dsn.reveal(), autocommit=True, connect_timeout=connect_timeout)

    def set_kill_switch(self, activate: bool, reason: str) -> Response:
        """What the bot does when it trips (or clears) its own kill switch."""
        return self._kill_switch_set(activate, reason)

    def valr_request(self, method: str, path: str, *, timeout: float = 3.0) -> httpx.Response:
        """One signed request to VALR with the bot's API key, over the bot's VALR transport."""
        from ops_checks.access.valr.signing import signed_headers  # lazy: written by another module owner

        headers = signed_headers(self._valr_key, self._valr_secret, method, path)
        with httpx.Client(transport=self._valr_transport, timeout=timeout) as client:
            return client.request(method, f"{self.valr_base_url}{path}", headers=headers)

    def reason(self, exc: BaseException) -> str:
        """A one-line, redacted reason for an exception."""
        return self._reason(exc)

    def _url_or_none(self) -> str | None:
        return None if self._port is None else self.url

    @property
    def log(self) -> _BotLog:
        assert self._log is not None, "bot not started"
        return self._log

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("bot already started")
        self._stop.clear()
        self._log = _BotLog(self.log_path, self.redactor, self.knobs)
        self.log.info(f"EXECUTION_MODE={self.execution_mode}")
        if self.knobs.live_start_fails and self.execution_mode == "LIVE":
            self.log.error("LIVE configuration invalid: exiting")
            self._log.close()
            raise RuntimeError("the bot exited at start-up in LIVE mode")
        self.log.info("TradePermissionPolicy initialized")
        self.log.info("ExchangeTimeSynchronizer initialized")
        self.metrics.up.set(1)

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app(),
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=1,
        )
        self._server = uvicorn.Server(config)
        server = self._server
        self._threads = [
            threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="bot-http", daemon=True),
            threading.Thread(target=self._policy_loop, name="bot-policy-loop", daemon=True),
            threading.Thread(target=self._status_loop, name="bot-status", daemon=True),
            threading.Thread(target=self.sop.run, name="bot-sop", daemon=True),
        ]
        for t in self._threads:
            t.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._threads[0].is_alive():
                self.stop()
                raise RuntimeError("reference bot did not start accepting connections within 10 s")
            time.sleep(0.01)
        # A deployed bot has been running long before a preflight reads it: the sandbox is up once the bot has made
        # its first status round (time sync, budget/health/risk lines) and published its metrics, so a selection
        # that reads them first (a fault case of one section) never races the bot's start. Bounded: a fault that
        # hangs VALR delays the round, never the start beyond this.
        if self._first_status.wait(timeout=FIRST_STATUS_S):
            self.sop.publish()
        self.log.info(f"Bot API listening on {self.url}")
        return self

    def stop(self) -> None:
        self._leave_orphans()
        self._stop.set()
        if self._server is not None:
            self._server.should_exit = True
        deadline = time.monotonic() + 1.8
        for t in self._threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        self._threads = []
        self._server = None
        self.metrics.up.set(0)
        if self._log is not None:
            self._log.close()

    def _leave_orphans(self) -> None:
        """Fault knobs: what a botched ``docker stop`` leaves behind (emergency drills must notice)."""
        if self._server is None:
            return
        if self.knobs.orphan_db_session:
            with contextlib.suppress(_DbError):
                self._orphan_conn = self._connect()
        if self.knobs.orphan_exchange_worker:
            threading.Thread(target=self._orphan_worker, name="bot-orphan", daemon=True).start()

    def _orphan_worker(self) -> None:
        with httpx.Client(transport=self._valr_transport, timeout=2.0) as client:
            while self.knobs.orphan_exchange_worker:
                with contextlib.suppress(httpx.HTTPError):
                    client.get(f"{self.valr_base_url}/v1/public/time")
                time.sleep(0.05)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- database
    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self._dsn.reveal(), autocommit=True, connect_timeout=_DB_CONNECT_TIMEOUT_S)
            conn.execute(f"SET statement_timeout = {_STATEMENT_TIMEOUT_MS}")
            return conn
        except psycopg.Error as exc:
            raise _DbError(self._reason(exc)) from exc

    def _reason(self, exc: BaseException) -> str:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return self.redactor.text(f"{type(exc).__name__}: {text}")

    @staticmethod
    def _read_settings(conn: psycopg.Connection[Any]) -> tuple[bool, str | None] | None:
        row = conn.execute(
            "SELECT circuit_breaker_active, circuit_breaker_reason FROM system_settings WHERE id = 1"
        ).fetchone()
        return None if row is None else (bool(row[0]), row[1])

    @staticmethod
    def _insert_audit(
        conn: psycopg.Connection[Any], correlation_id: str, decision: RecordedDecision, snapshot: dict[str, Any]
    ) -> None:
        conn.execute(
            "INSERT INTO policy_decision_audit (correlation_id, policy_decision, reason_code, blocking_gate,"
            " precedence_rank, context_snapshot, is_latched, row_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                uuid.UUID(str(correlation_id)),
                decision.decision,
                decision.reason_code,
                decision.blocking_gate,
                decision.precedence_rank,
                Jsonb(snapshot),
                decision.reason_code == "HALT_LATCHED",
                "0" * 64,  # the schema's BEFORE INSERT trigger computes the real hash
            ),
        )

    # ---------------------------------------------------------------- policy
    def _effective_health(self) -> str:
        if self.knobs.health_status == policy.HEALTH_GREEN and self._drift_exceeded:
            return "DRIFT"
        return self.knobs.health_status

    def _decide(
        self, settings: tuple[bool, str | None] | None, kill_switch_active: bool, source: str
    ) -> tuple[RecordedDecision, dict[str, Any]]:
        inputs = policy.PolicyInputs(
            kill_switch_active=kill_switch_active,
            budget_signal=self.knobs.budget_signal,
            health_status=self._effective_health(),
            risk_assessment=self.knobs.risk_assessment,
        )
        snapshot = inputs.to_snapshot()
        snapshot["kill_switch_reason"] = settings[1] if settings else None
        snapshot["source"] = source
        if settings is None:
            snapshot["settings_missing"] = True
            return RecordedDecision(policy.HALT, "HALT_CONTEXT_INCOMPLETE", "CONTEXT", 1), snapshot
        return to_recorded(policy.evaluate(inputs), inputs), snapshot

    def _policy_loop(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        last_error: str | None = None
        seen_ks: bool | None = None  # the kill-switch value the loop acts on
        pending: tuple[bool, float] | None = None  # a change not yet noticed (kill_switch_delay_s)
        try:
            while not self._stop.is_set():
                interval = max(0.001, float(self.knobs.loop_interval_s))
                if self.knobs.loop_paused:
                    self._stop.wait(interval)
                    continue
                try:
                    if conn is None or conn.closed or conn.broken:
                        if conn is not None:
                            conn.close()
                        conn = None
                        conn = self._connect()
                    settings = self._read_settings(conn)
                    raw_ks = bool(settings and settings[0]) and not self.knobs.ignore_kill_switch
                    raw_ks = raw_ks or (self.knobs.latch_kill_switch and bool(seen_ks))
                    now = time.monotonic()
                    if seen_ks is None:
                        seen_ks = raw_ks
                    elif raw_ks != seen_ks:
                        if pending is None or pending[0] != raw_ks:
                            pending = (raw_ks, now)
                        if now - pending[1] >= self.knobs.kill_switch_delay_s:
                            seen_ks, pending = raw_ks, None
                    else:
                        pending = None
                    decision, snapshot = self._decide(settings, seen_ks, "loop")
                    self._insert_audit(conn, str(uuid.uuid4()), decision, snapshot)
                    self._record_loop_decision(decision, seen_ks)
                    last_error = None
                except (psycopg.Error, _DbError) as exc:
                    reason = str(exc) if isinstance(exc, _DbError) else self._reason(exc)
                    if reason != last_error:
                        self.log.error(f"[POLICY_ERROR] {reason}")
                        last_error = reason
                self._stop.wait(interval)
        finally:
            if conn is not None:
                conn.close()

    def _record_loop_decision(self, decision: RecordedDecision, kill_switch_active: bool) -> None:
        self.metrics.decisions.labels(decision=decision.decision).inc()
        self.metrics.last_decision.set(time.time())
        self.metrics.kill_switch.set(1 if kill_switch_active else 0)
        self._last_loop_decision_mono = time.monotonic()
        if decision != self._last_loop_decision:
            self._last_loop_decision = decision
            level = "INFO" if decision.decision == policy.ALLOW else "WARNING"
            self.log.write(level, f"Policy evaluation: {decision.decision}, reason_code={decision.reason_code}")

    def restart_metrics(self) -> None:
        """What Prometheus sees when the bot process restarts: every counter starts again from zero."""
        fresh = _Metrics()
        fresh.up.set(1)
        self.metrics = fresh

    def policy_loop_alive(self) -> bool:
        last = self._last_loop_decision_mono
        window = max(1.0, 5 * float(self.knobs.loop_interval_s))
        return last is not None and time.monotonic() - last <= window

    # ---------------------------------------------------------------- status / time sync
    def _status_loop(self) -> None:
        with httpx.Client(transport=self._valr_transport, timeout=2.0, follow_redirects=False) as client:
            while not self._stop.is_set():
                self._time_sync(client)
                self._refresh_equity(client)
                if self._stop.is_set():
                    break
                entries = int(self.knobs.budget_entries)
                if entries == 0:
                    self.log.warning(f"[BUDGET_LOADED] entries=0 source={BUDGET_SOURCE} parse_errors=1")
                else:
                    self.log.info(f"[BUDGET_LOADED] entries={entries} source={BUDGET_SOURCE}")
                self.log.info(f"[HEALTH] health_status={self.knobs.health_status}")
                self.log.info(f"[RISK] risk_assessment={self.knobs.risk_assessment}")
                self._first_status.set()
                self._stop.wait(max(0.01, float(self.knobs.status_interval_s)))

    def _refresh_equity(self, client: httpx.Client) -> None:
        """equity_zar_gauge: the ZAR total of a signed ``GET /v1/account/balances`` (the real bot's gauge)."""
        if self.knobs.equity_override_zar is not None:
            with contextlib.suppress(InvalidOperation, ValueError):
                self.metrics.equity.set(float(Decimal(self.knobs.equity_override_zar)))
            return
        if not self._valr_key or not self._valr_secret:
            return
        from ops_checks.access.valr.signing import signed_headers  # lazy: written by another module owner

        path = "/v1/account/balances"
        try:
            resp = client.get(
                f"{self.valr_base_url}{path}", headers=signed_headers(self._valr_key, self._valr_secret, "GET", path)
            )
            rows = resp.json() if resp.status_code == 200 else []
            zar = next((r for r in rows if isinstance(r, dict) and r.get("currency") == "ZAR"), None)
            if zar is not None:
                self.metrics.equity.set(float(Decimal(str(zar.get("total", "0")))))
        except (httpx.HTTPError, ValueError, TypeError, InvalidOperation):
            return

    def _time_sync(self, client: httpx.Client) -> None:
        """One sync, logged as the real bot's ExchangeTimeSynchronizer logs it (TRADE_BOT
        app/logic/trade_permission_policy.py ``sync_time``), this bot logging at DEBUG level: ``Exchange time sync:
        drift_ms=N`` (N = |drift|; DEBUG within tolerance, WARNING beyond), ``[TPP-006] … entering NEUTRAL state``
        on the first sync beyond, ``Exchange clock drift recovered …`` on the first one back, ``[TPP-007] Exchange
        /time endpoint unavailable: …`` when a sync fails."""
        try:
            skew_ns = round(float(self.knobs.clock_offset_ms) * 1_000_000)
            t_send = time.time_ns() + skew_ns
            resp = client.get(f"{self.valr_base_url}/v1/public/time")
            t_recv = time.time_ns() + skew_ns
            self.sop.observe_latency_ms((t_recv - t_send) / 1_000_000)
            if resp.status_code != 200:
                raise ValueError(f"HTTP {resp.status_code}")
            server_ns = parse_valr_time(str(resp.json()["time"]))
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            self.metrics.sync_failures.inc()
            self.log.error(f"[TPP-007] Exchange /time endpoint unavailable: {self._reason(exc)}")
            return
        drift_ms = round(((t_send + t_recv) // 2 - server_ns) / 1_000_000)
        exceeded = abs(drift_ms) > DRIFT_TOLERANCE_MS
        was_exceeded = self._drift_exceeded
        self._drift_ms, self._drift_exceeded = drift_ms, exceeded
        self.metrics.drift.set(drift_ms)
        if exceeded:
            self.metrics.drift_exceeded.inc()
            if not was_exceeded:
                self.log.warning("[TPP-006] Exchange clock drift exceeded threshold - entering NEUTRAL state")
                self.log.warning(
                    f"EXCHANGE_CLOCK_DRIFT: Drift {abs(drift_ms)}ms exceeds {DRIFT_TOLERANCE_MS}ms threshold"
                )
        elif was_exceeded:
            self.log.info("Exchange clock drift recovered - clearing NEUTRAL state")
            self.log.info(
                f"EXCHANGE_CLOCK_DRIFT_RECOVERED: Drift {abs(drift_ms)}ms within {DRIFT_TOLERANCE_MS}ms threshold"
            )
        (self.log.warning if exceeded else self.log.debug)(f"Exchange time sync: drift_ms={abs(drift_ms)}")

    # ---------------------------------------------------------------- HTTP app
    def _app(self) -> Starlette:
        p = self.profile
        return Starlette(
            routes=[
                Route(p.root_path, self._root, methods=["GET"]),
                Route(p.health_path, self._health, methods=["GET"]),
                Route(p.metrics_path, self._metrics, methods=["GET"]),
                Route(p.guardian_status_path, self._guardian_status, methods=["GET"]),
                Route(p.guardian_unlock_path, self._guardian_unlock, methods=["POST"]),
                Route(p.guardian_reset_path, self._guardian_reset, methods=["POST"]),
                Route(p.signal_path, self._signal, methods=["POST"]),
                # runbook §4.2 Method 2 (the real bot has no such endpoint)
                Route(p.runbook_kill_switch_path, self._kill_switch, methods=["GET", "POST"]),
            ]
        )

    def _db_ok(self) -> str | None:
        """None when the database answers, else a one-line reason."""
        try:
            with self._connect() as conn:
                conn.execute("SELECT 1")
        except (psycopg.Error, _DbError) as exc:
            return str(exc) if isinstance(exc, _DbError) else self._reason(exc)
        return None

    async def _health(self, request: Request) -> Response:
        if not self.knobs.health_endpoint_ok:
            return JSONResponse(
                {"status": "unhealthy", "database": "disconnected", "error": "health check failed"}, status_code=503
            )
        error = await run_in_threadpool(self._db_ok)
        if error is not None:
            return JSONResponse({"status": "unhealthy", "database": "disconnected", "error": error}, status_code=503)
        return JSONResponse(
            {
                "status": "healthy",
                "database": "connected",
                # runbook promises (§1.6.1, §3.2 Step 8): the real /health has only status and database
                "execution_mode": self.knobs.reported_execution_mode or self.execution_mode,
                "version": VERSION,
                "policy_loop_alive": self.policy_loop_alive(),
                **self._debug_echo(),
            }
        )

    def _debug_echo(self) -> dict[str, str]:
        if not self.knobs.echo_credentials:
            return {}
        seen = [s.reveal() for s in (self._valr_key, self._guardian_token) if s]
        return {"debug": "; ".join(f"caller {v[:12]}... ({v[::-1]})" for v in seen)}

    async def _root(self, request: Request) -> Response:
        error = await run_in_threadpool(self._db_ok)
        locked = await run_in_threadpool(self._locked_or_none)
        return JSONResponse(
            {
                "system": "Autonomous Alpha Ingress",
                "version": VERSION,
                "status": "operational",
                "tier": "SOVEREIGN",
                "timestamp": datetime.now(UTC).isoformat(),
                "components": {
                    "database": "healthy" if error is None else "unhealthy",
                    "hot_path": "ready",
                    "hmac_verification": "enabled",
                    "risk_governor": "enabled",
                    "order_manager": "enabled",
                    "budget_guard": "loaded" if int(self.knobs.budget_entries) else "unavailable",
                    "budget_strict_mode": True,
                    "trade_lifecycle": "initialized",
                    "guardian_locked": bool(locked),
                    "strategy_manager": "initialized",
                    "strategy_mode": "DETERMINISTIC",
                },
                "operational_metrics": {"net_alpha": None, "operational_cost": None},
                **self._debug_echo(),
            }
        )

    async def _metrics(self, request: Request) -> Response:
        if self.knobs.metrics_broken:
            return Response("internal error\n", status_code=500, media_type="text/plain")
        text = (generate_latest(self.metrics.registry) + self.sop.exposition()).decode("utf-8")
        if self.knobs.omit_metrics:
            omit = tuple(self.knobs.omit_metrics)
            text = "".join(line for line in text.splitlines(keepends=True) if not _metric_name(line).startswith(omit))
        return Response(text, media_type=CONTENT_TYPE_LATEST)

    # ---------------------------------------------------------------- guardian (real: /guardian/*)
    def _settings_row(self) -> tuple[Any, ...] | None:
        with self._connect() as conn:
            return conn.execute(
                "SELECT circuit_breaker_active, circuit_breaker_reason, circuit_breaker_triggered_at, daily_pnl_zar,"
                " daily_loss_limit_pct, daily_starting_equity_zar FROM system_settings WHERE id = 1"
            ).fetchone()

    def _locked_or_none(self) -> bool | None:
        try:
            row = self._settings_row()
        except (psycopg.Error, _DbError):
            return None
        return None if row is None else bool(row[0])

    def _guardian_status_body(self) -> Response:
        try:
            row = self._settings_row()
        except (psycopg.Error, _DbError) as exc:
            self.log.error(f"[GUARDIAN] database error: {self._reason(exc)}")
            return JSONResponse(
                {"detail": {"error_code": "GRD-005", "message": "Status retrieval failed"}}, status_code=500
            )
        if row is None:
            return JSONResponse(
                {"detail": {"error_code": "GRD-005", "message": "system_settings row missing"}}, status_code=500
            )
        pnl = Decimal(row[3] or 0)
        limit = Decimal(row[5] or 0) * Decimal(row[4] or 0)
        return JSONResponse(
            {
                "system_locked": bool(row[0]),
                "lock_reason": row[1],
                "lock_timestamp": row[2].isoformat() if row[2] else None,
                "lock_id": None,
                "daily_pnl_zar": f"R {pnl:,.2f}",
                "loss_limit_zar": f"R {limit:,.2f}",
                "loss_remaining_zar": f"R {max(Decimal(0), limit + min(pnl, Decimal(0))):,.2f}",
                "timestamp": datetime.now(UTC).isoformat(),
            }
        )

    async def _guardian_status(self, request: Request) -> Response:
        return await run_in_threadpool(self._guardian_status_body)

    @staticmethod
    def _grd(code: str, message: str, status: int, correlation_id: str | None = None) -> JSONResponse:
        return JSONResponse(
            {"detail": {"error_code": code, "message": message, "correlation_id": correlation_id}}, status_code=status
        )

    async def _json_object(self, request: Request) -> dict[str, Any] | None:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    async def _guardian_unlock(self, request: Request) -> Response:
        body = await self._json_object(request)
        if body is None or not isinstance(body.get("reason"), str) or not isinstance(body.get("correlation_id"), str):
            return JSONResponse({"detail": "reason and correlation_id are required"}, status_code=422)
        cid = body["correlation_id"]
        if not self.knobs.guardian_accept_any_secret:
            if not self._guardian_token:
                return self._grd("GRD-001", "Guardian API unlock not configured. Set GUARDIAN_ADMIN_TOKEN.", 503, cid)
            auth = request.headers.get(self.profile.guardian_auth_header)
            scheme = self.profile.guardian_auth_scheme + " "
            if not auth:
                return self._grd("GRD-001", "Authorization header required. Use: Bearer <token>", 401, cid)
            if not auth.startswith(scheme):
                return self._grd("GRD-001", "Invalid authorization format. Use: Bearer <token>", 401, cid)
            if not hmac.compare_digest(auth[len(scheme) :].encode(), self._guardian_token.reveal().encode()):
                return self._grd("GRD-001", "Invalid authorization token.", 403, cid)
        if not body["reason"].strip():
            return self._grd("GRD-002", "Reason is required for unlock.", 400, cid)
        locked = await run_in_threadpool(self._locked_or_none)
        if locked is None:
            return self._grd("GRD-004", "Unlock failed. Check server logs.", 500, cid)
        if not locked:
            return self._grd("GRD-003", "System is not locked. No unlock needed.", 400, cid)
        resp = await run_in_threadpool(self._kill_switch_set, False, body["reason"].strip())
        if resp.status_code != 200:
            return self._grd("GRD-004", "Unlock failed. Check server logs.", 500, cid)
        return JSONResponse(
            {
                "success": True,
                "message": "Guardian lock cleared successfully. Trading enabled.",
                "unlock_id": cid,
                "timestamp": datetime.now(UTC).isoformat(),
                "correlation_id": cid,
            }
        )

    async def _guardian_reset(self, request: Request) -> Response:
        body = await self._json_object(request) or {}
        cid = f"RESET-{uuid.uuid4().hex[:8].upper()}"
        code = body.get("reset_code") or ""
        if not code:
            return self._grd("GRD-001", "reset_code is required.", 400, cid)
        locked = await run_in_threadpool(self._locked_or_none)
        if not locked:
            return JSONResponse(
                {
                    "success": True,
                    "message": "System is not locked. No reset needed.",
                    "unlock_id": None,
                    "timestamp": datetime.now(UTC).isoformat(),
                    "correlation_id": cid,
                }
            )
        if not self._reset_code or not hmac.compare_digest(str(code).encode(), self._reset_code.reveal().encode()):
            return self._grd("GRD-001", "Invalid reset code.", 403, cid)
        resp = await run_in_threadpool(self._kill_switch_set, False, "GUARDIAN_RESET")
        if resp.status_code != 200:
            return self._grd("GRD-004", "Reset failed.", 500, cid)
        return JSONResponse(
            {
                "success": True,
                "message": "Guardian lock cleared successfully.",
                "unlock_id": cid,
                "timestamp": datetime.now(UTC).isoformat(),
                "correlation_id": cid,
            }
        )

    # ---------------------------------------------------------------- runbook §4.2 Method 2
    def _guardian_authorized(self, request: Request) -> bool:
        if self.knobs.guardian_accept_any_secret:
            return True
        given = request.headers.get(self.profile.runbook_kill_switch_header)
        if not given or not self._sovereign:
            return False
        return hmac.compare_digest(given.encode(), self._sovereign.reveal().encode())

    async def _kill_switch(self, request: Request) -> Response:
        if not self._guardian_authorized(request):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if request.method == "GET":
            return await run_in_threadpool(self._kill_switch_state)
        try:
            body = json.loads(await request.body())
            action = body.get("action")
            reason = body.get("reason", "")
        except (ValueError, AttributeError):
            return JSONResponse({"error": "malformed JSON body"}, status_code=400)
        if action not in ("activate", "deactivate") or not isinstance(reason, str | None):
            return JSONResponse({"error": "action must be 'activate' or 'deactivate'"}, status_code=400)
        return await run_in_threadpool(self._kill_switch_set, action == "activate", reason or "")

    def _kill_switch_state(self) -> Response:
        try:
            row = self._settings_row()
        except (psycopg.Error, _DbError) as exc:
            self.log.error(f"[GUARDIAN] database error: {self._reason(exc)}")
            return JSONResponse({"error": "database unavailable"}, status_code=503)
        if row is None:
            return JSONResponse({"error": "system_settings row missing"}, status_code=503)
        return JSONResponse(
            {
                "kill_switch_active": bool(row[0]),
                "reason": row[1],
                "triggered_at": row[2].isoformat() if row[2] else None,
            }
        )

    def _kill_switch_set(self, activate: bool, reason: str) -> Response:
        reason = (reason or ("MANUAL_KILL_SWITCH" if activate else "MANUAL_UNLOCK"))[:100]
        try:
            with self._connect() as conn, conn.transaction():
                if activate:
                    cur = conn.execute(
                        "UPDATE system_settings SET circuit_breaker_active = TRUE, circuit_breaker_reason = %s,"
                        " circuit_breaker_triggered_at = now(), updated_at = now() WHERE id = 1",
                        (reason,),
                    )
                else:
                    cur = conn.execute(
                        "UPDATE system_settings SET circuit_breaker_active = FALSE, circuit_breaker_reason = NULL,"
                        " circuit_breaker_triggered_at = NULL, circuit_breaker_unlock_at = NULL, updated_at = now()"
                        " WHERE id = 1"
                    )
                if cur.rowcount != 1:
                    raise _DbError("system_settings row missing")
                conn.execute(
                    "INSERT INTO circuit_breaker_events (event_type, trigger_reason, trigger_value, row_hash)"
                    " VALUES (%s, %s, %s, %s)",
                    ("MANUAL_LOCK" if activate else "MANUAL_UNLOCK", reason, "guardian-api", "0" * 64),
                )
        except (psycopg.Error, _DbError) as exc:
            self.log.error(f"[GUARDIAN] kill switch update failed: {self._reason(exc)}")
            return JSONResponse({"error": "database unavailable"}, status_code=503)
        self.log.warning(f"[GUARDIAN] kill switch {'activated' if activate else 'deactivated'} reason={reason!r}")
        return JSONResponse({"kill_switch_active": activate, "reason": reason if activate else None})

    # ---------------------------------------------------------------- webhook (real: app/api/webhook.py)
    def _signature_ok(self, request: Request, raw: bytes) -> str | None:
        """None when the signature verifies, else the real bot's SEC-00x code."""
        if self.knobs.webhook_accept_any_signature:
            return None
        given = (request.headers.get(self.profile.signal_signature_header) or "").strip()
        if not given:
            return "SEC-001"
        if given.startswith("sha256="):
            given = given[7:]
        if len(given) != 64 or not all(c in "0123456789abcdefABCDEF" for c in given):
            return "SEC-004"
        if len(self._sovereign.reveal()) < self.profile.signal_secret_min_length:
            return "SEC-002"
        # SOVEREIGN_SECRET signs (the real bot); WEBHOOK_SECRET too (the runbook's §2.1 "TradingView auth")
        for key in (self._sovereign, self._webhook):
            if key and hmac.compare_digest(
                given.lower().encode(), hmac.new(key.reveal().encode(), raw, hashlib.sha256).hexdigest().encode()
            ):
                return None
        return "SEC-003"

    @staticmethod
    def _err(code: str, message: str, status: int) -> JSONResponse:
        return JSONResponse(
            {"error_code": code, "message": message, "timestamp": datetime.now(UTC).isoformat()}, status_code=status
        )

    def _parse_signal(self, raw: bytes) -> tuple[dict[str, Any] | None, JSONResponse | None]:
        """The real SignalIn validation: exactly the profile's fields (plus the SOP's reduce_only), decimals."""
        try:
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None, self._err("VAL-001", "Invalid JSON payload", 400)
        if not isinstance(body, dict):
            return None, self._err("VAL-002", "Payload validation failed", 422)
        fields_ = set(self.profile.signal_fields)
        extra = set(body) - fields_ - {"reduce_only"}
        missing = fields_ - set(body)
        if extra or missing:
            detail = [f"missing {m}" for m in sorted(missing)] + [f"extra field {e}" for e in sorted(extra)]
            return None, JSONResponse(
                {
                    "error_code": "VAL-002",
                    "message": "Payload validation failed",
                    "details": {"validation_errors": detail},
                },
                status_code=422,
            )
        sid, symbol, side = body["signal_id"], body["symbol"], body["side"]
        if not isinstance(sid, str) or not 1 <= len(sid) <= _SIGNAL_ID_MAX:
            return None, self._err("VAL-002", "signal_id must be 1..64 characters", 422)
        if not isinstance(symbol, str) or not _SYMBOL.match(symbol):
            return None, self._err("VAL-002", "symbol must match ^[A-Z0-9]+$ (max 20)", 422)
        if side not in self.profile.signal_sides:
            return None, self._err("VAL-003", "Invalid side value. Must be 'BUY' or 'SELL'.", 422)
        values: dict[str, Decimal] = {}
        for name in ("price", "quantity"):
            v = body[name]
            if isinstance(v, float) or not isinstance(v, str | int) or isinstance(v, bool):
                return None, self._err("AUD-001", f"[AUD-001] {name} must be a Decimal string", 422)
            try:
                d = Decimal(str(v))
            except InvalidOperation:
                return None, self._err("AUD-001", f"[AUD-001] {name} is not a valid decimal number", 422)
            exponent = d.as_tuple().exponent
            places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
            if not d.is_finite() or d <= 0 or places > self.profile.signal_decimal_places:
                return None, self._err("AUD-001", f"[AUD-001] {name} must be positive with <= 10 places", 422)
            values[name] = d
        return {
            "signal_id": sid,
            "symbol": symbol,
            "side": side,
            **values,
            "reduce_only": bool(body.get("reduce_only")),
        }, None

    async def _signal(self, request: Request) -> Response:
        raw = await request.body()
        code = self._signature_ok(request, raw)
        if code is not None:
            self.log.warning(f"[{code}] HMAC verification failed")
            return self._err(code, "HMAC verification failed", 401)
        sig, error = self._parse_signal(raw)
        if error is not None or sig is None:
            return error or self._err("VAL-002", "Payload validation failed", 422)
        if self.sop.entries_blocked and not sig["reduce_only"]:  # SOP §2/§8: exits only
            self.log.warning(f"Entry blocked (reduce-only): signal_id={sig['signal_id']}")
            return JSONResponse(
                {
                    "status": "rejected",
                    "signal_id": sig["signal_id"],
                    "decision": "BLOCKED",
                    "reason_code": "REDUCE_ONLY_ENTRY_BLOCKED",
                    "order_submitted": False,
                    "trade_decision": {"status": "REJECTED", "action": "HALT"},
                }
            )
        client = request.client.host if request.client else "0.0.0.0"
        return await run_in_threadpool(self._handle_signal, sig, raw, client)

    def _handle_signal(self, sig: dict[str, Any], raw: bytes, source_ip: str) -> Response:
        start = time.monotonic()
        correlation_id = str(uuid.uuid4())
        symbol, side, quantity, price = sig["symbol"], sig["side"], sig["quantity"], sig["price"]
        self.log.info(
            f"Signal received: signal_id={sig['signal_id']} correlation_id={correlation_id} symbol={symbol}"
            f" side={side} qty={quantity}"
        )
        try:
            with self._connect() as conn:
                try:
                    row = conn.execute(
                        "INSERT INTO signals (correlation_id, signal_id, symbol, side, price, quantity, raw_payload,"
                        " source_ip, hmac_verified, row_hash) VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s::inet,"
                        " TRUE, 'placeholder') RETURNING id, created_at",
                        (
                            correlation_id,
                            sig["signal_id"],
                            symbol,
                            side,
                            price,
                            quantity,
                            raw.decode("utf-8"),
                            source_ip,
                        ),
                    ).fetchone()
                except psycopg.errors.UniqueViolation:
                    return self._err(
                        "IDP-001", f"Duplicate signal_id: {sig['signal_id']}. Signal already processed.", 409
                    )
                assert row is not None
                self.metrics.signals_received.labels(symbol=symbol, action=side).inc()
                settings = self._read_settings(conn)
                ks = bool(settings and settings[0]) and not self.knobs.webhook_ignores_kill_switch
                decision, snapshot = self._decide(settings, ks, "signal")
                snapshot["signal_id"] = sig["signal_id"]
                self._insert_audit(conn, correlation_id, decision, snapshot)
                self.metrics.decisions.labels(decision=decision.decision).inc()
                self.log.write(
                    "INFO" if decision.decision == policy.ALLOW else "WARNING",
                    f"Policy evaluation: {decision.decision}, reason_code={decision.reason_code}",
                )
                order_id: str | None = None
                submitted = False
                if decision.decision != policy.ALLOW:
                    self.log.warning(f"Trade blocked by policy: {decision.reason_code}")
                if decision.decision == policy.ALLOW and self.execution_mode == "DRY_RUN":
                    order_id = f"DRY-{uuid.uuid4()}"
                    self._insert_order(conn, order_id, correlation_id, symbol, side, quantity, price, "DRY_RUN")
                    self.log.info(f"DRY_RUN order simulated: order_id={order_id} (nothing sent to VALR)")
                elif decision.decision == policy.ALLOW or self.knobs.order_despite_halt:
                    order_id = self._place_valr_order(correlation_id, symbol, side, quantity)
                    if order_id is not None:
                        submitted = True
                        self._insert_order(conn, order_id, correlation_id, symbol, side, quantity, price, "LIVE")
        except (psycopg.Error, _DbError) as exc:
            self.log.error(f"[DB-500] signal {sig['signal_id']}: {self._reason(exc)}")
            return self._err("DB-500", "Database write failed. L6 Lockdown consideration triggered.", 500)
        approved = decision.decision == policy.ALLOW
        self.metrics.signals_executed.labels(
            symbol=symbol, action=side, status="EXECUTED" if approved else "REJECTED"
        ).inc()
        return JSONResponse(
            {
                "status": "accepted",
                "correlation_id": correlation_id,
                "signal_id": sig["signal_id"],
                "record_id": row[0],
                "timestamp": row[1].isoformat(),
                "processing_ms": round((time.monotonic() - start) * 1000, 2),
                "hmac_verified": True,
                "trade_decision": {
                    "status": "APPROVED" if approved else "REJECTED",
                    "action": "PROCEED" if approved else "HALT",
                },
                # runbook promises (§4.1: a PolicyDecision per signal; §1.6: no real order in DRY_RUN)
                "policy_decision": {
                    "decision": decision.decision,
                    "reason_code": decision.reason_code,
                    "blocking_gate": decision.blocking_gate,
                    "precedence_rank": decision.precedence_rank,
                },
                "decision": decision.decision,
                "reason_code": decision.reason_code,
                "order_submitted": submitted,
                "order_id": order_id,
                "execution_mode": self.execution_mode,
            }
        )

    @staticmethod
    def _insert_order(
        conn: psycopg.Connection[Any],
        order_id: str,
        correlation_id: str,
        pair: str,
        side: str,
        quantity: Decimal,
        price: Decimal,
        mode: str,
    ) -> None:
        dry = mode == "DRY_RUN"
        conn.execute(
            "INSERT INTO trading_orders (order_id, correlation_id, pair, side, quantity, execution_price, zar_value,"
            " status, is_mock, is_simulated, reconciliation_status, execution_mode, valr_order_id, row_hash)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                order_id,
                correlation_id,
                pair,
                side,
                quantity,
                price,
                (price * quantity).quantize(Decimal("0.01")),
                "MOCK_FILLED" if dry else "PLACED",
                dry,
                dry,
                "MOCK_FILLED" if dry else None,
                mode,
                None if dry else order_id[:64],
                "0" * 64,
            ),
        )

    def _place_valr_order(self, correlation_id: str, symbol: str, side: str, quantity: Decimal) -> str | None:
        """Market order on VALR (signed); returns VALR's order id, or None when it was not accepted."""
        from ops_checks.access.valr.signing import signed_headers  # lazy: written by another module owner

        customer_id = correlation_id if _CUSTOMER_ORDER_ID.match(correlation_id) else uuid.uuid4().hex
        body = json.dumps(
            {"side": side, "pair": symbol, "baseAmount": str(quantity), "customerOrderId": customer_id},
            separators=(",", ":"),
        )
        headers = signed_headers(self._valr_key, self._valr_secret, "POST", VALR_MARKET_ORDER_PATH, body)
        headers["Content-Type"] = "application/json"
        try:
            with httpx.Client(transport=self._valr_transport, timeout=5.0, follow_redirects=False) as client:
                resp = client.post(f"{self.valr_base_url}{VALR_MARKET_ORDER_PATH}", content=body, headers=headers)
        except httpx.HTTPError as exc:
            self.log.error(f"Order submission to VALR failed: {self._reason(exc)}")
            return None
        self.log.info(f"Order submitted to VALR: customerOrderId={customer_id} HTTP {resp.status_code}")
        if resp.status_code not in (200, 201, 202):
            self.log.error(f"Order rejected by VALR: HTTP {resp.status_code}")
            return None
        try:
            order_id = str(resp.json().get("id") or customer_id)
        except (ValueError, AttributeError):
            order_id = customer_id
        self.log.info(f"Order confirmation received: id={order_id}")
        return order_id
