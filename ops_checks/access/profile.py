"""The bot profile: everything that can differ between deployments of the trading bot, in one place.

Defaults are the real bot's values (GitHub ``Herman940306/TRADE_BOT`` v1.9.0, commit 20b7c1b), each taken from
its source: ``app/main.py`` (``/``, ``/health``, ``/metrics``), ``app/api/webhook.py`` and
``app/schemas/signal.py`` (the TradingView webhook), ``app/auth/security.py`` (its signing),
``app/api/guardian.py`` (``/guardian/*``), ``app/observability/metrics.py`` (metric names) and
``docker-compose.prod.yml`` (the role the bot connects as), ``app/logic/trade_permission_policy.py`` (its
time-sync log lines). The ``runbook_*`` fields are what the runbook promises and the real bot does not provide;
checks that need them report the difference, naming both sides. The ``sop_metric_*`` fields are sources the SOP
names none for: declared per deployment (``DECLARED_SOURCES``), none by default.

Checks reach the bot only through ``Target.profile``: never a hard-coded path, header or field name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# env var -> profile field (string fields only; read once by config.py)
ENV_OVERRIDES: dict[str, str] = {
    "BOT_HEALTH_PATH": "health_path",
    "BOT_ROOT_PATH": "root_path",
    "BOT_METRICS_PATH": "metrics_path",
    "BOT_GUARDIAN_STATUS_PATH": "guardian_status_path",
    "BOT_GUARDIAN_UNLOCK_PATH": "guardian_unlock_path",
    "BOT_GUARDIAN_RESET_PATH": "guardian_reset_path",
    "BOT_GUARDIAN_PATH": "runbook_kill_switch_path",  # the runbook's §4.2 Method 2 endpoint (README name kept)
    "BOT_SIGNAL_PATH": "signal_path",
    "BOT_SIGNAL_SIGNATURE_HEADER": "signal_signature_header",
    "BOT_SIGNAL_SECRET_VAR": "signal_secret_var",
    "BOT_GUARDIAN_TOKEN_VAR": "guardian_token_var",
    "BOT_DB_ROLE": "db_role",
    "BOT_HEALTH_MODE_KEY": "runbook_health_execution_mode_key",  # where the bot reports EXECUTION_MODE, if anywhere
}


@dataclass(frozen=True)
class DeclaredSource:
    """A figure the runbook or SOP needs but names no source for: the env line that declares the bot's metric for
    it (``env``), what the figure is (``figure``: the cause's subject) and what the metric must be (``shape``)."""

    env: str
    figure: str
    shape: str

    def remedy(self) -> str:
        return f"{self.env}=<metric name> in the env file: {self.shape}"


# profile field -> its declaration (str | None fields: None is "not declared"; read once by config.py)
DECLARED_SOURCES: dict[str, DeclaredSource] = {
    "sop_metric_ws_disconnects": DeclaredSource(
        "BOT_METRIC_WEBSOCKET_DISCONNECTS",
        "websocket disconnects per hour",
        "the bot's gauge of its market-data websocket's disconnects in the last hour",
    ),
    "sop_metric_ws_downtime": DeclaredSource(
        "BOT_METRIC_WEBSOCKET_DOWNTIME",
        "websocket downtime",
        "the bot's gauge of the seconds its market-data websocket has been down (0 while connected)",
    ),
    "sop_metric_ws_connected": DeclaredSource(
        "BOT_METRIC_WEBSOCKET_CONNECTED",
        "websocket state",
        "the bot's 0/1 gauge, 1 while its market-data websocket is connected",
    ),
    "sop_metric_data_age": DeclaredSource(
        "BOT_METRIC_MARKET_DATA_AGE",
        "market-data age",
        "the bot's gauge of the age in seconds of its newest market-data update",
    ),
    "sop_metric_reduce_only": DeclaredSource(
        "BOT_METRIC_REDUCE_ONLY", "reduce-only state", "the bot's 0/1 gauge, 1 while it blocks entries (exits only)"
    ),
    "sop_metric_alerts_sent": DeclaredSource(
        "BOT_METRIC_ALERTS_SENT",
        "alerts sent",
        "the bot's counter of alerts sent to the team, with a reason label (DAILY_LOSS_LIMIT …)",
    ),
    "sop_metric_exchange_latency": DeclaredSource(
        "BOT_METRIC_EXCHANGE_LATENCY",
        "exchange latency",
        'the bot\'s exchange request latency in ms with quantile labels "0.5", "0.95", "0.99"',
    ),
}


@dataclass(frozen=True)
class BotProfile:
    """How this deployment of the bot speaks. Frozen; build variants with ``dataclasses.replace``."""

    # --- system endpoints (app/main.py)
    health_path: str = "/health"
    health_ok_status: str = "healthy"  # GET /health -> {"status": "healthy", "database": "connected"}; 503 else
    health_db_key: str = "database"
    health_db_ok: str = "connected"
    root_path: str = "/"  # GET / -> {"status": "operational", "components": {...}}
    root_components_key: str = "components"
    metrics_path: str = "/metrics"  # Prometheus text (prometheus_client.generate_latest)
    # app/observability/metrics.py
    metric_names: tuple[str, ...] = (
        "trade_signals_received_total",
        "trade_signals_executed_total",
        "equity_zar_gauge",
        "slippage_pct_histogram",
        "expectancy_gauge",
    )
    # --- guardian (app/api/guardian.py, mounted at /guardian)
    guardian_status_path: str = "/guardian/status"  # GET, no auth -> {"system_locked": bool, ...}
    guardian_unlock_path: str = "/guardian/unlock"  # POST {"reason", "correlation_id"}, Bearer token
    guardian_reset_path: str = "/guardian/reset"  # POST {"reset_code", "operator_id"} (legacy)
    guardian_auth_header: str = "Authorization"
    guardian_auth_scheme: str = "Bearer"
    guardian_token_var: str = "GUARDIAN_ADMIN_TOKEN"
    guardian_reset_code_var: str = "GUARDIAN_RESET_CODE"
    guardian_locked_key: str = "system_locked"
    # --- TradingView webhook (app/api/webhook.py, app/auth/security.py, app/schemas/signal.py)
    signal_path: str = "/webhook/tradingview"
    signal_signature_header: str = "X-TradingView-Signature"  # hex HMAC-SHA256 of the raw body
    signal_secret_var: str = "SOVEREIGN_SECRET"  # security.py SECRET_KEY_ENV_VAR; >= 32 chars
    signal_secret_min_length: int = 32
    signal_fields: tuple[str, ...] = ("signal_id", "symbol", "side", "price", "quantity")  # extra="forbid"
    signal_id_max_length: int = 64
    signal_symbol_pattern: str = r"^[A-Z0-9]{1,20}$"
    signal_sides: tuple[str, ...] = ("BUY", "SELL")
    signal_decimal_places: int = 10  # price/quantity: Decimal strings, > 0, <= 10 places, never floats
    signal_accepted_status: str = "accepted"  # 200 {"status": "accepted", "correlation_id": uuid, ...}
    signal_duplicate_status_code: int = 409
    # --- what the runbook promises that the real bot does not have
    runbook_kill_switch_path: str = "/api/guardian/kill-switch"  # §4.2 Method 2
    runbook_kill_switch_header: str = "X-Sovereign-Secret"
    runbook_kill_switch_secret_var: str = "SOVEREIGN_SECRET"
    runbook_signal_secret_var: str = "WEBHOOK_SECRET"  # runbook §2.1: "TradingView auth"
    runbook_health_execution_mode_key: str = "execution_mode"  # not in the real /health
    # --- logs (runbook §1.3 tags)
    log_tag_budget: str = "[BUDGET_LOADED]"
    log_health_pattern: str = r"health_status=(?P<value>[A-Z]+)"
    log_risk_pattern: str = r"risk_assessment=(?P<value>[A-Z_]+)"
    # runbook §8.2 / §8.5 drift metrics (engineer D): the real bot exports none of them (its
    # ExchangeTimeSynchronizer, app/logic/trade_permission_policy.py, only logs "Exchange time sync: drift_ms=N")
    runbook_drift_gauge: str = "exchange_clock_drift_ms"
    runbook_drift_exceeded_counter: str = "exchange_clock_drift_exceeded_total"
    runbook_sync_failures_counter: str = "exchange_time_sync_failures_total"
    # §8.2 / §8.3: what the bot's ExchangeTimeSynchronizer logs (app/logic/trade_permission_policy.py). The runbook
    # quotes "[TIME_SYNC] drift_ms=45 is_within_tolerance=True" and "[EXCHANGE_TIME_DRIFT] … NEUTRAL state
    # triggered"; the bot's code writes neither: it logs the lines below, through main.py's basicConfig
    # ("%(asctime)s | %(levelname)s | %(name)s | %(message)s", level INFO).
    bot_time_sync_started_log: str = "ExchangeTimeSynchronizer initialized"  # INFO, once (runbook §8.3 Step 2)
    # each sync: DEBUG when within tolerance (not written at main.py's INFO level), WARNING beyond it; N = |drift|
    bot_time_sync_log: str = "Exchange time sync: drift_ms="
    # WARNING "[TPP-006] Exchange clock drift exceeded threshold - entering NEUTRAL state", on the first sync beyond
    bot_drift_exceeded_log: str = "Exchange clock drift exceeded threshold"
    # INFO "Exchange clock drift recovered - clearing NEUTRAL state", on the first sync back within tolerance
    bot_drift_recovered_log: str = "Exchange clock drift recovered"
    # ERROR "[TPP-007] Exchange /time endpoint unavailable: <error>" (or "[TPP-007] Exchange client not configured")
    bot_time_sync_failed_tag: str = "[TPP-007]"
    # incident-SOP figures the SOP names no source for (websocket, market-data age, latency, reduce-only state,
    # alerts): declared per deployment (``DECLARED_SOURCES``: BOT_METRIC_* env lines), none by default. The real bot
    # (TRADE_BOT v1.9.0) has no websocket feed and exports no such metric; an item needing an undeclared source is
    # not verified and names the env line to declare.
    sop_metric_ws_disconnects: str | None = None
    sop_metric_ws_downtime: str | None = None
    sop_metric_ws_connected: str | None = None
    sop_metric_data_age: str | None = None
    sop_metric_reduce_only: str | None = None
    sop_metric_alerts_sent: str | None = None
    sop_metric_exchange_latency: str | None = None
    # --- database role: the runbook's commands use app_trading; docker-compose.prod.yml connects as
    # "sovereign" (the POSTGRES_USER, a superuser) through DATABASE_URL
    db_role: str = "app_trading"
    compose_db_user: str = "sovereign"

    def guardian_auth(self, token: str) -> dict[str, str]:
        """The guardian's auth header for ``token`` (the value stays with the caller's redactor)."""
        value = f"{self.guardian_auth_scheme} {token}" if self.guardian_auth_scheme else token
        return {self.guardian_auth_header: value}

    def describe(self) -> dict[str, str]:
        return {
            "health": f"GET {self.health_path}",
            "guardian": f"GET {self.guardian_status_path}, POST {self.guardian_unlock_path}, "
            f"POST {self.guardian_reset_path} ({self.guardian_auth_header}: {self.guardian_auth_scheme} "
            f"${self.guardian_token_var})",
            "signal": f"POST {self.signal_path} ({self.signal_signature_header}: HMAC-SHA256 "
            f"${self.signal_secret_var})",
            "metrics": f"GET {self.metrics_path}",
            "db_role": self.db_role,
        }


REAL_BOT = BotProfile()


def profile_from_env(env: Mapping[str, str], base: BotProfile = REAL_BOT) -> BotProfile:
    """``base`` with the ``BOT_*`` overrides and source declarations (``BOT_METRIC_*``) of ``env`` applied (empty
    values are ignored)."""
    names = {**ENV_OVERRIDES, **{d.env: f for f, d in DECLARED_SOURCES.items()}}
    changes: dict[str, Any] = {f: env[name].strip() for name, f in names.items() if (env.get(name) or "").strip()}
    if "BOT_EXPECTED_METRICS" in env and env["BOT_EXPECTED_METRICS"].strip():
        changes["metric_names"] = tuple(n.strip() for n in env["BOT_EXPECTED_METRICS"].split(",") if n.strip())
    return dataclasses.replace(base, **changes) if changes else base
