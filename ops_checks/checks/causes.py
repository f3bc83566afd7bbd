"""Causes shared by checks of several sections: one problem (a setting, VALR, the API key, a host) is one cause,
whichever items meet it, each with its remedy. Two items with the same (kind, subject) share a cause in the verdict.
"""

from __future__ import annotations

from ops_checks.access.config import Target
from ops_checks.access.db import DbError
from ops_checks.access.valr.client import ValrError
from ops_checks.checks import givens
from ops_checks.core import netfail
from ops_checks.core.result import READ_ONLY as READ_ONLY  # re-exported: a proof that needs a write
from ops_checks.core.result import Cause, CheckResult, Evidence, failed

CODE_UNAUTHORIZED = -93  # VALR: key unknown, revoked or missing
CODE_INVALID_SIGNATURE = -11252  # VALR: the signature does not match the key's secret

SETTING = "setting"


NO_DECISIONS = Cause(
    "bot_state",
    "policy_decision_audit (no decisions)",
    "the bot records no policy decisions: policy_decision_audit holds none for the period the item reads",
    "run the bot with signals flowing in DRY_RUN so its TradePermissionPolicy records a PolicyDecision per signal "
    "(TRADE_BOT writes them to policy_decision_audit as its role: GRANT INSERT ON policy_decision_audit), for the "
    "whole period the runbook reads (24 h for §1.6, 30 days for §7), then re-run",
)

STARTING_EQUITY = Cause(
    "bot_state",
    "daily_starting_equity_zar",
    "system_settings.daily_starting_equity_zar is not recorded: the day's starting equity is unknown",
    "let the bot record the day's starting equity (its daily reset), or record it: UPDATE system_settings "
    "SET daily_starting_equity_zar = <ZAR balance on VALR> WHERE id = 1;",
)


def unset(name: str, example: str) -> Cause:
    """``name`` is missing from the env file (not the same as a value that does not parse: ``malformed``)."""
    return Cause(SETTING, name, f"{name} is not set in the env file", f"add {name}={example} to the env file")


def valr_credential_unset(name: str) -> Cause:
    """VALR_API_KEY or VALR_API_SECRET missing: one cause for every item that needs it (1.2.2, §2.1, the signed
    requests of §8 and the SOP)."""
    return unset(name, f"<your VALR {'API key' if name.endswith('KEY') else 'API secret'}>")


def valr_credentials_unset(t: Target) -> Cause | None:
    """The cause for the first of VALR_API_KEY and VALR_API_SECRET that is not set, or None when both are."""
    missing = next((n for n in ("VALR_API_KEY", "VALR_API_SECRET") if not t.secret(n)), None)
    return valr_credential_unset(missing) if missing else None


def malformed(name: str, problem: str, example: str) -> Cause:
    """``name`` is set, but to something that is not what it must be (``problem``: one plain sentence)."""
    return Cause(SETTING, name, problem, f"set {name}={example} in the env file")


def flag(name: str, actual: str, why: str, want: str) -> Cause:
    """A mode or gate flag not as this preflight needs it (unset, or set otherwise), with the env line that fixes it:
    one cause for every item reading that flag (1.6.1 and 2.2.1 both read EXECUTION_MODE)."""
    if not actual:
        return Cause(SETTING, name, f"{name} is not set: {why}", f"add {name}={want} to the env file")
    return malformed(name, f"{name} is {actual!r}: {why}", want)


host_of = netfail.host_of
unreachable = netfail.unreachable  # one cause for a host that gave no HTTP answer (core: the access layer uses it)


def valr(t: Target, exc: ValrError) -> Cause:
    """What a failed VALR call says, as the cause every item meeting it shares: VALR unreachable (and how), the key
    unknown, the secret not the key's, rate limited, or VALR's own error."""
    host = host_of(t.valr_base_url)
    if exc.http_status is None:
        return unreachable("VALR", t.valr_base_url, "VALR_BASE_URL", exc)
    if exc.code == CODE_UNAUTHORIZED or (exc.http_status in (401, 403) and exc.code != CODE_INVALID_SIGNATURE):
        return Cause(
            "valr_key",
            "VALR_API_KEY",
            f"VALR does not accept VALR_API_KEY (HTTP {exc.http_status}"
            + (f" code {exc.code}" if exc.code is not None else "")
            + "): the key is revoked, deleted or not this account's",
            "create an API key on VALR (View access and Trade, no Withdraw, an IP allow-list); set "
            "VALR_API_KEY=<the key> and VALR_API_SECRET=<its secret> in the env file; record it: "
            "opscheck secrets rotated VALR_API_KEY --by NAME",
        )
    if exc.code == CODE_INVALID_SIGNATURE:
        return Cause(
            "valr_signature",
            "VALR_API_SECRET",
            "VALR rejects the signature made with VALR_API_SECRET: it is not the secret of VALR_API_KEY",
            "set VALR_API_SECRET=<the secret VALR showed when VALR_API_KEY was created> in the env file (or create "
            "a new key pair and set both)",
        )
    if exc.http_status == 429:
        return Cause(
            "rate_limited",
            f"VALR {host}",
            "VALR rate-limits this API key (HTTP 429)",
            "stop whatever else uses this key heavily, wait a minute, then re-run",
        )
    if exc.http_status >= 500:
        return Cause(
            "exchange_error",
            f"VALR {host}",
            f"VALR answers HTTP {exc.http_status}: the exchange has a problem of its own",
            "check https://status.valr.com and re-run once VALR answers normally",
        )
    return Cause(
        "exchange_error",
        f"VALR {host}",
        f"VALR gave an answer the suite cannot use: {exc}",
        "compare VALR's answer (the item's HTTP evidence) with VALR's API documentation; check "
        f"VALR_BASE_URL={t.valr_base_url}",
    )


def valr_failure(t: Target, exc: ValrError) -> tuple[Cause, str]:
    """The cause of a failed VALR call and the item's one-line reason: the cause's words, plus what VALR answered
    (its HTTP status, code and message) when it answered at all."""
    cause = valr(t, exc)
    if exc.http_status is None or cause.kind == "exchange_error" and exc.http_status < 500:
        return cause, cause.detail
    return cause, f"{cause.detail} ({exc})"


def database_connect(t: Target, problem: str) -> Cause:
    """Why the application role cannot open a session (item 1.1.1 owns it): no CONNECT grant, a wrong password,
    or the server not reachable (the cause every database item resting on 1.1.1 shares)."""
    role, name = t.db.user or "the bot's role", t.db.name
    if "permission denied for database" in problem:
        return Cause(
            "grant",
            f"CONNECT on database {name} for {role}",
            f"the bot's role {role} may not connect to database {name}",
            f'GRANT CONNECT ON DATABASE "{name}" TO "{role}";',
        )
    if "password authentication failed" in problem:
        return Cause(
            SETTING,
            "DB_PASSWORD",
            f"Postgres refuses the password in DB_PASSWORD for role {role}",
            "set DB_PASSWORD=<the role's password> in the env file (or, as the database owner, "
            f"ALTER ROLE \"{role}\" PASSWORD '<new password>'; and set the same in the env file)",
        )
    return givens.database_blocked(t, problem).cause or Cause("unreachable", f"database {t.db.describe()}", problem)


def db_failed(
    t: Target, observed: str, expected: str, exc: DbError, table: str, *evidence: Evidence, privilege: str = "SELECT"
) -> CheckResult:
    """A query of ``table`` that failed, as the item's result: a lost connection rests on 1.1.1; a missing grant or
    table is the cause every item reading that table shares (``givens.table_cause``)."""
    problem = str(exc)
    if problem.startswith("cannot connect"):
        return failed(
            observed,
            expected,
            f"the database cannot be reached: {problem}",
            *evidence,
            cause=database_connect(t, problem),
            blocked_by=(givens.DATABASE_ITEM,),
        )
    return failed(observed, expected, problem, *evidence, cause=givens.table_cause(t, table, problem, privilege))
