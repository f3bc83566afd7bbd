"""One base for the drills on disposable sandboxes (§3 transition, §5 emergency and its §5.7 checklist, §6 incident,
the SOP drills): the per-item outcomes, the guarded runner that turns a drill's error into a failed item with a
one-line reason, and what the steps ask of a drill (``outcome``, ``requirement``, ``not_reached``).

A drill runs on a sandbox of its own (``disposable``), broken as the session's is (``break_like_session``), never
the session's shared one. The library decides what runs where: a step hands over the session's drill (None on live)
and gets the item's result (``item_result``: the drill's in the sandbox, the item's registry check on live), or the
Given it rests on (``requirement``, ``not_reached``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

from ops_checks.access.config import Target
from ops_checks.access.db import DbError
from ops_checks.catalogue import BY_ID
from ops_checks.checks import givens
from ops_checks.core.http import HttpError
from ops_checks.core.result import CheckResult, Status, failed, not_verified
from ops_checks.procedures.sequence import first_line
from ops_checks.sandbox import faults as sandbox_faults
from ops_checks.sandbox import postgres
from ops_checks.sandbox.environment import Sandbox

#: what a drill step may raise and still be recorded as its item's failure (anything else propagates)
DRILL_ERRORS: tuple[type[Exception], ...] = (DbError, psycopg.Error, HttpError, OSError)
COMPLETED = "drill completed"
ERROR_PREFIX = "drill error: "
#: how a reason says what became of the item it rests on (by that item's status)
OUTCOME_WORDS = {
    Status.FAILED: "failed",
    Status.ERROR: "could not run",
    Status.NOT_VERIFIED: "was not verified",
    Status.NOT_APPLICABLE: "is out of scope",
    Status.WAIVED: "is waived",
    Status.PASSED: "passed",
}


def guard(
    step: Callable[[], CheckResult],
    errors: tuple[type[Exception], ...] = DRILL_ERRORS,
    expected: str = COMPLETED,
    prefix: str = ERROR_PREFIX,
) -> CheckResult:
    """``step()``, or a failed result whose reason is ``prefix`` and the first line of the error it raised."""
    try:
        return step()
    except errors as exc:
        # a grant or a table the bot's database lacks: the same cause as the read-only items that meet it
        return failed("error", expected, f"{prefix}{first_line(exc)}", cause=givens.cause_in(str(exc)))


@dataclass
class Drill:
    """What one drill proved: a CheckResult per item it reached, and what it did (``say``), in order."""

    results: dict[str, CheckResult] = field(default_factory=dict)
    procedure: list[str] = field(default_factory=list)

    #: whether the procedure's line for an item carries its one-line reason
    SAY_SUMMARY = True

    def __repr__(self) -> str:  # step arguments are shown in reports: never dump the drill's state
        return f"<{type(self).__module__.rsplit('.', 1)[-1]} drill>"

    def stamp(self) -> str:
        """What each line of the procedure starts with (the time, by default)."""
        return datetime.now(UTC).isoformat(timespec="milliseconds")

    def say(self, text: str) -> None:
        self.procedure.append(f"{self.stamp()} {text}")

    def record(self, item: str, result: CheckResult) -> CheckResult:
        """Keep ``result`` as item ``item``'s and say so in the procedure."""
        self.results[item] = result
        line = f"{item}: {'passed' if result.ok else 'FAILED'}"
        self.say(f"{line} {result.summary()}" if self.SAY_SUMMARY else line)
        return result

    def guarded(
        self,
        item: str,
        step: Callable[[], CheckResult],
        errors: tuple[type[Exception], ...] = DRILL_ERRORS,
    ) -> CheckResult:
        """Runs one item's step; an expected error fails the item with a one-line reason (``guard``)."""
        return self.record(item, guard(step, errors))

    def title(self, item: str) -> str:
        """How ``requirement`` names an item."""
        return item

    def outcome(self, item: str) -> CheckResult:
        """The drill's result for ``item``; failed when the drill never reached it."""
        return self.results.get(item) or failed("not run", COMPLETED, f"the drill did not reach {item}")

    def requirement(self, item: str) -> CheckResult | None:
        """None when ``item`` passed; else the not-verified result of an item resting on it: ``blocked_by`` names
        ``item`` (the verdict files the resting item under ``item``'s cause, never as a cause of its own)."""
        result = self.results.get(item)
        if result is not None and result.ok:
            return None
        if result is None:
            return not_verified(f"rests on {self.title(item)}, which the drill did not reach", blocked_by=(item,))
        return not_verified(f"rests on {self.title(item)}, which {OUTCOME_WORDS[result.status]}", blocked_by=(item,))

    def not_reached(self, item: str) -> CheckResult | None:
        """None when the drill reached ``item``; else a not-verified result resting on the step that stopped the
        drill (``blocked_by``): the one way to say "not reached" (as ``KillSwitchFlow.not_reached``)."""
        return None


def outcome(item: str, drill: Drill | None, live: Callable[[], CheckResult]) -> CheckResult:
    """The drill's result for an item in the sandbox; the read-only check ``live`` on live."""
    return live() if drill is None else drill.outcome(item)


def item_result(t: Target, drill: Drill | None, item: str, **runtime: Any) -> CheckResult:
    """What a drill item's When step returns: the drill's result in the sandbox; on live (no drill) the item's
    read-only check as the registry names it (``Item.check``, its ``check_needs`` taken from ``runtime``)."""
    return outcome(item, drill, lambda: BY_ID[item].bind_check(**runtime)(t))


def requirement(item: str, drill: Drill | None) -> CheckResult | None:
    """A Given resting on the drill's ``item`` (``Drill.requirement``); on live (no drill) nothing to rest on."""
    return None if drill is None else drill.requirement(item)


def not_reached(item: str, drill: Drill | None) -> CheckResult | None:
    """Why the drill never reached ``item`` (``Drill.not_reached``), or None; on live (no drill) None."""
    return None if drill is None else drill.not_reached(item)


def break_like_session(sb: Sandbox, faults: Iterable[str], items: Collection[str] | None = None) -> None:
    """Apply the session's faults (``--sandbox-fault`` names) to a drill's own sandbox ``sb``, so the drill meets
    what the session's sandbox meets; with ``items``, only the faults aimed at those items."""
    known = sandbox_faults.registry()
    names = [n for n in faults if items is None or (n in known and known[n].item in items)]
    sandbox_faults.apply(sb, names)


@contextmanager
def disposable(server: postgres.Server | None = None) -> Iterator[Sandbox]:
    """A sandbox of a drill's own (on ``server`` when given): started, handed over, then its bot's knobs reset
    (ending what a fault left running after the stop) and stopped, whatever happened."""
    sb = Sandbox(server=server)
    try:
        sb.start()
        yield sb
    finally:
        if sb.bot is not None:
            sb.bot.knobs.reset()
        sb.stop()
