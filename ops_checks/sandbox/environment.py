"""The sandbox target assembled: Postgres, VALR simulator, Discord/Grafana stand-ins, the reference bot.

``Sandbox().start()`` returns a ``Target`` whose checks run exactly as on live; only endpoints and
transports differ. Components expose fault knobs (see ``faults.py``).
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import tempfile
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ops_checks.access.config import DEFAULT_SERVICES, SECRET_VARS, DbParams, Service, Target
from ops_checks.access.profile import profile_from_env
from ops_checks.core import envfile, settings, signals
from ops_checks.core.redaction import Redactor
from ops_checks.core.secret import Secret
from ops_checks.core.settings import Thresholds
from ops_checks.sandbox import ntp_host, postgres, sop_env
from ops_checks.sandbox.bot import ReferenceBot
from ops_checks.sandbox.third_party import HookServices
from ops_checks.sandbox.valr_sim import ValrSimulator

VALR_URL = "https://api.valr.com"
BOT_SERVICE, DB_SERVICE = DEFAULT_SERVICES.split(",")
# The sandbox's compose stand-in: what comes up with the database on "docker start postgres" (comma-separated):
# "reseed_settings" (an entrypoint re-seeds system_settings, clearing the kill switch), "restart_bot" (a restart
# policy brings the bot back with its database). Empty on a healthy sandbox; faults set it.
DB_START_ENV = "SANDBOX_DB_START"

# Fast, sandbox-sized windows: the sandbox is minutes old, so freshness limits shrink accordingly; the SOP's
# backoff runs at 1/1000 time. The operator's OPSCHECK_ settings (the environment) override these, as on live.
SANDBOX_THRESHOLDS: dict[str, object] = {
    "log_fresh_s": 2,
    "decisions_fresh_s": 2,
    "log_window_s": 300,
    "backoff_scale": Decimal("0.001"),
}

# Tests that must know the sandbox's secrets (the leak test) set OPSCHECK_SANDBOX_<NAME>, e.g.
# OPSCHECK_SANDBOX_SOVEREIGN_SECRET; otherwise every secret is random per session.
OVERRIDE_PREFIX = "OPSCHECK_SANDBOX_"
OVERRIDABLE = (
    "VALR_API_KEY",
    "VALR_API_SECRET",
    "SOVEREIGN_SECRET",
    "WEBHOOK_SECRET",
    "GUARDIAN_RESET_CODE",
    "GUARDIAN_ADMIN_TOKEN",
    "OPENROUTER_API_KEY",
    "DB_PASSWORD",
    "DISCORD_WEBHOOK_URL",
    "GRAFANA_TOKEN",
)


def sandbox_thresholds(environ: Mapping[str, str] | None = None) -> Thresholds:
    """The sandbox's thresholds: its short windows, under the environment's ``OPSCHECK_`` settings (the operator's
    values apply on the sandbox as on live; the sandbox's own env holds none of them). ConfigError when malformed."""
    env = settings.operator_env(envfile.environ() if environ is None else environ)
    return settings.load(env, **SANDBOX_THRESHOLDS)


def sandbox_secret(name: str, make: str) -> str:
    """The sandbox's value for secret ``name``: ``OPSCHECK_SANDBOX_<name>`` when set, else ``make``."""
    return os.environ.get(OVERRIDE_PREFIX + name) or make


class Sandbox:
    """Throwaway components for one session. Use as a context manager or ``start()``/``stop()``."""

    def __init__(self, workdir: Path | None = None, server: postgres.Server | None = None) -> None:
        """``server``: reuse a running Postgres server (a drill's disposable sandbox); this sandbox then only
        creates and drops its own database, and leaves the server running."""
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="opscheck-sandbox-"))
        self._own_server = server is None
        self.server: postgres.Server | None = server
        self.db: postgres.Database | None = None
        self.valr: ValrSimulator | None = None
        self.hooks: HookServices | None = None
        self.bot: ReferenceBot | None = None
        self.target: Target | None = None
        self.container_health: dict[str, str] = {}
        self.env: dict[str, str] = {}

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Target:
        thresholds = sandbox_thresholds()  # a malformed OPSCHECK_ value: ConfigError before anything starts
        if self.server is None:
            self.server = postgres.start_server()
        self.db = postgres.create_database(self.server, migrations=postgres.migrations_from_env())
        self._override_db_password()
        key = sandbox_secret("VALR_API_KEY", secrets.token_hex(32))
        secret = sandbox_secret("VALR_API_SECRET", secrets.token_hex(32))
        self.valr = ValrSimulator(key, secret, base_url=VALR_URL)
        self.hooks = HookServices(
            discord_url=os.environ.get(OVERRIDE_PREFIX + "DISCORD_WEBHOOK_URL") or None,
            grafana_token=os.environ.get(OVERRIDE_PREFIX + "GRAFANA_TOKEN") or None,
        )
        self.env = self._env(key, secret)
        self.env["NTP_TOOLS_PATH"] = str(ntp_host.install(self.workdir))  # the bot host's NTP status (§8.6.3)
        self.env.update(sop_env.install(self.workdir))  # CDP + standby keys, perpetual pairs (incident SOP)
        log_dir = self.workdir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.bot = ReferenceBot(
            dsn=self.db.app_dsn,
            log_dir=log_dir,
            sovereign_secret=self.env["SOVEREIGN_SECRET"],
            webhook_secret=self.env["WEBHOOK_SECRET"],
            execution_mode="DRY_RUN",
            valr_base_url=VALR_URL,
            valr_transport=self.valr.transport(),
            valr_api_key=key,
            valr_api_secret=secret,
            guardian_admin_token=self.env["GUARDIAN_ADMIN_TOKEN"],
            guardian_reset_code=self.env["GUARDIAN_RESET_CODE"],
        )
        self.bot.knobs.status_interval_s = 0.25
        self.bot.start()
        self.env["BOT_API_URL"] = self.bot.url
        self.env["METRICS_URL"] = f"{self.bot.url}/metrics"
        self.env["LOG_DIR"] = str(log_dir)
        self.target = self._target(log_dir, thresholds)
        return self.target

    def _override_db_password(self) -> None:
        password = os.environ.get(OVERRIDE_PREFIX + "DB_PASSWORD")
        if not password or self.db is None:
            return
        with psycopg.connect(self.db.admin_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(self.db.user), sql.Literal(password))
            )
        self.db = dataclasses.replace(self.db, password=password)

    def _env(self, key: str, secret: str) -> dict[str, str]:
        assert self.db is not None and self.hooks is not None and self.server is not None
        admin = psycopg.conninfo.conninfo_to_dict(self.server.admin_dsn)
        admin_pw = admin.get("password") or ""
        return {
            "DB_HOST": self.db.host,
            "DB_PORT": str(self.db.port),
            "DB_NAME": self.db.name,
            "DB_USER": self.db.user,
            "DB_PASSWORD": self.db.password,
            # an admin DSN without a password (a trust-auth server) still needs a value for §2.1: any one connects
            "POSTGRES_PASSWORD": str(admin_pw) or sandbox_secret("POSTGRES_PASSWORD", secrets.token_urlsafe(24)),
            "POSTGRES_USER": str(admin.get("user") or "postgres"),
            "VALR_BASE_URL": VALR_URL,
            "VALR_API_KEY": key,
            "VALR_API_SECRET": secret,
            "SOVEREIGN_SECRET": sandbox_secret("SOVEREIGN_SECRET", secrets.token_urlsafe(36)),
            "WEBHOOK_SECRET": sandbox_secret("WEBHOOK_SECRET", secrets.token_urlsafe(32)),
            "GUARDIAN_RESET_CODE": sandbox_secret("GUARDIAN_RESET_CODE", secrets.token_hex(12)),
            "GUARDIAN_ADMIN_TOKEN": sandbox_secret("GUARDIAN_ADMIN_TOKEN", secrets.token_urlsafe(32)),
            "OPENROUTER_API_KEY": sandbox_secret("OPENROUTER_API_KEY", "sk-or-" + secrets.token_hex(24)),
            "DISCORD_WEBHOOK_URL": self.hooks.discord_url,
            "GRAFANA_URL": self.hooks.grafana_url,
            "GRAFANA_TOKEN": self.hooks.grafana_token,
            "EXECUTION_MODE": "DRY_RUN",
            "KILL_SWITCH_ENABLED": "true",
            "BUDGETGUARD_STRICT_MODE": "true",
            "MAX_ORDER_ZAR": "5000",
            "MAX_RISK_ZAR": "5000",
            "ZAR_FLOOR": "20000",
            "EXPECTED_ZAR_FLOOR": "20000",
            "EXPECTED_SERVICES": f"{BOT_SERVICE},{DB_SERVICE}",
            "EXPECTED_EXECUTION_MODE": "DRY_RUN",
        }

    def _target(self, log_dir: Path, thresholds: Thresholds) -> Target:
        assert self.db is not None and self.valr is not None and self.hooks is not None and self.bot is not None
        redactor = Redactor(Secret(self.env[n]) for n in SECRET_VARS if self.env.get(n))
        return Target(
            name="sandbox",
            db=DbParams(
                host=self.db.host,
                port=self.db.port,
                name=self.db.name,
                user=self.db.user,
                password=Secret(self.db.password),
                read_only=True,
            ),
            bot_api_url=self.bot.url,
            metrics_url=self.env["METRICS_URL"],
            grafana_url=self.hooks.grafana_url,
            log_dir=log_dir,
            valr_base_url=VALR_URL,
            env=self.env,
            redactor=redactor,
            thresholds=thresholds,
            allow_mutations=True,
            valr_transport=self.valr.transport(),
            hooks_transport=self.hooks.transport(),
            list_services=self.services,
            exchange_orders=self.exchange_orders,
            profile=profile_from_env(self.env),  # the SOP sources it declares (sop_env.declared_sources)
            description=f"sandbox (Postgres: {self.server.kind if self.server else '?'}, VALR simulator, "
            f"reference bot at {self.bot.url})",
        )

    def exchange_orders(self) -> int:
        """How many orders the VALR simulator received (a test signal in DRY_RUN must add none)."""
        return len(self.valr.orders) if self.valr is not None else 0

    def services(self) -> list[Service]:
        """The sandbox's ``docker ps``: each component's run state and its runtime health check."""
        rows = []
        db_up = self.db is not None
        rows.append(
            Service(DB_SERVICE, "running" if db_up else "exited", self.container_health.get(DB_SERVICE, "healthy"))
        )
        bot_up = self.bot is not None and self.bot.policy_loop_alive() is not None and self.bot.serving
        rows.append(
            Service(BOT_SERVICE, "running" if bot_up else "exited", self.container_health.get(BOT_SERVICE, "healthy"))
        )
        return rows

    def admin(self, sql: str, params: Any = None) -> None:
        """Run SQL as the database owner (faults use this to break the environment)."""
        assert self.db is not None
        with psycopg.connect(self.db.admin_db_dsn, autocommit=True) as conn:
            conn.execute(sql, params)

    def stop(self) -> None:
        """Stop the bot, drop the database, stop an own server, remove an own workdir: all of it, even when a signal
        arrives meanwhile (it takes effect afterwards: ``core.signals.deferred``)."""
        with signals.deferred():
            try:
                if self.bot is not None:
                    self.bot.stop()
            finally:
                try:
                    if self.db is not None:
                        postgres.drop_database(self.db)
                finally:
                    if self.server is not None and self._own_server:
                        self.server.stop()
                    if self._own_workdir:
                        shutil.rmtree(self.workdir, ignore_errors=True)
