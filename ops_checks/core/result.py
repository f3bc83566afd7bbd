"""The result object every check returns: steps assert on it, reports attach its evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Evidence:
    """One attachment: a name, its (already redacted) text and a MIME type."""

    name: str
    content: str
    mime: str = "text/plain"


@dataclass
class CheckResult:
    """Outcome of one check. ``reason`` is a one-line, secret-free explanation shown to operators."""

    ok: bool
    observed: Any
    expected: Any
    reason: str = ""
    evidence: list[Evidence] = field(default_factory=list)

    def summary(self) -> str:
        if self.reason:
            return self.reason
        return f"observed {self.observed!r}, expected {self.expected!r}"

    def add(self, name: str, content: str, mime: str = "text/plain") -> CheckResult:
        self.evidence.append(Evidence(name, content, mime))
        return self


def passed(observed: Any, expected: Any, reason: str = "", *evidence: Evidence) -> CheckResult:
    return CheckResult(True, observed, expected, reason, list(evidence))


def failed(observed: Any, expected: Any, reason: str, *evidence: Evidence) -> CheckResult:
    return CheckResult(False, observed, expected, reason, list(evidence))
