"""Runbook §4.1: the bot's recorded decisions agree with the TradePermissionPolicy evaluation order.

Every recent policy_decision_audit row is replayed through the oracle (``ops_checks.access.policy``) using the row's own
context_snapshot; any row whose decision or reason code differs is a disagreement. Rows that are not policy
decisions (the runbook's TRANSITION / RESUME records) are counted and left out; a policy decision logged without
the inputs it was taken on cannot be audited and counts as a disagreement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ops_checks.access import policy
from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.checks import causes
from ops_checks.core.result import CheckResult, Evidence, failed, passed

WINDOW_HOURS = 1
MAX_ROWS = 5000
SHOWN = 20
POLICY_DECISIONS = (policy.ALLOW, policy.HALT, policy.NEUTRAL)

_RECENT = """
SELECT id, correlation_id, timestamp_utc, policy_decision, reason_code, blocking_gate, precedence_rank,
       is_latched, context_snapshot
FROM policy_decision_audit
WHERE timestamp_utc >= now() - make_interval(hours => %s)
ORDER BY timestamp_utc DESC, id DESC LIMIT %s"""


@dataclass(frozen=True)
class Replay:
    row: dict[str, Any]
    expected: policy.Decision | None  # None: the row's inputs are missing or unreadable
    problem: str = ""

    @property
    def logged(self) -> policy.Decision | None:
        r = self.row
        gate, rank = r.get("blocking_gate"), r.get("precedence_rank")
        if r["policy_decision"] != policy.ALLOW and gate is None:
            return None  # migration 021 forbids it; never let __post_init__ fill it in
        return policy.Decision(r["policy_decision"], r["reason_code"], gate, rank)

    @property
    def agrees(self) -> bool:
        return self.expected is not None and self.logged == self.expected

    def describe(self) -> str:
        r = self.row
        got = self.logged.describe() if self.logged else f"{r['policy_decision']}/{r['reason_code']} with no gate"
        want = self.expected.describe() if self.expected else self.problem
        return f"id={r['id']} {r['correlation_id']} at {r['timestamp_utc'].isoformat()}: logged {got}, oracle {want}"


def oracle(snapshot: Any) -> policy.Decision:
    """The decision §4.1 prescribes for a context_snapshot; KeyError/TypeError/ValueError when inputs are missing."""
    if not isinstance(snapshot, dict):
        raise TypeError("context_snapshot is not a JSON object")
    if snapshot.get("settings_missing"):
        return policy.Decision(policy.HALT, policy.HALT_CONTEXT_INCOMPLETE, policy.GATE_CONTEXT, 1)
    return policy.evaluate(policy.PolicyInputs.from_snapshot(snapshot))


def replay(row: dict[str, Any]) -> Replay:
    if row.get("is_latched") and (row["policy_decision"], row["reason_code"]) == (policy.HALT, policy.HALT_LATCHED):
        # The bot's latch (not in §4.1): a HALT persists until reset or a green window. Stricter than the order, so
        # it agrees, provided it names the gate that latched it.
        gate, rank = row.get("blocking_gate"), row.get("precedence_rank")
        if gate in (*policy.GATES, policy.GATE_LATCH) and rank == policy.rank(gate):
            return Replay(row, policy.Decision(policy.HALT, policy.HALT_LATCHED, gate, rank))
    try:
        return Replay(row, oracle(row["context_snapshot"]))
    except (KeyError, TypeError, ValueError) as exc:
        return Replay(row, None, f"inputs missing ({exc.__class__.__name__}: {exc})")


def replay_recent(t: Target) -> CheckResult:
    """4.1.1: recent audit rows agree with the oracle (warning on live, blocker in the sandbox: see the catalogue)."""
    expected = "every decision matches §4.1"
    try:
        with connect(t.db, t.redactor) as db:
            rows = db.rows(_RECENT, (WINDOW_HOURS, MAX_ROWS))
            ev_sql = db.log.evidence()
    except DbError as exc:
        return failed("query failed", expected, str(exc))
    decisions = [r for r in rows if r["policy_decision"] in POLICY_DECISIONS]
    other = len(rows) - len(decisions)
    replays = [replay(r) for r in decisions]
    bad = [r for r in replays if not r.agrees]
    summary = f"{len(decisions)} decisions of the last {WINDOW_HOURS} h replayed, {len(bad)} disagree" + (
        f", {other} non-policy rows left out" if other else ""
    )
    listing = "\n".join(r.describe() for r in bad[:SHOWN]) + (
        f"\n… {len(bad) - SHOWN} more" if len(bad) > SHOWN else ""
    )
    evidence = [Evidence("oracle disagreements", listing or "none"), ev_sql]
    if not decisions:
        return failed(
            "no decisions",
            expected,
            f"no policy decisions in the last {WINDOW_HOURS} h to replay",
            *evidence,
            cause=causes.NO_DECISIONS,
        )
    if bad:
        return failed(
            summary, expected, f"{len(bad)} recorded decision(s) contradict §4.1: {bad[0].describe()}", *evidence
        )
    return passed(summary, expected, summary, *evidence)
