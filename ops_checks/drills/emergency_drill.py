"""Runbook §5 emergency shutdown as drills, on a disposable sandbox (never the session's shared one).

One escalation on one sandbox, in the runbook's order:
- L1 (5.2.1): the runbook's one-liner, verbatim, as the application role; the bot HALTs within the limit and its
  log says so (the runbook's own verification).
- L2 (5.3.1): ``docker stop autonomous_alpha_bot``: the bot's API is gone, it records no more decisions, and no
  request reaches the exchange afterwards (the runbook's ``netstat … 443 ESTABLISHED``).
- L3 (5.4.1): ``docker-compose down``: every service exited, no orphan session of the application role left, and
  the database no longer accepts the application.
- L4 (5.5.1): "docker start postgres", the L4 statement verbatim, the audit dump streamed out (CSV + SHA-256
  manifest), the revocation and rotation checklist produced, the database stopped again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from ops_checks.access import kill_switch_state
from ops_checks.access.db import DbError, connect
from ops_checks.checks.s1_preconditions import logs
from ops_checks.checks.s5_emergency import emergency
from ops_checks.core.http import Recorder
from ops_checks.core.result import CheckResult, Evidence, failed, passed
from ops_checks.drills import base as drill_base
from ops_checks.sandbox.environment import BOT_SERVICE, DB_START_ENV, Sandbox

POLL_S = 0.01
ORPHAN_GRACE_S = 1.0  # a closed session's backend exits within this (polled every 20 ms)
QUIET_S = 0.6  # longer than two of the bot's exchange polls: silence over this window means no traffic
GRACE_S = 2.0
_RESEED = (
    "UPDATE system_settings SET circuit_breaker_active = FALSE, circuit_breaker_reason = NULL, "
    "circuit_breaker_triggered_at = NULL WHERE id = 1"
)

_FIRST_HALT = """
SELECT timestamp_utc FROM policy_decision_audit
WHERE timestamp_utc >= %s AND policy_decision = 'HALT' AND reason_code = 'HALT_KILL_SWITCH'
ORDER BY timestamp_utc, id LIMIT 1"""


@dataclass(repr=False)
class Drill(drill_base.Drill):
    marks: dict[str, datetime] = field(default_factory=dict)  # "L1": the one-liner ran, "L2": the bot stopped

    def title(self, item: str) -> str:
        return f"{item} ({emergency.LEVELS[item]})"


def _as_admin(sb: Sandbox, statement: sql.SQL | sql.Composed) -> None:
    assert sb.db is not None
    with psycopg.connect(sb.db.admin_db_dsn, autocommit=True) as conn:
        conn.execute(statement)


def _database_access(sb: Sandbox, allowed: bool) -> None:
    """Stand-in for ``docker start/stop postgres`` on a shared server: the application may connect, or not."""
    assert sb.db is not None
    ids = {"d": sql.Identifier(sb.db.name), "r": sql.Identifier(sb.db.user)}
    if allowed:
        _as_admin(sb, sql.SQL("GRANT CONNECT ON DATABASE {d} TO {r}").format(**ids))
        _started_with_database(sb)
        return
    _as_admin(sb, sql.SQL("REVOKE CONNECT ON DATABASE {d} FROM PUBLIC, {r}").format(**ids))
    _as_admin(
        sb,
        sql.SQL("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = {n} AND usename = {u}").format(
            n=sql.Literal(sb.db.name), u=sql.Literal(sb.db.user)
        ),
    )


def start_database(sb: Sandbox) -> None:
    """Stand-in for "docker start postgres": the application may connect again, and what starts with it does."""
    _database_access(sb, allowed=True)


def _started_with_database(sb: Sandbox) -> None:
    hooks = {h.strip() for h in sb.env.get(DB_START_ENV, "").split(",") if h.strip()}
    if "reseed_settings" in hooks:
        sb.admin(_RESEED)
    if "restart_bot" in hooks and sb.bot is not None and not sb.bot.serving:
        sb.bot.start()


def l1(sb: Sandbox, stmt_sql: str, drill: Drill) -> CheckResult:
    t = sb.target
    assert t is not None
    limit = t.thresholds.kill_switch_max_ms
    with connect(t.db, t.redactor, read_only=False) as db:
        since = db.first("SELECT clock_timestamp() AS at")["at"]
        db.rows(stmt_sql)
        drill.marks["L1"] = since
        drill.say("L1: one-liner run as the application role")
        start, halt = time.monotonic(), None
        while halt is None and time.monotonic() - start < float(limit) / 1000 + GRACE_S:
            halt = db.one(_FIRST_HALT, (since,))
            if halt is None:
                time.sleep(POLL_S)
        ev = [db.log.evidence()]
    if halt is None:
        return failed(
            "no HALT", f"HALT within {limit} ms", "after the L1 one-liner the bot never decided HALT_KILL_SWITCH", *ev
        )
    ms = round((halt["timestamp_utc"] - since).total_seconds() * 1000, 1)
    log_deadline = time.monotonic() + GRACE_S  # the bot writes its log line just after the decision row
    try:
        while True:
            logged = [
                ln for ln in logs.recent_lines(t.log_dir, since) if "HALT" in ln.text and "HALT_KILL_SWITCH" in ln.text
            ]
            if logged or time.monotonic() >= log_deadline:
                break
            time.sleep(POLL_S * 5)
    except logs.LogError as exc:
        return failed(f"HALT in {ms} ms", "HALT in the bot's log", f"bot log unreadable: {exc}", *ev)
    if not logged:
        return failed(
            f"HALT in {ms} ms", "HALT in the bot's log", "the bot's log shows no HALT after the L1 one-liner", *ev
        )
    ev.append(Evidence("bot log (grep HALT)", "\n".join(f"{ln.at.isoformat()} {ln.text}" for ln in logged[:5])))
    if ms > float(limit):
        return failed(f"HALT in {ms} ms", f"HALT within {limit} ms", f"L1 halted trading only after {ms} ms", *ev)
    return passed(f"HALT in {ms} ms", f"HALT within {limit} ms", f"L1 one-liner halted trading in {ms} ms", *ev)


def l2(sb: Sandbox, drill: Drill) -> CheckResult:
    t, bot, valr = sb.target, sb.bot, sb.valr
    assert t is not None and bot is not None and valr is not None
    url = t.bot_api_url
    bot.stop()
    stopped_at = datetime.now(UTC)
    drill.marks["L2"] = stopped_at
    drill.say("L2: docker stop autonomous_alpha_bot")
    problems: list[str] = []
    state = {s.name: s.state for s in sb.services()}.get(BOT_SERVICE)
    if state != "exited":
        problems.append(f"{BOT_SERVICE} is {state}")
    rec = Recorder(t.redactor)
    if emergency.api_answers(t, url, rec):
        problems.append("the bot's API still answers")
    before = len(valr.requests)
    time.sleep(QUIET_S)
    after = len(valr.requests)
    if after != before:
        problems.append(f"{after - before} request(s) reached the exchange in the {QUIET_S} s after the stop")
    with connect(t.db, t.redactor) as db:
        row = db.one(
            "SELECT count(*) AS n FROM policy_decision_audit WHERE timestamp_utc > %s",
            (stopped_at,),
        )
        ev = [db.log.evidence(), Evidence("HTTP", rec.render())]
    if row and row["n"]:
        problems.append(f"{row['n']} policy decision(s) recorded after the stop")
    if problems:
        return failed("; ".join(problems), "no trading activity", "after L2: " + "; ".join(problems), *ev)
    return passed("bot exited, API gone, no exchange traffic", "no trading activity", "L2 stopped all trading", *ev)


def l3(sb: Sandbox, drill: Drill) -> CheckResult:
    t, bot = sb.target, sb.bot
    assert t is not None and bot is not None and sb.db is not None
    if bot.serving:
        bot.stop()
    drill.say("L3: docker-compose down")
    problems = [f"{s.name} is {s.state}" for s in sb.services() if s.name == BOT_SERVICE and s.state != "exited"]
    with psycopg.connect(sb.db.admin_db_dsn, autocommit=True) as conn:
        # a backend whose client just closed leaves pg_stat_activity a moment later: an orphan is one still there
        # after ORPHAN_GRACE_S (a held connection never leaves)
        deadline = time.monotonic() + ORPHAN_GRACE_S
        while True:
            orphans = conn.execute(
                "SELECT pid, application_name, state FROM pg_stat_activity WHERE datname = %s AND usename = %s",
                (sb.db.name, sb.db.user),
            ).fetchall()
            if not orphans or time.monotonic() >= deadline:
                break
            time.sleep(POLL_S * 2)
    if orphans:
        problems.append(f"{len(orphans)} orphan session(s) of {sb.db.user} still connected after every service stopped")
    _database_access(sb, allowed=False)
    try:
        with connect(t.db, t.redactor) as db:
            db.one("SELECT 1")
        problems.append("the database still accepts the application")
    except DbError:
        pass
    observed = "all services exited, database stopped, no orphan sessions"
    ev = Evidence("sessions at shutdown", "\n".join(str(o) for o in orphans) or "none")
    if problems:
        return failed("; ".join(problems), "full stop", "after L3: " + "; ".join(problems), ev)
    return passed(observed, "full stop", f"L3: {observed}", ev)


def l4(sb: Sandbox, stmt_sql: str, dump_dir: Path, drill: Drill) -> CheckResult:
    t = sb.target
    assert t is not None
    _database_access(sb, allowed=True)  # "docker start postgres" for the dump
    drill.say("L4: database started for step 1 and the audit dump")
    try:
        with connect(t.db, t.redactor, read_only=False) as db:
            db.rows(stmt_sql)
            state = kill_switch_state.read_state(db)
            done, problem = emergency.audit_dump(db, dump_dir)
            ev_sql = db.log.evidence()
    finally:
        _database_access(sb, allowed=False)  # "docker stop postgres"
    manifest = "\n".join(f"{d}  {name}.csv  ({rows} rows)" for name, (rows, d) in done.items())
    checklist = emergency.revocation_checklist(t, state.describe(), f"{dump_dir} (CHECKSUMS.sha256)")
    ev = [ev_sql, Evidence("L4 revocation and rotation checklist", checklist), Evidence("audit dump", manifest)]
    problems = []
    if not (state.active and state.reason == "SECURITY_BREACH_L4"):
        problems.append(f"kill switch {state.describe()} after the L4 statement")
    if problem:
        problems.append(f"audit dump failed at {problem}")
    elif "SECURITY_BREACH_L4" not in (dump_dir / "system_settings.csv").read_text(encoding="utf-8"):
        problems.append("the dump does not show the L4 kill switch")
    elif not done.get("policy_decision_audit", (0, ""))[0]:
        problems.append("the dump holds no policy decisions")
    if problems:
        cause = emergency.dump_cause(t, problem) if problem and len(problems) == 1 else None
        return failed(
            "; ".join(problems), "kill switch, dump, checklist", "L4: " + "; ".join(problems), *ev, cause=cause
        )
    rows = sum(r for r, _ in done.values())
    return passed(
        f"dump of {len(done)} tables ({rows} rows), checklist",
        "kill switch, dump, checklist",
        f"L4: kill switch SECURITY_BREACH_L4, audit dump of {rows} rows, checklist produced",
        *ev,
    )


def run(sb: Sandbox, runbook_dir: Path | None, dump_dir: Path) -> Drill:
    """All four levels on ``sb`` (started, faults applied); ``sb`` is spent afterwards. The dump goes to
    ``dump_dir`` (keep it outside ``sb``: a disposable sandbox removes its workdir when stopped)."""
    stmts = emergency.one_liners(runbook_dir)
    drill = Drill()
    drill.say(f"L1 statement from {stmts['L1'].where}; L4 statement from {stmts['L4'].where}")
    drill.guarded("5.2.1", lambda: l1(sb, stmts["L1"].sql, drill))
    drill.guarded("5.3.1", lambda: l2(sb, drill))
    drill.guarded("5.4.1", lambda: l3(sb, drill))
    drill.guarded("5.5.1", lambda: l4(sb, stmts["L4"].sql, dump_dir, drill))
    for result in drill.results.values():
        result.evidence.append(Evidence("emergency drill", "\n".join(drill.procedure)))
    return drill
