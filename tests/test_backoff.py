"""The SOP §1 backoff policy: 1 s initial, 2^n, cap 60 s, 5 retries, alert after 3."""

from __future__ import annotations

import pytest

from ops_checks.core.backoff import SOP_POLICY, Policy, retry, schedule


def test_sop_schedule() -> None:
    assert list(schedule()) == [1, 2, 4, 8, 16]


def test_cap_and_scale() -> None:
    assert list(schedule(Policy(max_retries=8))) == [1, 2, 4, 8, 16, 32, 60, 60]
    assert list(schedule(Policy(scale=0.001))) == pytest.approx([0.001, 0.002, 0.004, 0.008, 0.016])


def test_gives_up_after_five_retries_and_alerts_once_at_three() -> None:
    slept: list[float] = []
    alerts: list[int] = []
    calls = 0

    def boom() -> int:
        nonlocal calls
        calls += 1
        raise RuntimeError(f"401 #{calls}")

    result = retry(boom, sleep=slept.append, alert=lambda n, exc: alerts.append(n))
    assert calls == 6 and not result.ok and result.attempts == 6
    assert slept == [1, 2, 4, 8, 16]
    assert alerts == [3] and result.alerted


def test_success_after_two_failures_does_not_alert() -> None:
    outcomes = iter([RuntimeError("a"), RuntimeError("b"), 42])

    def call() -> int:
        item = next(outcomes)
        if isinstance(item, Exception):
            raise item
        return item

    alerts: list[int] = []
    result = retry(call, sleep=lambda s: None, alert=lambda n, exc: alerts.append(n))
    assert result.ok and result.value == 42 and result.attempts == 3 and alerts == []


def test_not_retryable_stops_at_once() -> None:
    result = retry(lambda: 1 / 0, retry_on=lambda exc: False, sleep=lambda s: pytest.fail("slept"))
    assert not result.ok and result.attempts == 1 and result.delays == []


def test_describe_names_the_policy() -> None:
    assert "delays 1, 2, 4, 8, 16 s" in SOP_POLICY.describe() and "alert after 3" in SOP_POLICY.describe()
