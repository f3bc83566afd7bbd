"""The reference bot's incident-SOP behaviour: its market-data feed, staleness handling, loss-breach handler,
kill-switch order cancellation, exchange latency and alerts — with the metrics the SOP checks read.

SOP §2: a feed drop blocks entries (exits allowed) and trading resumes only after ``feed_resume_clean_s`` clean
seconds (120). §8: data older than 5 s blocks entries; older than 30 s activates the kill switch. §4: a daily
loss or consecutive-loss breach activates the circuit breaker, marks reduce-only, cancels open orders on the
exchange and sends an alert. §7: any kill-switch activation cancels every open order. Every duration is
multiplied by ``knobs.feed_time_scale`` so drills can compress minutes into fractions of a second.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from decimal import Decimal
from typing import Any, Protocol

import httpx
import psycopg
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

TICK_S = 0.05
STALE_BLOCK_S = 5.0
STALE_KILL_S = 30.0
CANCEL_ALL_PATH = "/v1/orders"


class SopMetrics:
    """The reference bot's metrics for the SOP's figures. The SOP names none and the real bot exports none: the
    sandbox declares these names as the figures' sources (``sop_env.declared_sources``), as an operator would."""

    NAMES = {
        "connected": "websocket_connected",
        "disconnects": "websocket_disconnects_last_hour",
        "downtime": "websocket_downtime_seconds",
        "age": "market_data_age_seconds",
        "reduce_only": "trading_reduce_only",
        "latency": "exchange_request_latency_ms",
        "alerts": "bot_alerts_sent",
    }

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        n = self.NAMES
        self.connected = Gauge(n["connected"], "1 while the market-data websocket is connected", registry=r)
        self.disconnects = Gauge(n["disconnects"], "Websocket disconnects in the last hour", registry=r)
        self.downtime = Gauge(n["downtime"], "Seconds the websocket has been down (0: up)", registry=r)
        self.age = Gauge(n["age"], "Age of the newest market-data update", registry=r)
        self.reduce_only = Gauge(n["reduce_only"], "1 while entries are blocked (exits only)", registry=r)
        self.latency = Gauge(n["latency"], "Exchange request latency quantiles", ["quantile"], registry=r)
        self.alerts = Counter(n["alerts"], "Alerts sent to the team", ["reason"], registry=r)
        self.cancels = Counter("exchange_cancel_all", "Cancel-all requests sent to the exchange", registry=r)


class SopHost(Protocol):
    """What the SOP behaviour uses of the bot it runs in (``ReferenceBot``'s public face)."""

    knobs: Any
    valr_base_url: str

    @property
    def log(self) -> Any: ...

    @property
    def stop_event(self) -> threading.Event: ...

    def open_db(self, connect_timeout: int = 3) -> psycopg.Connection[Any]: ...

    def set_kill_switch(self, activate: bool, reason: str) -> object: ...

    def valr_request(self, method: str, path: str, *, timeout: float = 3.0) -> httpx.Response: ...

    def reason(self, exc: BaseException) -> str: ...


class SopState:
    """Runs in the bot's ``bot-sop`` thread; faults and drills call ``drop_feed``/``stall_feed``/``reconnect``."""

    def __init__(self, bot: SopHost) -> None:
        self.bot = bot
        self.metrics = SopMetrics()
        now = time.monotonic()
        self._last_data = now
        self._was_connected = True
        self._down_since: float | None = None
        self._clean_since = float("-inf")
        self._disconnects: deque[float] = deque()
        self._latencies: deque[float] = deque(maxlen=200)
        self._stale_killed = False
        self._breach_tripped = False
        self._cb_active: bool | None = None
        self.entries_blocked = False
        # the feed's state is changed by faults and drills (other threads) and read-modified by each tick: one lock,
        # or a tick that read "not stalled" just before a stall overwrites the stall's age with "fresh now"
        self._feed_lock = threading.RLock()

    # -- faults and drills ----------------------------------------------------------------------------------
    def drop_feed(self, ago_s: float = 0.0) -> None:
        """The websocket closed ``ago_s`` seconds ago and has not come back."""
        with self._feed_lock:
            now = time.monotonic()
            self._disconnects.append(time.time() - ago_s)
            self._down_since = now - ago_s
            self._last_data = min(self._last_data, now - ago_s)
            self._was_connected = False
            self.bot.knobs.feed_connected = False

    def reconnect(self) -> None:
        with self._feed_lock:
            self.bot.knobs.feed_connected = True
            self.bot.knobs.feed_stalled = False

    def stall_feed(self, age_s: float = 0.0) -> None:
        """Connected, but no update for ``age_s`` seconds (and none from now on)."""
        with self._feed_lock:
            self.bot.knobs.feed_stalled = True
            self._last_data = time.monotonic() - age_s

    def publish(self) -> None:
        """One tick of the feed state and its metrics, now (the loop does it every ``TICK_S``)."""
        with self._feed_lock:
            self._feed_tick()

    def observe_latency_ms(self, ms: float) -> None:
        self._latencies.append(ms)

    def exposition(self) -> bytes:
        return generate_latest(self.metrics.registry)

    # -- loop -----------------------------------------------------------------------------------------------
    def run(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        try:
            while not self.bot.stop_event.is_set():
                self.publish()
                try:
                    if conn is None or conn.closed or conn.broken:
                        conn = self.bot.open_db(connect_timeout=3)
                    self._risk_tick(conn)
                except psycopg.Error:
                    if conn is not None:
                        conn.close()
                    conn = None
                self.bot.stop_event.wait(TICK_S)
        finally:
            if conn is not None:
                conn.close()

    def _feed_tick(self) -> None:  # under _feed_lock
        k, m, now = self.bot.knobs, self.metrics, time.monotonic()
        scale = max(0.0, float(k.feed_time_scale))
        if k.feed_connected and not self._was_connected:
            self._down_since = None
            self._clean_since = now  # the clean window starts when the reconnection is seen
            self.bot.log.info("[WEBSOCKET] reconnected")
        elif not k.feed_connected and self._was_connected:
            self._disconnects.append(time.time())
            self._down_since = now
            self.bot.log.warning("[WEBSOCKET] closed: entries blocked, exits allowed")
        self._was_connected = bool(k.feed_connected)
        if k.feed_connected and not k.feed_stalled:
            self._last_data = now
        age = now - self._last_data
        fresh = k.feed_connected and age <= STALE_BLOCK_S * scale
        blocking = not k.feed_connected or (not fresh and k.stale_block_entries)
        if blocking:
            self._clean_since = now
        self.entries_blocked = blocking or now - self._clean_since < float(k.feed_resume_clean_s) * scale
        if age > STALE_KILL_S * scale and k.stale_kill_switch and not self._stale_killed:
            self._stale_killed = True
            self.bot.log.warning(f"[STALENESS] market data {age:.1f} s old: activating the kill switch")
            self.bot.set_kill_switch(True, "STALE_MARKET_DATA")
        if fresh:
            self._stale_killed = False
        cutoff = time.time() - 3600
        while self._disconnects and self._disconnects[0] < cutoff:
            self._disconnects.popleft()
        m.connected.set(1 if k.feed_connected else 0)
        m.disconnects.set(len(self._disconnects) + int(k.feed_extra_disconnects))
        m.downtime.set(0 if self._down_since is None else now - self._down_since)
        m.age.set(age)
        m.reduce_only.set(1 if self.entries_blocked or self._breach_tripped else 0)
        if self._latencies:
            ordered = sorted(self._latencies)
            for q in ("0.5", "0.95", "0.99"):
                m.latency.labels(quantile=q).set(ordered[min(len(ordered) - 1, int(float(q) * len(ordered)))])

    def _risk_tick(self, conn: psycopg.Connection[Any]) -> None:
        row = conn.execute(
            "SELECT circuit_breaker_active, daily_pnl_pct, daily_loss_limit_pct, consecutive_losses,"
            " max_consecutive_losses FROM system_settings WHERE id = 1"
        ).fetchone()
        if row is None:
            return
        active, pnl, limit, losses, max_losses = bool(row[0]), Decimal(row[1]), Decimal(row[2]), row[3], row[4]
        k = self.bot.knobs
        breached = pnl <= -limit or losses >= max_losses
        if breached and k.breach_handler and not self._breach_tripped:
            reason = "DAILY_LOSS_LIMIT" if pnl <= -limit else "MAX_CONSECUTIVE_LOSSES"
            with conn.transaction():
                # the breach is re-checked inside the UPDATE: a P&L reset committed since the read above wins
                tripped = conn.execute(
                    "UPDATE system_settings SET circuit_breaker_active = TRUE, circuit_breaker_reason = %s,"
                    " circuit_breaker_triggered_at = now(), updated_at = now() WHERE id = 1"
                    " AND (daily_pnl_pct <= -daily_loss_limit_pct OR consecutive_losses >= max_consecutive_losses)"
                    " RETURNING id",
                    (reason,),
                ).fetchone()
                if tripped is None:
                    return
                self._breach_tripped = True
                event = "DAILY_LOSS_TRIGGERED" if reason == "DAILY_LOSS_LIMIT" else "CONSECUTIVE_LOSS_TRIGGERED"
                conn.execute(  # the real event types; no operator column (migration 013)
                    "INSERT INTO circuit_breaker_events (event_type, trigger_reason, trigger_value, daily_pnl_pct,"
                    " consecutive_losses, row_hash) VALUES (%s, %s, %s, %s, %s, %s)",
                    (event, reason, f"{pnl}/{limit}; {losses}/{max_losses}"[:50], pnl, losses, "0" * 64),
                )
            self._cb_active = True  # the breach handler cancels (or not) by itself
            self.bot.log.warning(f"[CIRCUIT_BREAKER] {reason}: trading halted, reduce-only")
            if k.breach_cancel_orders:
                self.cancel_all(reason)
            self.alert(reason, f"{reason}: daily P&L {pnl}, consecutive losses {losses}")
            return
        if not breached:
            self._breach_tripped = False
        if active and self._cb_active is False and k.kill_switch_cancel_orders:
            self.cancel_all("KILL_SWITCH")
            self.alert("KILL_SWITCH", "kill switch activated: open orders cancelled")
        self._cb_active = active

    def cancel_all(self, why: str) -> None:
        bot = self.bot
        self.metrics.cancels.inc()
        try:
            resp = bot.valr_request("DELETE", CANCEL_ALL_PATH, timeout=3.0)
            bot.log.warning(f"[{why}] cancel-all sent to VALR: HTTP {resp.status_code}")
        except httpx.HTTPError as exc:
            bot.log.error(f"[{why}] cancel-all failed: {bot.reason(exc)}")

    def alert(self, reason: str, message: str) -> None:
        with contextlib.suppress(ValueError):
            self.metrics.alerts.labels(reason=reason).inc()
        self.bot.log.warning(f"[ALERT] severity=CRITICAL reason={reason} {message}")
