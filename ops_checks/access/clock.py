"""Exchange clock offset, measured (runbook §8; DESIGN.md §8.2 for what the runbook's script gets wrong).

Each sample: local wall time at send (``t_send``), the round trip from a monotonic clock (``rtt``), and the
server time from VALR's ``time`` field (nanosecond ISO-8601; ``epochTime`` only as a fallback, in seconds or
milliseconds by magnitude). The server stamped its clock somewhere between our send and our receive, so

    offset = server − (t_send + rtt / 2),   |true offset − offset| ≤ rtt / 2 + resolution / 2

whatever the split between the two legs. ``resolution`` is the server timestamp's granularity: a value
truncated to whole seconds (``epochTime``) says only that the server clock was in [E, E + 1 s), so we take
its middle and widen the bound by half a second. Wall time only gives the instant of sending; every
interval comes from the monotonic clock, so an NTP step during the measurement cannot fake a round trip.

The estimate is the sample with the smallest round trip, not a median over the best half:
- its error bound is the tightest of all samples, and that bound is a guarantee, not a statistic: a
  median of offsets has no such bound (it mixes samples whose bounds are wider);
- queueing delay only ever adds to a round trip, and asymmetric queueing is what biases an offset, so the
  fastest exchange is the least disturbed one (NTP's clock filter makes the same choice);
- with 7 samples the minimum is a stable statistic on any link whose jitter is not pathological; when it
  is, the bound says so (a wide bound is reported, never hidden).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from ops_checks.access.valr.client import ServerTime, ValrClient
from ops_checks.core.settings import DEFAULTS

HEALTHY, WARNING, CRITICAL, NEUTRAL = "HEALTHY", "WARNING", "CRITICAL", "NEUTRAL"
Bands = tuple[tuple[str, Decimal, Decimal | None], ...]  # name, lower edge (exclusive), upper edge (inclusive)
CRITICAL_FROM_MS = Decimal(800)  # runbook §8.7: the critical band's lower edge (no setting of its own)


def bands(warn_ms: Decimal = DEFAULTS.drift_warn_ms, max_ms: Decimal = DEFAULTS.drift_max_ms) -> Bands:
    """Runbook §8.7's bands at the operator's thresholds: healthy up to ``warn_ms`` (``OPSCHECK_DRIFT_WARN_MS``),
    warning up to 800 ms, critical up to ``max_ms`` (``OPSCHECK_DRIFT_MAX_MS``), NEUTRAL above. The edges never
    decrease: a maximum below 800 (or below the warning edge) pulls them down to it, leaving those bands empty; a
    warning edge above 800 pushes the critical edge up to it."""
    warn = min(warn_ms, max_ms)
    critical = min(max(CRITICAL_FROM_MS, warn), max_ms)
    return (
        (HEALTHY, Decimal(-1), warn),
        (WARNING, warn, critical),
        (CRITICAL, critical, max_ms),
        (NEUTRAL, max_ms, None),
    )


BANDS = bands()  # the runbook's: 0–500 healthy, 500–800 warning, 800–1000 critical, > 1000 NEUTRAL
_NS_PER_MS = Decimal(1_000_000)
_FRACTION = re.compile(r"\d{2}:\d{2}:\d{2}[.,](\d+)")


def resolution_ns(server: ServerTime) -> int:
    """Granularity of the server's timestamp: 1 ns for a 9-digit ``time``, 1 s for ``epochTime`` in seconds."""
    if server.source == "epochTime(s)":
        return 1_000_000_000
    if server.source == "epochTime(ms)":
        return 1_000_000
    m = _FRACTION.search(server.time_iso or "")
    digits = len(m.group(1)) if m else 0
    return int(10 ** (9 - min(9, digits)))  # int ** int is typed Any (a negative power is a float)


@dataclass(frozen=True)
class Sample:
    t_send_ns: int
    rtt_ns: int
    server_ns: int
    resolution_ns: int = 1
    source: str = "time"

    @property
    def offset_ms(self) -> Decimal:
        midpoint2 = 2 * self.t_send_ns + self.rtt_ns  # twice the midpoint: no rounding of an odd round trip
        server2 = 2 * self.server_ns + self.resolution_ns  # twice the middle of the server's interval
        return Decimal(server2 - midpoint2) / 2 / _NS_PER_MS

    @property
    def rtt_ms(self) -> Decimal:
        return Decimal(self.rtt_ns) / _NS_PER_MS

    @property
    def bound_ms(self) -> Decimal:
        return Decimal(self.rtt_ns + self.resolution_ns) / 2 / _NS_PER_MS


@dataclass(frozen=True)
class OffsetEstimate:
    """Offset of the exchange clock from ours (positive: VALR is ahead), with a guaranteed error bound."""

    offset_ms: Decimal
    bound_ms: Decimal
    rtt_ms: Decimal
    samples: tuple[Sample, ...]
    table: Bands = BANDS  # the §8.7 bands it is judged by (``bands(warn, max)`` of the thresholds)

    @property
    def band(self) -> str:
        return band(abs(self.offset_ms), self.table)

    @property
    def worst_ms(self) -> Decimal:
        """The largest |offset| consistent with the measurement."""
        return abs(self.offset_ms) + self.bound_ms

    @property
    def least_ms(self) -> Decimal:
        """The smallest |offset| consistent with the measurement."""
        return max(Decimal(0), abs(self.offset_ms) - self.bound_ms)

    @property
    def bands_spanned(self) -> tuple[str, ...]:
        """Every §8.7 band the true |offset| may lie in, given the error bound."""
        lo, hi = self.least_ms, self.worst_ms
        return tuple(
            name for name, low, high in self.table if hi > low and (high is None or (lo <= high and high > low))
        )

    def summary(self) -> str:
        return f"offset {self.offset_ms:+.1f} ms ± {self.bound_ms:.1f} ms (rtt {self.rtt_ms:.1f} ms), band {self.band}"

    def render(self) -> str:
        source = self.samples[0].source if self.samples else "?"
        lines = [
            f"estimate: {self.summary()}",
            "method: offset = server − (t_send + rtt/2), bound = rtt/2 + resolution/2; the sample with the "
            f"smallest round trip is the estimate; server field: {source}",
            "",
            "t_send_ns            rtt_ms     offset_ms   bound_ms",
        ]
        lines += [f"{s.t_send_ns:<20d} {s.rtt_ms:>9.3f} {s.offset_ms:>+12.3f} {s.bound_ms:>9.3f}" for s in self.samples]
        return "\n".join(lines)


def band(abs_offset_ms: Decimal, table: Bands = BANDS) -> str:
    """Runbook §8.7: 0–500 healthy, 500–800 warning, 800–1000 critical, > 1000 NEUTRAL (or ``table``'s edges)."""
    for name, low, high in table:
        if abs_offset_ms > low and (high is None or abs_offset_ms <= high):
            return name
    return NEUTRAL


def best(samples: list[Sample], table: Bands = BANDS) -> OffsetEstimate:
    """The estimate from given samples: the one with the smallest round trip (see the module docstring)."""
    if not samples:
        raise ValueError("no samples")
    chosen = min(samples, key=lambda s: (s.rtt_ns + s.resolution_ns, s.rtt_ns))
    return OffsetEstimate(chosen.offset_ms, chosen.bound_ms, chosen.rtt_ms, tuple(samples), table)


def estimate_offset(
    client: ValrClient,
    samples: int = DEFAULTS.drift_samples,
    *,
    wall_ns: Callable[[], int] = time.time_ns,
    mono_ns: Callable[[], int] = time.monotonic_ns,
    table: Bands = BANDS,
) -> OffsetEstimate:
    """Take ``samples`` readings of ``GET /v1/public/time``; raises ValrError if any request fails. ``table``:
    the §8.7 bands to judge by (``bands(warn, max)``)."""
    taken: list[Sample] = []
    for _ in range(max(1, samples)):
        t_send = wall_ns()
        m0 = mono_ns()
        server = client.public_time()
        rtt = max(0, mono_ns() - m0)
        taken.append(Sample(t_send, rtt, server.server_ns, resolution_ns(server), server.source))
    return best(taken, table)
