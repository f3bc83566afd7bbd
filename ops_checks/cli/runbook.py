"""``opscheck runbook check``: does the runbook still describe this system? (read-only)

For every SQL statement the runbooks print (shell values filled in): EXPLAIN in a read-only session, which parses
it, resolves every table and column and checks the connecting role's privileges without running anything. For every
table it names (with the privilege the statement needs) and every column it names explicitly: the live catalogue.
For every endpoint it curls: the bot profile's routes (``ops_checks/access/profile.py``: the real bot's values) and one
GET (a POST-only route answers 405 when it exists, 404 when it does not; nothing is ever POSTed). For every env
var of §2.1–§2.3: set or not (never the value), and whether the bot reads it at all.

One row per subject: location, kind, subject, verdict (conforms, DISAGREES, or not checked), one-line reason. What
could not be reached is *not checked*, never a disagreement: a database it cannot connect to stops the command
before any row (one line, exit 2); a bot API or metrics endpoint that does not answer leaves its rows not checked.
Exit 0 when every row conforms, 1 when any disagrees, 2 when the check cannot start (no runbook, unreadable env
file, a database it cannot reach) or rows were left not checked (and none disagrees).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer

from ops_checks.access.config import ConfigError, Target, live_target, load_env
from ops_checks.access.db import DbError
from ops_checks.catalogue import runbook_text
from ops_checks.checks import runbook_sql
from ops_checks.cli import errors
from ops_checks.core.http import HttpError, Recorder, request

RUNBOOK = "live-trading-runbook.md"

_HEADING = re.compile(r"^(#{2,4})\s+(.*)$")
_NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\s")
_CURL = re.compile(r"\bcurl\b[^\n`]*?(?:-X\s+([A-Z]+)\s+)?[\"']?(https?://[^\s\"'`\\]+)")
_TABLE_VAR = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|")
_CHECK_VAR = re.compile(r"\bcheck_var(?:_length)?\s+\"?([A-Z][A-Z0-9_]+)\"?")

# Facts of TRADE_BOT v1.9.0 (its app/ source and .env.example): variables the runbook lists that no bot code reads.
BOT_IGNORES = {
    "WEBHOOK_SECRET": "no bot code reads it: the bot verifies TradingView signals with {signal_secret_var}",
    "KILL_SWITCH_ENABLED": "no bot code reads it: the kill switch is system_settings.circuit_breaker_active and "
    "the guardian's lock",
}
# Known names in the bot's schema for what the runbook calls otherwise (migrations 006, 007, 008).
RENAMED = {
    "ai_debate_ledger": "ai_debates",
    "risk_audit": "risk_assessments",
    "valr_balances": "none: balances come from the VALR API (GET /v1/account/balances)",
    "trading_orders.symbol": "trading_orders.pair",
    "trading_orders.pnl_zar": "trading_orders.realized_pnl_zar",
    "trading_orders.price": "trading_orders.execution_price",
}


@dataclass(frozen=True)
class Row:
    where: str
    kind: str  # sql | table | column | endpoint | env
    subject: str
    ok: bool
    reason: str
    checked: bool = True  # False: the target could not be reached; neither conforms nor disagrees

    @property
    def verdict(self) -> str:
        return "not checked" if not self.checked else "conforms" if self.ok else "DISAGREES"


def _not_checked(where: str, kind: str, subject: str, why: str) -> Row:
    return Row(where, kind, subject, False, f"not checked: {why}", checked=False)


@dataclass(frozen=True)
class Mention:
    where: str
    line: int
    text: str


def _scan(path: Path) -> list[Mention]:
    """Every line of a runbook with its location: file:line (§number title of the nearest numbered heading)."""
    numbered, current, out = "", "", []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if m := _HEADING.match(line):
            current = m.group(2).strip()
            if _NUMBERED.match(current):
                numbered = current.split(" ")[0]
        label = current if _NUMBERED.match(current) or not numbered else f"{numbered} {current}"
        out.append(Mention(f"{path.name}:{n} (§{label})", n, line))
    return out


def _hint(subject: str) -> str:
    return f"; the bot has {RENAMED[subject]}" if subject in RENAMED else ""


def sql_rows(t: Target, statements: list[runbook_sql.Statement]) -> list[Row]:
    try:
        problems = runbook_sql.check_statements(t.db, t.redactor, statements, explain_only=True)
        values = runbook_sql.literal_violations(t.db, t.redactor, statements)
    except DbError as exc:
        return [_not_checked(s.where, "sql", s.first_line, str(exc)) for s in statements]
    rows = []
    for s, p in problems.items():
        hint = next((_hint(k) for k in RENAMED if k.split(".")[-1] in p and k.split(".")[0] in s.sql), "")
        if s in values:  # EXPLAIN stops at the first error and never evaluates a CHECK: name every value
            p = values[s] if not p or "invalid input syntax for type uuid" in p else f"{p}; {values[s]}"
        rows.append(Row(s.where, "sql", s.first_line, not p, f"{p}{hint}" if p else "EXPLAIN ok (read-only)"))
    return rows


def reference_rows(t: Target, statements: list[runbook_sql.Statement]) -> list[Row]:
    first: dict[tuple[str, str], tuple[str, str]] = {}  # subject -> (where, kind)
    for s in statements:
        for ref in runbook_sql.table_refs(s):
            first.setdefault(ref, (s.where, "table"))
        for ref in runbook_sql.column_refs(s):
            first.setdefault(ref, (s.where, "column"))
    tables = [k for k, (_, kind) in first.items() if kind == "table"]
    columns = [k for k, (_, kind) in first.items() if kind == "column"]
    try:
        problems = runbook_sql.check_references(t.db, t.redactor, tables, columns)
    except DbError as exc:
        return [_not_checked(w, kind, f"{a}.{b}", str(exc)) for (a, b), (w, kind) in first.items()]
    rows = []
    for (a, b), (where, kind) in first.items():
        if (a, b) not in problems:
            continue  # a column of a table already reported missing
        subject = f"{a} ({b})" if kind == "table" else f"{a}.{b}"
        p = problems[(a, b)]
        rows.append(
            Row(
                where,
                kind,
                subject,
                not p,
                p + _hint(a if kind == "table" else f"{a}.{b}")
                if p
                else "exists" + (f", {t.db.user} may {b}" if kind == "table" else ""),
            )
        )
    return rows


def _bot_routes(t: Target) -> dict[str, str]:
    p = t.profile
    return {
        p.health_path: "GET",
        p.root_path: "GET",
        p.metrics_path: "GET",
        p.guardian_status_path: "GET",
        p.guardian_unlock_path: "POST",
        p.guardian_reset_path: "POST",
        p.signal_path: "POST",
    }


def _probe(t: Target, url: str, transport: httpx.BaseTransport | None) -> tuple[int | None, str]:
    try:
        resp = request("GET", url, recorder=Recorder(t.redactor), transport=transport, timeout=3.0)
    except HttpError as exc:
        return None, str(exc)
    return resp.status_code, f"GET → {resp.status_code}"


def endpoint_rows(t: Target, mentions: list[Mention]) -> list[Row]:
    rows, seen = [], set()
    routes = _bot_routes(t)
    p = t.profile
    for m in mentions:
        for cm in _CURL.finditer(m.text):
            method, url = (cm.group(1) or "GET"), cm.group(2).rstrip(")")
            parsed = httpx.URL(url)
            key = (method, parsed.host, parsed.port, parsed.path)
            if key in seen:
                continue
            seen.add(key)
            subject = f"{method} {url}"
            if parsed.host == "localhost" and parsed.port == 8000:  # the bot's API (BOT_API_URL)
                code, said = _probe(t, t.bot_url(parsed.path), None)
                want = routes.get(parsed.path)
                if code is None:
                    rows.append(_not_checked(m.where, "endpoint", subject, f"{t.bot_url(parsed.path)}: {said}"))
                elif want is None:
                    rows.append(
                        Row(
                            m.where,
                            "endpoint",
                            subject,
                            False,
                            f"{method} {parsed.path} {said}; TRADE_BOT has no such route (its guardian: GET "
                            f"{p.guardian_status_path}, POST {p.guardian_unlock_path}, POST "
                            f"{p.guardian_reset_path}, {p.guardian_auth_header}: {p.guardian_auth_scheme} "
                            f"${p.guardian_token_var})",
                        )
                    )
                elif want != method:
                    rows.append(
                        Row(
                            m.where,
                            "endpoint",
                            subject,
                            False,
                            f"the bot's {parsed.path} is {want}, the runbook uses {method}",
                        )
                    )
                else:
                    ok = code == 200 if method == "GET" else code == 405
                    rows.append(
                        Row(
                            m.where,
                            "endpoint",
                            subject,
                            ok,
                            f"{said} at {t.bot_url(parsed.path)}"
                            + ("" if method == "GET" else " (route exists; read-only: nothing POSTed)"),
                        )
                    )
            elif parsed.port == 9090:  # the runbook's Prometheus metrics (METRICS_URL)
                code, said = _probe(t, t.metrics_url, None)
                if code is None:
                    rows.append(_not_checked(m.where, "endpoint", subject, f"METRICS_URL {t.metrics_url}: {said}"))
                    continue
                rows.append(
                    Row(
                        m.where,
                        "endpoint",
                        subject,
                        code == 200,
                        f"METRICS_URL {t.metrics_url} {said} (the bot serves GET {p.metrics_path} on its "
                        "API port; :9090 is Prometheus)",
                    )
                )
            elif parsed.host == "api.valr.com":
                code, said = _probe(t, t.valr_base_url + parsed.path, t.valr_transport)
                if code is None:
                    rows.append(_not_checked(m.where, "endpoint", subject, f"VALR {said}"))
                    continue
                ok = code in (200, 401, 403)
                rows.append(
                    Row(
                        m.where,
                        "endpoint",
                        subject,
                        ok,
                        f"VALR {said}" + (" (route exists; needs a signed request)" if code in (401, 403) else ""),
                    )
                )
    return rows


def env_rows(t: Target, mentions: list[Mention]) -> list[Row]:
    rows, seen = [], set()
    p = t.profile
    for m in mentions:
        names = _CHECK_VAR.findall(m.text)
        tv = _TABLE_VAR.match(m.text)
        if tv and m.where.split("(§")[1].startswith("2."):
            names.append(tv.group(1))
        for name in names:
            if name in seen:
                continue
            seen.add(name)
            present = bool((t.env.get(name) or "").strip())
            mode = (t.env.get("EXECUTION_MODE") or "").strip().upper()
            if name == "LIVE_TRADING_CONFIRMED" and not present and mode != "LIVE":
                rows.append(
                    Row(
                        m.where,
                        "env",
                        name,
                        True,
                        f"not set (EXECUTION_MODE={mode or 'unset'}: required only for LIVE)",
                    )
                )
            elif name in BOT_IGNORES:
                rows.append(
                    Row(
                        m.where,
                        "env",
                        name,
                        False,
                        ("set" if present else "not set")
                        + "; "
                        + BOT_IGNORES[name].format(signal_secret_var=p.signal_secret_var),
                    )
                )
            else:
                rows.append(Row(m.where, "env", name, present, "set" if present else "not set"))
    for name in (p.guardian_token_var,):
        if name not in seen:
            present = bool((t.env.get(name) or "").strip())
            rows.append(
                Row(
                    "(not in the runbook)",
                    "env",
                    name,
                    False,
                    f"{'set' if present else 'not set'}; the "
                    f"bot's guardian needs it ({p.guardian_auth_header}: {p.guardian_auth_scheme} "
                    f"${name}) and the runbook never names it",
                )
            )
    return rows


def check(t: Target, runbook_dir: Path) -> list[Row]:
    statements = runbook_sql.extract_all(runbook_dir)
    mentions = _scan(runbook_dir / RUNBOOK)
    return sql_rows(t, statements) + reference_rows(t, statements) + endpoint_rows(t, mentions) + env_rows(t, mentions)


def render(rows: list[Row]) -> str:
    width = max((len(r.where) for r in rows), default=10)
    lines = [f"{'location':<{width}}  {'kind':<8}  {'verdict':<13}  subject — reason"]
    for r in rows:
        lines.append(f"{r.where:<{width}}  {r.kind:<8}  {r.verdict:<13}  {r.subject} — {r.reason}")
    checked = [r for r in rows if r.checked]
    bad = sum(not r.ok for r in checked)
    summary = f"{len(checked)} checked, {len(checked) - bad} conform, {bad} disagree"
    if len(checked) < len(rows):
        summary += f"; {len(rows) - len(checked)} not checked (not reached)"
    lines.append("\n" + summary)
    return "\n".join(lines)


def exit_code(rows: list[Row]) -> int:
    """0 every row conforms, 1 any disagrees, 2 rows were not checked (and none disagrees)."""
    if any(r.checked and not r.ok for r in rows):
        return 1
    return errors.EXIT_CANNOT_RUN if any(not r.checked for r in rows) else errors.EXIT_OK


app = typer.Typer(add_completion=False, no_args_is_help=True, help="Check the runbook against the live system.")


@app.command("check")
def check_cmd(
    env_file: Annotated[Path | None, typer.Option("--env-file", help="dotenv file with the live settings")] = None,
    target: Annotated[str, typer.Option(help="live (default) or sandbox")] = "live",
    runbook: Annotated[
        Path | None,
        typer.Option(
            help=f"runbook directory (default ${runbook_text.ENV}, else ../shared/runbooks beside the checkout)"
        ),
    ] = None,
) -> None:
    """Every runbook statement, table, column, endpoint and env var against the system (read-only)."""
    runbook_dir = runbook_text.resolve_dir(runbook)
    if not (runbook_dir / RUNBOOK).exists():
        raise errors.cannot_run(f"runbook not found: {runbook_dir / RUNBOOK}")
    if target not in ("live", "sandbox"):
        raise errors.cannot_run(f"--target must be live or sandbox, not {target!r}")
    if target == "sandbox":
        if env_file is not None:
            raise errors.cannot_run("--env-file applies to --target live only")
        from ops_checks.sandbox.environment import Sandbox
        from ops_checks.sandbox.postgres import ProvisionError

        try:
            with Sandbox() as sb:
                assert sb.target is not None
                rows = check(sb.target, runbook_dir)
        except ProvisionError as exc:
            raise errors.cannot_run(str(exc)) from None
    else:
        try:
            t = live_target(load_env(env_file), allow_mutations=False)
        except ConfigError as exc:
            raise errors.cannot_run(str(exc)) from None
        # one line and exit 2: the target was not reached, so no row is checked (and none disagrees)
        errors.require_db(t.db, t.redactor, consequence="the target was not reached: no row checked")
        rows = check(t, runbook_dir)
    typer.echo(render(rows))
    raise typer.Exit(exit_code(rows))
