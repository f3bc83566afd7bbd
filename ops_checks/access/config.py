"""Target configuration: where every endpoint points, which secrets to use, and the thresholds (their one
definition is ``ops_checks/core/settings.py``; a target carries the validated ``Thresholds``).

Live: everything from env vars, optionally loaded from ``--env-file`` (env vars override the file).
Sandbox: the sandbox builds the same ``Target`` with its own endpoints and transports.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ops_checks.access.profile import REAL_BOT, BotProfile, profile_from_env
from ops_checks.core import envfile, settings
from ops_checks.core.envfile import ConfigError as ConfigError  # what from_env raises: callers catch it from here
from ops_checks.core.envfile import read_env_file
from ops_checks.core.redaction import Redactor
from ops_checks.core.secret import Secret
from ops_checks.core.settings import Thresholds

SECRET_VARS = (
    "VALR_API_KEY",
    "VALR_API_SECRET",
    "SOVEREIGN_SECRET",
    "WEBHOOK_SECRET",
    "POSTGRES_PASSWORD",
    "DB_PASSWORD",
    "GUARDIAN_RESET_CODE",
    "GUARDIAN_ADMIN_TOKEN",
    "DISCORD_WEBHOOK_URL",
    "OPENROUTER_API_KEY",
    "GRAFANA_TOKEN",
    "DATABASE_URL",
    "COINBASE_CDP_API_KEY",
    "COINBASE_CDP_STANDBY_KEY",
    "VALR_STANDBY_API_KEY",
    "VALR_STANDBY_API_SECRET",
    "CURRENT_JWT",
)

#: the containers of TRADE_BOT's docker-compose.prod.yml that must run (its container_name values; the runbook's
#: `docker exec postgres` names a container the prod stack calls autonomous_alpha_db)
DEFAULT_SERVICES = "autonomous_alpha_bot,autonomous_alpha_db"

ENV_VARS: dict[str, str] = {
    "DB_HOST": "database host (or DATABASE_URL)",
    "DB_PORT": "database port (default 5432)",
    "DB_NAME": "database name (default autonomous_alpha)",
    "DB_USER": "application role (default app_trading)",
    "DB_PASSWORD": "application role password (secret)",
    "DATABASE_URL": "libpq URL instead of the DB_* variables (secret)",
    "POSTGRES_PASSWORD": "superuser password, §2.1 (secret)",
    "BOT_API_URL": "bot API (default http://localhost:8000)",
    "BOT_HEALTH_PATH": "default /health",
    "BOT_GUARDIAN_PATH": "the runbook's §4.2 Method 2 endpoint (default /api/guardian/kill-switch)",
    "BOT_GUARDIAN_STATUS_PATH": "default /guardian/status",
    "BOT_SIGNAL_PATH": "default /webhook/tradingview",
    "GUARDIAN_ADMIN_TOKEN": "the bot's guardian unlock Bearer token (secret)",
    "METRICS_URL": "Prometheus text endpoint (default http://localhost:9090/metrics)",
    "GRAFANA_URL": "Grafana base URL (default http://localhost:3000)",
    "GRAFANA_TOKEN": "Grafana API token (secret)",
    "GRAFANA_DASHBOARDS": "comma-separated dashboard titles or uids that must exist (default: any one)",
    "LOG_DIR": "bot log directory (default /var/log/autonomous_alpha)",
    "VALR_BASE_URL": "default https://api.valr.com",
    "VALR_API_KEY": "exchange key (secret)",
    "VALR_API_SECRET": "exchange signing secret (secret)",
    "SOVEREIGN_SECRET": "guardian API secret, >= 32 chars (secret)",
    "WEBHOOK_SECRET": "signal webhook HMAC secret (secret)",
    "GUARDIAN_RESET_CODE": "hard-stop reset code (secret)",
    "DISCORD_WEBHOOK_URL": "alert webhook (secret)",
    "OPENROUTER_API_KEY": "AI Council key (secret)",
    "EXECUTION_MODE": "DRY_RUN or LIVE",
    "LIVE_TRADING_CONFIRMED": "TRUE for LIVE",
    "KILL_SWITCH_ENABLED": "true",
    "BUDGETGUARD_STRICT_MODE": "true (recommended)",
    "MAX_ORDER_ZAR": "per-order limit in ZAR",
    "MAX_RISK_ZAR": "risk limit in ZAR",
    "ZAR_FLOOR": "minimum ZAR balance",
    "EXPECTED_SERVICES": f"containers that must run (default {DEFAULT_SERVICES})",
    "EXPECTED_EXECUTION_MODE": "mode this preflight is for (default DRY_RUN)",
    "AUDIT_INCEPTION_DATE": "§7.6: when the audit trail began (else table ops_audit_inception)",
    "BOT_DB_USER": "§7.6: the bot's database role, if not DB_USER",
    "COINBASE_CDP_API_KEY": "incident SOP §1: Coinbase CDP key name (optional; unset = VALR only)",
    "COINBASE_CDP_PRIVATE_KEY_PATH": "incident SOP §1: the CDP private key file (mode 400/600)",
    "COINBASE_CDP_STANDBY_KEY": "incident SOP §3: standby CDP key name",
    "COINBASE_CDP_STANDBY_KEY_PATH": "incident SOP §3: standby CDP private key file",
    "VALR_STANDBY_API_KEY": "incident SOP §3: standby VALR key (secret)",
    "VALR_STANDBY_API_SECRET": "incident SOP §3: standby VALR signing secret (secret)",
    "CURRENT_JWT": "incident SOP §1: the bot's current CDP JWT, checked when set (secret)",
    "PERPETUAL_PAIRS": "incident SOP §6: comma-separated perpetual pairs for the funding check",
    "ESCALATION_CONTACTS_FILE": "incident SOP monthly checklist: the escalation contact list (JSON)",
}


@dataclass(frozen=True)
class DbParams:
    host: str
    port: int
    name: str
    user: str
    password: Secret
    read_only: bool = True
    admin_user: str = "postgres"
    admin_password: Secret = field(default_factory=lambda: Secret(""))

    def dsn(self, *, user: str | None = None, password: Secret | None = None) -> str:
        pw = (password if password is not None else self.password).reveal()
        return make_conninfo(
            host=self.host,
            port=self.port,
            dbname=self.name,
            user=user or self.user,
            password=pw or None,
            connect_timeout=3,
            application_name="opscheck",
        )

    def describe(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.name}"


@dataclass(frozen=True)
class Service:
    """One row of the ``docker ps`` stand-in."""

    name: str
    state: str  # running | exited | restarting
    health: str  # healthy | unhealthy | starting | none


@dataclass
class Target:
    """Everything a check needs to know about where it runs. Built once per session."""

    name: str
    db: DbParams
    bot_api_url: str
    metrics_url: str
    grafana_url: str
    log_dir: Path
    valr_base_url: str
    env: Mapping[str, str]
    redactor: Redactor
    thresholds: Thresholds
    allow_mutations: bool = False
    profile: BotProfile = REAL_BOT  # how this deployment of the bot speaks (ops_checks/access/profile.py)
    valr_transport: httpx.BaseTransport | None = None
    hooks_transport: httpx.BaseTransport | None = None  # Discord and Grafana
    list_services: Callable[[], list[Service]] | None = None
    exchange_orders: Callable[[], int] | None = None  # the orders the exchange received so far, where it can tell
    description: str = ""

    def __repr__(self) -> str:
        """Never the env (it holds every secret): reports record fixture values by their repr."""
        return f"Target({self.name!r}, {self.db.describe()!r}, bot={self.bot_api_url!r})"

    # the profile's paths under their older names (read-only: change the profile instead)
    @property
    def bot_health_path(self) -> str:
        return self.profile.health_path

    @property
    def bot_signal_path(self) -> str:
        return self.profile.signal_path

    @property
    def bot_guardian_path(self) -> str:
        """The runbook's §4.2 Method 2 endpoint (the real bot has /guardian/status|unlock|reset instead)."""
        return self.profile.runbook_kill_switch_path

    def bot_url(self, path: str) -> str:
        """The bot's base URL joined with one of the profile's paths."""
        return self.bot_api_url + (path if path.startswith("/") else "/" + path)

    def secret(self, name: str) -> Secret:
        """The value as a Secret, registered with the redactor (env can change after the target was built)."""
        value = Secret(self.env.get(name, "") or "")
        self.redactor.register(value)
        return value

    def value(self, name: str, default: str = "") -> str:
        return self.env.get(name, default) or default

    def describe(self) -> dict[str, str]:
        return {
            "target": self.name,
            "database": self.db.describe(),
            "bot_api": self.bot_api_url,
            "metrics": self.metrics_url,
            "grafana": self.grafana_url,
            "valr": self.valr_base_url,
            "log_dir": str(self.log_dir),
            "allow_mutations": str(self.allow_mutations).lower(),
            "expected_execution_mode": self.value("EXPECTED_EXECUTION_MODE", "DRY_RUN"),
        }


def load_env(env_file: Path | None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Merge an env file (dotenv semantics) under the process environment; env vars win."""
    merged: dict[str, str] = {}
    if env_file is not None:
        merged.update(read_env_file(env_file))  # strict: ConfigError "<file>:<line>: <problem>"
    merged.update(envfile.environ() if environ is None else dict(environ))
    return merged


_PORT = re.compile(r"[0-9]{1,5}")
_SHOWABLE = re.compile(r"[\w.+\- ]{0,12}", re.ASCII)  # a short, number-like bad value may be quoted


def parse_port(raw: object, source: str, *, show: bool) -> int:
    """A TCP port 1-65535 from ``source`` (``DB_PORT``, ``DATABASE_URL``); ConfigError otherwise.
    ``show``: quote a short, number-like bad value (never for a URL, which may hold a password)."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        return 5432
    if _PORT.fullmatch(text) and 1 <= int(text) <= 65535:
        return int(text)
    if not show:
        what = f"{source}: the port"
    elif _SHOWABLE.fullmatch(text):
        what = f"{source}={text!r}"
    else:
        what = source
    raise ConfigError(f"{what} is not a port number from 1 to 65535")


def live_target(env: Mapping[str, str], *, allow_mutations: bool) -> Target:
    """A live target from env vars; never fails on missing values (the checks report them). A malformed value
    (DATABASE_URL, DB_PORT, an OPSCHECK_ threshold) is a ConfigError: one line, never a secret."""
    thresholds = settings.load(env)
    if env.get("DATABASE_URL"):
        try:
            p = conninfo_to_dict(env["DATABASE_URL"])
        except Exception as exc:  # noqa: BLE001 - psycopg raises ProgrammingError for bad URLs
            raise ConfigError("DATABASE_URL is not a valid libpq URL") from exc
        db = DbParams(
            host=str(p.get("host", "localhost")),
            port=parse_port(p.get("port"), "DATABASE_URL", show=False),
            name=str(p.get("dbname", "autonomous_alpha")),
            user=str(p.get("user", "app_trading")),
            password=Secret(str(p.get("password", ""))),
            read_only=not allow_mutations,
        )
    else:
        port = parse_port(env.get("DB_PORT"), "DB_PORT", show=True)
        db = DbParams(
            host=env.get("DB_HOST") or "localhost",
            port=port,
            name=env.get("DB_NAME") or "autonomous_alpha",
            user=env.get("DB_USER") or "app_trading",
            password=Secret(env.get("DB_PASSWORD", "")),
            read_only=not allow_mutations,
            admin_password=Secret(env.get("POSTGRES_PASSWORD", "")),
        )
    redactor = Redactor(Secret(env.get(n, "")) for n in SECRET_VARS)
    redactor.register(db.password)
    return Target(
        name="live",
        db=db,
        bot_api_url=(env.get("BOT_API_URL") or "http://localhost:8000").rstrip("/"),
        metrics_url=env.get("METRICS_URL") or "http://localhost:9090/metrics",
        grafana_url=(env.get("GRAFANA_URL") or "http://localhost:3000").rstrip("/"),
        log_dir=Path(env.get("LOG_DIR") or "/var/log/autonomous_alpha"),
        valr_base_url=(env.get("VALR_BASE_URL") or "https://api.valr.com").rstrip("/"),
        env=env,
        redactor=redactor,
        thresholds=thresholds,
        allow_mutations=allow_mutations,
        profile=profile_from_env(env),
        description="live (endpoints from environment)",
    )
