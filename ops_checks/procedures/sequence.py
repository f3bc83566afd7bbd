"""One step engine for the procedures that walk ordered, named steps: the §3.2 transition (``transition``) and the
§4.3 kill-switch flow (``killswitch``).

Each step records its own result (a §3.3 checklist row, a ``CheckResult`` per item) and raises ``StepFailed`` when
it failed; an expected error of the procedure (``errors``) is recorded for the step it broke by ``on_error``. Either
way the run stops at that step: the steps after it are *not reached*. Anything else (an interruption, a bug)
propagates, so the procedure's own fail-safe can run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Step = tuple[str, Callable[[], object]]  # (name, action)


class StepFailed(Exception):
    """A step failed and its record already says why: the steps after it are not reached."""


def one_line(text: object, limit: int = 300) -> str:
    """``text`` on one line (white space folded), at most ``limit`` characters."""
    return " ".join(str(text).split())[:limit]


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@dataclass
class StepRun:
    """One pass over ordered named steps, stopping at the first that fails.

    ``on_error(name, exc)`` records an expected error (one of ``errors``) as the failure of step ``name`` and returns
    the one-line reason. After ``run``: ``stopped_at`` names the failed step ("" when every step ran), ``reason``
    says why, ``done`` lists the steps that ran to the end."""

    errors: tuple[type[Exception], ...]
    on_error: Callable[[str, Exception], str]
    current: str = ""
    stopped_at: str = ""
    reason: str = ""
    done: list[str] = field(default_factory=list)

    def run(self, steps: Iterable[Step]) -> bool:
        """Runs ``steps`` in order; False when one failed (the rest were not reached)."""
        for name, action in steps:
            self.current = name
            try:
                action()
            except StepFailed as exc:
                return self._stop(name, str(exc))
            except self.errors as exc:
                return self._stop(name, self.on_error(name, exc))
            self.done.append(name)
        return True

    def _stop(self, name: str, reason: str) -> bool:
        self.stopped_at, self.reason = name, reason
        return False
