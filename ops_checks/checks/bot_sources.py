"""What the suite reads of the bot beyond what the runbooks name, and the causes shared by the items reading it.

* Declared sources (``BotProfile.sop_metric_*``, env ``BOT_METRIC_*``): a figure the SOP needs but names no
  source for (websocket disconnects, market-data age, latency …). None is declared by default: an item needing
  one is *not verified*, its cause (``source_undeclared``, the figure) naming the env line to declare. It never
  fails for a metric name the suite chose.
* The bot's log lines: their level, in the real bot's format (main.py's ``basicConfig``:
  ``2024-12-23 10:00:00 | WARNING | app.logic.trade_permission_policy | …``) and the reference bot's
  (``2024-12-23T10:00:00.000000Z WARNING …``), the timestamp already cut off by ``logs.parse_line``.
* The causes that items of several sections share: the bot's metrics or logs unreadable, VALR failing.
"""

from __future__ import annotations

import re

from ops_checks.access import scope
from ops_checks.access.config import Target
from ops_checks.access.db import DbError
from ops_checks.access.profile import DECLARED_SOURCES
from ops_checks.access.valr.client import ValrError
from ops_checks.checks import causes, givens
from ops_checks.checks.s1_preconditions import logs
from ops_checks.core.result import Cause, CheckResult, not_verified

METRICS_ITEM = "1.4.2"  # the bot's metrics are readable
LOGS_ITEM = logs.LOGS_ITEM  # the bot's logs are being written

#: the suite's own tables missing (the same cause as ``target/suite_tables.py``'s, for every item resting on them)
SUITE_SCHEMA = Cause(
    "suite_schema",
    "schema opscheck",
    "the suite's own tables (schema opscheck) are missing: `opscheck init` never ran on this database",
    "opscheck init --env-file <the env file> (as a role that may create the schema: OPSCHECK_ADMIN_DSN), then re-run",
)

_LEVEL = re.compile(r"^(?:\|\s*)?(DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")


def level(text: str) -> str | None:
    """The level of a log line (its text after the timestamp), in either format; None when it names none."""
    m = _LEVEL.match(text)
    return m.group(1) if m else None


def untimestamped(t: Target, probe_bytes: int = 64 * 1024) -> CheckResult | None:
    """``logs.untimestamped``: an absence in logs whose lines carry no time proves nothing."""
    return logs.untimestamped(t, probe_bytes)


def undeclared(t: Target, *fields: str, alternative: str = "") -> CheckResult | None:
    """None when every profile field in ``fields`` names a metric; else *not verified* for the first that does
    not: its cause is the undeclared figure, its remedy the env line (``alternative``: another way out, e.g. the
    scope declaration that puts the figure out of scope)."""
    for field in fields:
        if getattr(t.profile, field) is None:
            d = DECLARED_SOURCES[field]
            detail = f"the SOP names no source for the {d.figure} and none is declared ({d.env})"
            return not_verified(detail, cause=_undeclared_cause(t, alternative))
    return None


def _undeclared_cause(t: Target, alternative: str) -> Cause:
    """One cause for every SOP figure without a declared source (one fix: the operator's env lines), naming each
    figure still undeclared and its line; figures of a feed the operator declared out of scope are left out."""
    no_ws = scope.from_env(t.env).in_scope(scope.WEBSOCKET) is False
    missing = [
        d
        for f, d in DECLARED_SOURCES.items()
        if getattr(t.profile, f) is None and not (no_ws and d.env.startswith("BOT_METRIC_WEBSOCKET"))
    ]
    figures = ", ".join(d.figure for d in missing)
    remedy = "; ".join(d.remedy() for d in missing) + (f"; {alternative}" if alternative else "")
    return Cause(
        "source_undeclared",
        "the SOP's figures without a source",
        f"the SOP names no source for the {figures}, and the bot profile declares none (BOT_METRIC_* lines)",
        remedy,
    )


def declared(t: Target, field: str) -> str:
    """The metric declared for ``field`` (call ``undeclared`` first)."""
    name = getattr(t.profile, field)
    assert name is not None, f"{field} is not declared"
    return str(name)


def impossible_metric(name: str, problem: str, shape: str) -> Cause:
    """A metric the bot exports with a value it cannot have (``shape``: what the value must be)."""
    return Cause(
        "bot_defect",
        f"metric {name}",
        f"the bot exports an impossible value: {problem}",
        f"fix the bot's {name}: {shape}",
    )


def metrics_cause(t: Target, problem: str) -> Cause:
    return Cause(
        "unreachable",
        f"bot metrics {t.metrics_url}",
        f"the bot's metrics at {t.metrics_url} cannot be read: {problem}",
        f"start the bot, or correct METRICS_URL in the env file; check with: curl -s {t.metrics_url}",
    )


def metrics_unreadable(t: Target, problem: str) -> CheckResult:
    """The item read the bot's metrics and could not: not verified, resting on item 1.4.2."""
    return not_verified(
        f"the bot's metrics cannot be read: {problem}", cause=metrics_cause(t, problem), blocked_by=(METRICS_ITEM,)
    )


def logs_unreadable(t: Target, problem: str) -> CheckResult:
    """The item read the bot's logs and could not: not verified, resting on item 1.4.4."""
    return not_verified(
        f"the bot's logs cannot be read: {problem}",
        cause=Cause(
            "logs_unreadable",
            f"LOG_DIR {t.log_dir}",
            f"the bot's logs in {t.log_dir} cannot be read: {problem}",
            "LOG_DIR=<the directory holding the bot's *.log files> in the env file, readable by this user",
        ),
        blocked_by=(LOGS_ITEM,),
    )


def valr_cause(t: Target, exc: ValrError, request: str) -> Cause:
    """Why VALR gave no usable answer to ``request`` (e.g. ``GET /v1/public/time``): unreachable, the key refused,
    or VALR failing that request; each with what to do."""
    if exc.http_status is None or exc.http_status in (401, 403, 429) or exc.http_status >= 500:
        return causes.valr(t, exc)  # unreachable, the key or its secret refused, rate limited, VALR down: shared
    return Cause(
        "exchange_error",
        f"VALR {request}",
        str(exc) if request in str(exc) else f"VALR fails {request}: {exc}",
        f"VALR is failing {request}: check https://status.valr.com and re-run once it answers",
    )


def db_unreadable(t: Target, exc: DbError, table: str, expected: str = "a verified result") -> CheckResult:
    """A read of ``table`` failed: not verified, resting on 1.1.1 (database unreachable), or under the suite schema's
    cause (one of its tables missing), or the table's own (a grant, a missing bot table)."""
    text = str(exc)
    if text.startswith("cannot connect"):
        result = givens.database_blocked(t, text)
        result.expected = expected
        return result
    if "does not exist" in text and table.startswith("opscheck."):
        return not_verified(f"the suite's schema is missing ({table}): {text}", cause=SUITE_SCHEMA, expected=expected)
    return not_verified(f"{table} unreadable: {text}", cause=givens.table_cause(t, table, text), expected=expected)
