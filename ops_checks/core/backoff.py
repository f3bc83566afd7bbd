"""The incident SOP §1 backoff policy as a reusable component: initial retry 1 s, 2^n growth capped at 60 s,
at most 5 retries, ops alerted after 3 consecutive failures.

Pure: ``schedule`` yields the delays; ``retry`` runs a call with an injectable ``sleep`` (tests and sandbox
drills compress time with ``Policy.scale``) and an ``alert`` callback fired once when the failure streak
reaches ``alert_after``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Policy:
    initial_s: float = 1.0
    factor: float = 2.0
    cap_s: float = 60.0
    max_retries: int = 5
    alert_after: int = 3
    scale: float = 1.0  # multiplies every delay: 1.0 in production, small in sandbox drills

    def describe(self) -> str:
        unscaled = Policy(self.initial_s, self.factor, self.cap_s, self.max_retries)
        delays = ", ".join(f"{d:g}" for d in schedule(unscaled))
        return (
            f"initial {self.initial_s:g} s, x{self.factor:g} per retry, cap {self.cap_s:g} s, "
            f"{self.max_retries} retries (delays {delays} s), alert after {self.alert_after} failures"
        )


SOP_POLICY = Policy()


def schedule(policy: Policy = SOP_POLICY) -> Iterator[float]:
    """The delay before each retry, in seconds: initial · factor^n, capped, ``max_retries`` of them, scaled."""
    for n in range(policy.max_retries):
        yield min(policy.cap_s, policy.initial_s * policy.factor**n) * policy.scale


@dataclass
class Attempt(Generic[T]):
    """What one call to ``retry`` did: every outcome in order, and whether ops were alerted."""

    value: T | None = None
    ok: bool = False
    errors: list[BaseException] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    alerted: bool = False

    @property
    def attempts(self) -> int:
        return len(self.errors) + (1 if self.ok else 0)


def retry(
    call: Callable[[], T],
    *,
    policy: Policy = SOP_POLICY,
    retry_on: Callable[[BaseException], bool] = lambda exc: True,
    sleep: Callable[[float], None] = time.sleep,
    alert: Callable[[int, BaseException], None] | None = None,
) -> Attempt[T]:
    """Call ``call`` until it returns, an error is not retryable, or the retries are spent.

    Only ``Exception`` subclasses are caught. ``alert(streak, last_error)`` is called once, when the streak of
    consecutive failures reaches ``policy.alert_after``.
    """
    result: Attempt[T] = Attempt()
    delays = schedule(policy)
    while True:
        try:
            result.value = call()
            result.ok = True
            return result
        except Exception as exc:  # noqa: BLE001 - the caller decides what is retryable
            result.errors.append(exc)
            if alert is not None and not result.alerted and len(result.errors) >= policy.alert_after:
                result.alerted = True
                alert(len(result.errors), exc)
            if not retry_on(exc):
                return result
            delay = next(delays, None)
            if delay is None:
                return result
            result.delays.append(delay)
            sleep(delay)
