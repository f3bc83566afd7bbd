"""Offset arithmetic with injected clocks: a fake wall + monotonic clock advanced by respx-served latency,
time-machine for the wall clock where the default clocks are used."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
import time_machine

from ops_checks.access.clock import CRITICAL, HEALTHY, NEUTRAL, WARNING, Sample, band, best, estimate_offset
from ops_checks.access.valr.client import ValrClient, ValrError

BASE = "https://api.valr.com"
MS = 1_000_000
T0 = 1_734_948_000_123_456_789  # 2024-12-23T10:00:00.123456789Z


class FakeClock:
    """Wall and monotonic clocks that only move when the fake exchange says time passed."""

    def __init__(self, wall_ns: int = T0) -> None:
        self.wall_ns = wall_ns
        self.mono_ns = 5_000_000_000

    def advance(self, ms: float) -> None:
        self.wall_ns += round(ms * MS)
        self.mono_ns += round(ms * MS)

    def wall(self) -> int:
        return self.wall_ns

    def mono(self) -> int:
        return self.mono_ns


def iso(ns: int) -> str:
    seconds, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{frac:09d}Z"


def exchange(clock: FakeClock, offset_ms: float, legs: list[tuple[float, float]], body: Any = None) -> ValrClient:
    """A VALR time endpoint (respx router as an httpx transport) whose clock is ``offset_ms`` ahead of ours;
    request i takes ``legs[i]`` = (up, down) ms. ``body(server_ns)`` shapes the answer (default: ``time``)."""
    calls = iter(legs)
    router = respx.MockRouter(base_url=BASE, assert_all_called=False)

    def answer(request: httpx.Request) -> httpx.Response:
        up, down = next(calls)
        clock.advance(up)
        server = clock.wall_ns + round(offset_ms * MS)
        clock.advance(down)
        payload = body(server) if body else {"epochTime": server // 1_000_000_000, "time": iso(server)}
        return httpx.Response(200, json=payload)

    router.get("/v1/public/time").mock(side_effect=answer)
    return ValrClient(BASE, transport=httpx.MockTransport(router.handler), timeout=1.0)


def measure(client: ValrClient, clock: FakeClock, samples: int) -> Any:
    return estimate_offset(client, samples, wall_ns=clock.wall, mono_ns=clock.mono)


def test_symmetric_latency_recovers_the_offset_exactly() -> None:
    clock = FakeClock()
    est = measure(exchange(clock, 250, [(100, 100)] * 3), clock, 3)
    assert est.offset_ms == Decimal(250) + Decimal("0.0000005")  # + half a nanosecond of timestamp resolution
    assert est.rtt_ms == 200 and abs(est.bound_ms - 100) < Decimal("0.001")
    assert est.band == HEALTHY and len(est.samples) == 3


@pytest.mark.parametrize(("up", "down"), [(300, 100), (100, 300), (400, 0), (0, 400)])
def test_asymmetric_latency_stays_within_the_bound(up: float, down: float) -> None:
    clock = FakeClock()
    est = measure(exchange(clock, 0, [(up, down)]), clock, 1)
    assert est.offset_ms.quantize(Decimal(1)) == Decimal(up - down) / 2  # biased by the asymmetry …
    assert abs(est.offset_ms - 0) <= est.bound_ms  # … never beyond the bound
    assert abs(est.bound_ms - 200) < Decimal("0.001")


def test_slow_exchange_with_zero_offset_is_not_drift() -> None:
    """RTT 400 ms, true offset 0: reported as 0 ± 200, inside the healthy band and the tolerance."""
    clock = FakeClock()
    est = measure(exchange(clock, 0, [(200, 200)] * 7), clock, 7)
    assert abs(est.offset_ms) <= 20 and est.worst_ms < 1000
    assert est.bands_spanned == (HEALTHY,)


def test_the_fastest_sample_is_the_estimate() -> None:
    clock = FakeClock()
    legs = [(300, 300), (50, 10), (200, 100), (10, 400)]
    est = measure(exchange(clock, -1500, legs), clock, 4)
    assert est.rtt_ms == 60 and est.offset_ms.quantize(Decimal(1)) == Decimal(-1500 + 20)
    assert est.band == NEUTRAL and est.least_ms > 1000


def test_epoch_time_in_milliseconds_widens_the_bound_by_half_a_millisecond() -> None:
    clock = FakeClock()
    client = exchange(clock, 700, [(5, 5)], body=lambda ns: {"epochTime": ns // MS})
    est = measure(client, clock, 1)
    assert est.samples[0].source == "epochTime(ms)" and est.samples[0].resolution_ns == MS
    assert abs(est.bound_ms - Decimal("5.5")) < Decimal("0.001")
    assert abs(est.offset_ms - 700) <= est.bound_ms and est.band == WARNING


def test_epoch_time_in_seconds_under_time_machine() -> None:
    """VALR documents epochTime in seconds: a whole second says only "somewhere in this second"."""
    with time_machine.travel(datetime(2024, 12, 23, 10, 0, 0, 400_000, tzinfo=UTC), tick=False):
        router = respx.MockRouter(base_url=BASE, assert_all_called=False)
        router.get("/v1/public/time").mock(return_value=httpx.Response(200, json={"epochTime": int(time.time())}))
        client = ValrClient(BASE, transport=httpx.MockTransport(router.handler), timeout=1.0)
        est = estimate_offset(client, 3)  # default clocks: wall time is time-machine's, intervals monotonic
    assert est.samples[0].source == "epochTime(s)" and est.samples[0].resolution_ns == 1_000_000_000
    assert abs(est.offset_ms - 100) < 5  # middle of the second (…:00.5) minus our …:00.4
    assert est.bound_ms >= 500 and abs(est.offset_ms) <= est.bound_ms  # the true offset 0 is inside
    assert est.bands_spanned == (HEALTHY, WARNING)  # ± 500 ms cannot place a 100 ms estimate in one band


def test_iso_with_millisecond_digits_has_millisecond_resolution() -> None:
    clock = FakeClock()
    client = exchange(clock, 0, [(1, 1)], body=lambda ns: {"time": iso(ns)[:23] + "Z"})
    est = measure(client, clock, 1)
    assert est.samples[0].source == "time" and est.samples[0].resolution_ns == MS


def _failing(response: httpx.Response | Exception) -> ValrClient:
    router = respx.MockRouter(base_url=BASE, assert_all_called=False)
    route = router.get("/v1/public/time")
    if isinstance(response, Exception):
        route.mock(side_effect=response)
    else:
        route.mock(return_value=response)
    return ValrClient(BASE, transport=httpx.MockTransport(router.handler), timeout=0.5)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (httpx.Response(200, content=b'{"epochTime": <html>'), "malformed JSON"),
        (httpx.Response(200, json={"serverTime": "soon"}), "unexpected response shape"),
        (httpx.Response(200, json={"time": "yesterday", "epochTime": "1734948000"}), "unexpected response shape"),
        (httpx.Response(503, json={"code": -1, "message": "maintenance"}), "HTTP 503"),
        (httpx.ReadTimeout("simulated"), "timed out"),
        (httpx.ConnectError("refused"), "failed"),
    ],
)
def test_bad_answers_are_one_line_errors(answer: httpx.Response | Exception, reason: str) -> None:
    clock = FakeClock()
    with pytest.raises(ValrError) as info:
        measure(_failing(answer), clock, 7)
    assert reason in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("ms", "name"),
    [(0, HEALTHY), (500, HEALTHY), (Decimal("500.1"), WARNING), (800, WARNING), (801, CRITICAL), (1000, CRITICAL)]
    + [(Decimal("1000.001"), NEUTRAL), (86_400_000, NEUTRAL)],
)
def test_bands(ms: Decimal, name: str) -> None:
    assert band(Decimal(ms)) == name


def test_bound_straddling_an_edge_spans_two_bands() -> None:
    est = best([Sample(0, 1_200 * MS, 600 * MS)])  # offset 0, rtt 1.2 s
    assert est.bands_spanned == (HEALTHY, WARNING)
    est = best([Sample(0, 2 * MS, 1_501 * MS)])
    assert est.bands_spanned == (NEUTRAL,)


def test_no_samples_is_an_error() -> None:
    with pytest.raises(ValueError):
        best([])


def test_the_bands_follow_the_drift_thresholds() -> None:
    """Issue 21 §9: OPSCHECK_DRIFT_WARN_MS and OPSCHECK_DRIFT_MAX_MS are the §8.7 edges, not a validated number
    nobody reads; the edges never decrease, so a lowered maximum empties the bands above it."""
    from ops_checks.access.clock import BANDS, bands

    assert bands() == BANDS and band(Decimal(600)) == WARNING and band(Decimal(1001)) == NEUTRAL
    assert band(Decimal(450), bands(Decimal(400))) == WARNING and band(Decimal(450)) == HEALTHY
    assert band(Decimal(900), bands(max_ms=Decimal(850))) == NEUTRAL
    low = bands(max_ms=Decimal("0.001"))
    assert band(Decimal("0.0005"), low) == HEALTHY and band(Decimal("0.3"), low) == NEUTRAL
    est = best([Sample(0, 600_000, 0)], low)  # offset -0.3 ms ± 0.3 ms
    assert est.band == NEUTRAL and WARNING not in est.bands_spanned and CRITICAL not in est.bands_spanned
    assert band(Decimal(850), bands(Decimal(900))) == HEALTHY and band(Decimal(950), bands(Decimal(900))) == CRITICAL
