"""The result object every check returns: steps assert on it, reports attach its evidence.

Its ``status`` follows InSpec's enhanced outcomes and travels, structured, to every output (terminal,
``verdict.json``, JUnit, Cucumber, Allure, the sign-off page); nothing downstream parses it back out of a reason:

* ``passed`` — the check ran and the target does what the runbook says;
* ``failed`` — the check ran and the target does not;
* ``error`` — the check itself could not run to its end (an unexpected exception, a query it could not finish);
* ``not_verified`` — nothing was checked: a precondition, a source or a permission is missing (``blocked_by`` names
  the items whose outcome it rests on, ``cause`` what is missing);
* ``not_applicable`` — out of the operator's declared scope (never by the suite's own guess);
* ``waived`` — failed, under an approved, unexpired waiver (set by the verdict, never by a check).

A non-passed result carries a ``cause`` (kind, subject, detail, remedy): the verdict groups items by cause, so one
missing grant is one cause with its remedy, not a dozen symptoms.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    NOT_VERIFIED = "not_verified"
    NOT_APPLICABLE = "not_applicable"
    WAIVED = "waived"

    @property
    def word(self) -> str:
        """How a reason names another item's outcome ("6.4.6 not verified")."""
        return _WORDS[self]


_WORDS = {
    Status.PASSED: "passed",
    Status.FAILED: "failed",
    Status.ERROR: "could not be checked (error)",
    Status.NOT_VERIFIED: "not verified",
    Status.NOT_APPLICABLE: "not applicable",
    Status.WAIVED: "waived",
}

#: statuses that count as met for a blocker (and for the items derived from it)
MET = frozenset({Status.PASSED, Status.WAIVED, Status.NOT_APPLICABLE})


@dataclass(frozen=True)
class Cause:
    """Why an item did not pass, structured: ``kind`` (what sort of problem: ``unreachable``, ``grant``,
    ``missing_table``, ``setting``, ``source_undeclared``, ``bot_defect``, ``read_only`` …), ``subject`` (what it is
    about: a host, a table and role, an env var …), ``detail`` (one plain sentence) and ``remedy`` (the SQL, the env
    line, the command or the fix the bot needs). Two items with the same (kind, subject) share one cause."""

    kind: str
    subject: str
    detail: str
    remedy: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.subject)

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "subject": self.subject, "detail": self.detail, "remedy": self.remedy}


#: the one cause a read-only live run gives every item it leaves out (a proof that needs a write)
READ_ONLY = Cause(
    "read_only",
    "live run without --allow-mutations",
    "the items that change state (the kill-switch test, the signed test signal, the Discord test message) were not "
    "run: the run was read-only",
    "run the pre-session preflight with --allow-mutations (and --operator/--witness)",
)


@dataclass(frozen=True)
class Evidence:
    """One attachment: a name, its (already redacted) text and a MIME type."""

    name: str
    content: str
    mime: str = "text/plain"


@dataclass(init=False)
class CheckResult:
    """Outcome of one check. ``reason`` is a one-line, secret-free explanation shown to operators (never a status
    prefix: the status is ``status``)."""

    status: Status
    observed: Any
    expected: Any
    reason: str
    evidence: list[Evidence]
    cause: Cause | None
    blocked_by: tuple[str, ...]

    def __init__(
        self,
        status: Status | bool,
        observed: Any,
        expected: Any,
        reason: str = "",
        evidence: list[Evidence] | None = None,
        cause: Cause | None = None,
        blocked_by: tuple[str, ...] | list[str] = (),
    ) -> None:
        if isinstance(status, bool):
            status = Status.PASSED if status else Status.FAILED
        self.status = Status(status)
        self.observed = observed
        self.expected = expected
        self.reason = reason
        self.evidence = list(evidence or [])
        self.cause = cause
        self.blocked_by = tuple(blocked_by)

    @property
    def ok(self) -> bool:
        return self.status is Status.PASSED

    @ok.setter
    def ok(self, value: bool) -> None:
        self.status = Status.PASSED if value else Status.FAILED

    @property
    def checked(self) -> bool:
        """True when the check ran to a judgement (passed or failed)."""
        return self.status in (Status.PASSED, Status.FAILED)

    def summary(self) -> str:
        if self.reason:
            return self.reason
        return f"observed {plain(self.observed)}, expected {plain(self.expected)}"

    def add(self, name: str, content: str, mime: str = "text/plain") -> CheckResult:
        self.evidence.append(Evidence(name, content, mime))
        return self


def plain(value: Any) -> str:
    """A value as an operator reads it: no Python reprs (``status=healthy, database=connected``, ``View access,
    Trade``)."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={plain(v)}" for k, v in value.items()) or "nothing"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(plain(v) for v in value) or "none"
    return str(value)


def passed(observed: Any, expected: Any, reason: str = "", *evidence: Evidence) -> CheckResult:
    return CheckResult(Status.PASSED, observed, expected, reason, list(evidence))


def failed(
    observed: Any,
    expected: Any,
    reason: str,
    *evidence: Evidence,
    cause: Cause | None = None,
    blocked_by: tuple[str, ...] | list[str] = (),
) -> CheckResult:
    return CheckResult(Status.FAILED, observed, expected, reason, list(evidence), cause, blocked_by)


def error(reason: str, *evidence: Evidence, cause: Cause | None = None) -> CheckResult:
    """The check could not run to its end."""
    return CheckResult(Status.ERROR, "could not check", "a judgement", reason, list(evidence), cause)


def not_verified(
    reason: str,
    *evidence: Evidence,
    cause: Cause | None = None,
    blocked_by: tuple[str, ...] | list[str] = (),
    expected: Any = "a verified result",
) -> CheckResult:
    """Nothing was checked: what is missing is ``cause``; the items it rests on are ``blocked_by``."""
    return CheckResult(Status.NOT_VERIFIED, "not checked", expected, reason, list(evidence), cause, blocked_by)


def not_applicable(reason: str, *evidence: Evidence) -> CheckResult:
    """Out of the operator's declared scope (the reason names the declaration)."""
    return CheckResult(Status.NOT_APPLICABLE, "out of scope", "in scope", reason, list(evidence))
