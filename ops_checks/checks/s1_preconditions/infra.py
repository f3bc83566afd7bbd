"""Runbook §1.1: infrastructure — database, settings row, audit tables, services, bot API."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from psycopg import sql

from ops_checks.access.config import DEFAULT_SERVICES, Service, Target
from ops_checks.access.db import DbError, connect
from ops_checks.checks import causes, givens
from ops_checks.core import readings
from ops_checks.core.http import HttpError, Recorder, json_body, request
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, not_verified, passed


def database_connectivity(t: Target) -> CheckResult:
    """1.1.1: ``SELECT 1`` as the application role returns 1."""
    try:
        with connect(t.db, t.redactor) as db:
            row = db.one("SELECT 1 AS one")
            ev = db.log.evidence()
    except DbError as exc:
        return failed("no connection", 1, str(exc), cause=causes.database_connect(t, str(exc)))
    value = row["one"] if row else None
    if type(value) is not int or value != 1:
        return failed(value, 1, f"SELECT 1 returned {value!r}", ev)
    return passed(1, 1, f"connected as {t.db.describe()}", ev)


REQUIRED_SETTINGS = (
    "daily_loss_limit_pct",
    "max_consecutive_losses",
    "daily_pnl_zar",
    "consecutive_losses",
    "daily_pnl_reset_at",
    "daily_starting_equity_zar",
    "circuit_breaker_active",
)


def settings_row_problems(row: dict[str, object], now: datetime, max_reset_age: timedelta) -> list[str]:
    """What makes a system_settings row invalid (empty list: valid)."""
    problems = [f"{c} is NULL" for c in REQUIRED_SETTINGS if row.get(c) is None]
    pct = row.get("daily_loss_limit_pct")
    try:  # NaN, a negative or a boolean is named (the NULLs are above)
        if pct is not None and not Decimal(0) < readings.amount(pct, "daily_loss_limit_pct") < Decimal(1):
            problems.append(f"daily_loss_limit_pct {pct} is not a fraction in (0, 1)")
    except readings.BadReading as exc:
        problems.append(str(exc))
    losses = row.get("max_consecutive_losses")
    try:
        if losses is not None and readings.count(losses, "max_consecutive_losses") <= 0:
            problems.append(f"max_consecutive_losses {losses} is not positive")
    except readings.BadReading as exc:
        problems.append(str(exc))
    active = row.get("circuit_breaker_active")
    if active is not None and not isinstance(active, bool):
        problems.append(f"circuit_breaker_active is {readings.shown(active)}: not true or false")
    reset = row.get("daily_pnl_reset_at")
    if reset is not None and not (isinstance(reset, datetime) and reset.tzinfo is not None):
        problems.append(f"daily_pnl_reset_at is {readings.shown(reset)}: not a time with a time zone")
    elif isinstance(reset, datetime):
        if reset > now + timedelta(minutes=1):
            problems.append(f"daily_pnl_reset_at {reset.isoformat()} is in the future")
        elif now - reset > max_reset_age:
            hours = int((now - reset).total_seconds() // 3600)
            problems.append(f"daily P&L not reset for {hours} h (daily_pnl_reset_at {reset.isoformat()})")
    if row.get("circuit_breaker_active") and not row.get("circuit_breaker_reason"):
        problems.append("circuit breaker active without a reason")
    return problems


def settings_row_valid(t: Target) -> CheckResult:
    """1.1.2: ``system_settings`` id = 1 exists and its data is valid."""
    try:
        with connect(t.db, t.redactor) as db:
            row = db.one("SELECT *, now() AS db_now FROM system_settings WHERE id = %s", (1,))
            ev = db.log.evidence()
    except DbError as exc:
        return causes.db_failed(t, "query failed", "row id=1", exc, "system_settings")
    if row is None:
        return failed("no row", "row id=1", "system_settings has no row with id = 1", ev)
    problems = settings_row_problems(row, row["db_now"], timedelta(hours=t.thresholds.settings_reset_max_age_h))
    if problems:
        cause = (
            causes.STARTING_EQUITY
            if problems == ["daily_starting_equity_zar is NULL"]
            else Cause(
                "bot_state",
                "system_settings id=1",
                "system_settings id=1 is invalid: " + "; ".join(problems),
                "correct the row the bot's policy reads (its migrations seed it; its daily reset sets the P&L "
                "columns): UPDATE system_settings SET … WHERE id = 1, then re-run",
            )
        )
        said = "; ".join(problems)
        return failed(said, "valid settings", f"system_settings id=1 invalid: {said}", ev, cause=cause)
    return passed("row id=1 valid", "row id=1 valid", "", ev)


def table_queryable(t: Target, table: str) -> CheckResult:
    """1.1.3 / 1.1.4: ``SELECT COUNT(*) FROM <table>`` succeeds."""
    query = sql.SQL("SELECT COUNT(*) AS n FROM {}").format(sql.Identifier(table))
    try:
        with connect(t.db, t.redactor) as db:
            row = db.one(query.as_string(db.conn))
            ev = db.log.evidence()
    except DbError as exc:
        return causes.db_failed(t, "query failed", "query succeeds", exc, table)
    return passed(f"{row['n'] if row else 0} rows", "query succeeds", f"{table}: {row['n'] if row else 0} rows", ev)


class ServicesError(RuntimeError):
    """The services cannot be listed; ``str()`` is one plain sentence, ``cause`` the problem and its remedy."""

    def __init__(self, reason: str, cause: Cause) -> None:
        super().__init__(reason)
        self.cause = cause


def _docker_cause(detail: str, remedy: str) -> Cause:
    """The service list cannot be read: the same cause (kind, subject) as §5's readiness items'."""
    return Cause("service_list", "docker ps", detail, remedy)


#: where the Docker API is reached without the docker CLI (opscheck in a container: the host's socket mounted there)
DOCKER_SOCKET = Path("/var/run/docker.sock")


def _docker_api_services(timeout_s: float) -> list[Service]:
    """``docker ps --all`` through the Docker API (``DOCKER_HOST``, else the socket at ``DOCKER_SOCKET``)."""
    try:
        import docker  # the docker SDK: ops-checks[sandbox], and in the container image
    except ImportError:
        reason = "the docker CLI is not installed here and neither is the docker Python SDK"
        raise ServicesError(reason, _docker_cause(reason, "install the docker CLI or ops-checks[sandbox]")) from None
    try:
        client = docker.from_env(timeout=max(1, int(timeout_s)))
        try:
            listed = client.containers.list(all=True)
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - the SDK raises many kinds (DockerException, requests' errors)
        said = " ".join(str(exc).split())[:160] or type(exc).__name__
        reason = f"the Docker API did not list the containers: {said}"
        remedy = "check the Docker daemon: systemctl status docker"
        if "permission denied" in said.lower():
            remedy = (
                f"let this user read {DOCKER_SOCKET}: on the host, the docker group (sudo usermod -aG docker $USER); "
                "in a container, the socket's group (DOCKER_GID=$(stat -c %g /var/run/docker.sock) with "
                "deploy/compose.opscheck.yml's group_add)"
            )
        raise ServicesError(reason, _docker_cause(reason, remedy)) from None
    services = []
    for c in listed:
        state = c.attrs.get("State") if isinstance(c.attrs, dict) else None
        health = (state.get("Health") or {}).get("Status") if isinstance(state, dict) else None
        services.append(Service(str(c.name), str(c.status), str(health or "none")))
    return services


def docker_services(timeout_s: float = 5.0) -> list[Service]:
    """The live stand-in: ``docker ps --filter name=autonomous`` as JSON lines; without the docker CLI (opscheck in a
    container), the same list through the Docker API when ``DOCKER_HOST`` is set or the host's socket is mounted."""
    docker = shutil.which("docker")
    if docker is None and (os.environ.get("DOCKER_HOST") or DOCKER_SOCKET.exists()):
        return _docker_api_services(timeout_s)
    if docker is None:
        reason = "the docker CLI is not installed on this host and no Docker socket is mounted"
        remedy = (
            "run opscheck on the host that runs the bot's containers, or (opscheck in a container) mount the host's "
            f"Docker socket at {DOCKER_SOCKET} (deploy/compose.opscheck.yml does)"
        )
        raise ServicesError(reason, _docker_cause(reason, remedy))
    try:
        out = subprocess.run(
            [docker, "ps", "--all", "--format", "{{json .}}"],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=True,
        )
    except subprocess.TimeoutExpired as exc:
        reason = f"docker ps did not answer within {timeout_s} s"
        raise ServicesError(reason, _docker_cause(reason, "check the Docker daemon: systemctl status docker")) from exc
    except subprocess.CalledProcessError as exc:
        said = next(iter((exc.stderr or "").strip().splitlines()), "") or f"exit status {exc.returncode}"
        reason = f"docker ps failed: {said}"
        remedy = (
            "start the Docker daemon (systemctl start docker), or let this user use it: "
            "sudo usermod -aG docker $USER (then log in again)"
        )
        raise ServicesError(reason, _docker_cause(reason, remedy)) from exc
    services = []
    for line in out.stdout.splitlines():
        try:
            info = json.loads(line)
        except ValueError as exc:
            reason = f"docker ps printed a line that is not JSON: {line[:80]}"
            raise ServicesError(
                reason, _docker_cause(reason, "check the docker CLI's version (docker version)")
            ) from exc
        if not isinstance(info, dict):
            continue
        status = str(info.get("Status", ""))
        state = str(info.get("State", "running" if status.startswith("Up") else "exited"))
        health = (
            "unhealthy"
            if "(unhealthy)" in status
            else "healthy"
            if "(healthy)" in status
            else ("starting" if "health: starting" in status else "none")
        )
        services.append(Service(str(info.get("Names", "")), state, health))
    return services


def list_services(t: Target) -> list[Service]:
    """The target's service list (``docker ps``, or the sandbox's own). Whatever keeps it from being read is a
    ServicesError carrying the ``docker ps`` cause, so every item reading it meets the same cause."""
    try:
        return (t.list_services or docker_services)()
    except ServicesError:
        raise
    except (RuntimeError, ValueError, OSError) as exc:
        reason = f"service list unavailable: {exc}"
        raise ServicesError(
            reason, _docker_cause(reason, "make `docker ps` work for the user running opscheck")
        ) from exc


def services_unreadable(exc: ServicesError, expected: object = "the service list") -> CheckResult:
    """The service list cannot be read here (no docker CLI or SDK, no daemon, no access to its socket): the items
    reading it are *not verified*, under one cause naming what to install, start or mount."""
    return not_verified(str(exc), cause=exc.cause, expected=expected)


def services_healthy(t: Target) -> CheckResult:
    """1.1.5: every expected container runs and none reports unhealthy."""
    expected = [s.strip() for s in t.value("EXPECTED_SERVICES", DEFAULT_SERVICES).split(",") if s.strip()]
    try:
        services = list_services(t)
    except ServicesError as exc:
        return services_unreadable(exc, expected)
    table = "\n".join(f"{s.name:32} {s.state:10} {s.health}" for s in services)
    ev = Evidence("service list", f"{'NAME':32} {'STATE':10} HEALTH\n{table}")
    by_name = {s.name: s for s in services}
    problems = [f"{n} missing" for n in expected if n not in by_name]
    for s in services:
        if s.state != "running":
            problems.append(f"{s.name} {s.state}")
        elif s.health in ("unhealthy", "starting"):
            problems.append(f"{s.name} {s.health}")
    if problems:
        return failed(problems, "all running and healthy", "containers not healthy: " + ", ".join(problems), ev)
    return passed(f"{len(services)} running", "all running and healthy", "", ev)


def api_health(t: Target) -> CheckResult:
    """1.1.6: ``GET /health`` answers 200 ``{"status": "healthy"}`` (the real bot adds ``"database": "connected"``
    and answers 503 ``unhealthy``/``disconnected`` when its database ping fails)."""
    p = t.profile
    want = {"status": p.health_ok_status}
    rec = Recorder(t.redactor)
    try:
        resp = request("GET", t.bot_url(p.health_path), recorder=rec)
        body = json_body(resp)
    except HttpError as exc:
        if rec.last_status is None:  # no HTTP answer at all: DNS, refused, timeout
            cause = causes.unreachable("the bot's API", t.bot_url(p.health_path), "BOT_API_URL", exc)
            return failed("no answer", want, cause.detail, Evidence("HTTP", rec.render()), cause=cause)
        return failed("no answer", want, str(exc), Evidence("HTTP", rec.render()))
    ev = Evidence("HTTP", rec.render())
    status = body.get("status") if isinstance(body, dict) else None
    database = body.get(p.health_db_key) if isinstance(body, dict) and p.health_db_key else None
    if resp.status_code != 200 or status != p.health_ok_status:
        db_part = f", {p.health_db_key}={database!r}" if database is not None else ""
        if database is not None and database != p.health_db_ok:
            # the bot says why: its database. Only now is the database asked (once): when it is down for us too,
            # the bot's health rests on item 1.1.1, which names the cause
            problem = givens.database_error(t)
            if problem:
                return not_verified(
                    f"{p.health_path} answered HTTP {resp.status_code}: the bot reports {p.health_db_key}="
                    f"{database!r}, and its database cannot be reached from here either",
                    ev,
                    cause=causes.database_connect(t, problem),
                    blocked_by=(givens.DATABASE_ITEM,),
                )
        return failed(
            f"HTTP {resp.status_code} status={status!r}{db_part}",
            want,
            f"{p.health_path} answered HTTP {resp.status_code} with status={status!r}{db_part}",
            ev,
        )
    if p.health_db_key and (not isinstance(database, str) or database != p.health_db_ok):
        # null or missing is no database state: the bot did not say it reached its database (fail closed)
        key = p.health_db_key
        said = f"{key}={readings.shown(database)}" if isinstance(body, dict) and key in body else f"no {key}"
        return failed(
            {"status": status, key: database},
            want | {key: p.health_db_ok},
            f"{p.health_path} is healthy but reports {said} (expected {key}={p.health_db_ok!r})",
            ev,
        )
    shown = {"status": status, **({p.health_db_key: database} if p.health_db_key else {})}
    return passed(shown, want, "", ev)


def utcnow() -> datetime:
    return datetime.now(UTC)
