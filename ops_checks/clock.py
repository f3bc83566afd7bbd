"""Exchange clock offset, measured (runbook §8; DESIGN.md §8.2 for what the runbook's script gets wrong).

Each sample: local wall time at send (``t_send``), the round trip from a monotonic clock (``rtt``), and the
server time from VALR's ``time`` field (nanoseconds). offset = server − (t_send + rtt / 2); the true offset
lies within ± rtt / 2 of that, whatever the split between the two legs.

The estimate is the sample with the smallest round trip: its error bound is the tightest of all samples, and a
minimum is robust to the queueing delays that inflate the other samples (NTP's clock filter makes the same
choice). A median would mix in samples whose bound is wider.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from ops_checks.valr.client import ValrClient

HEALTHY, WARNING, CRITICAL, NEUTRAL = "HEALTHY", "WARNING", "CRITICAL", "NEUTRAL"


@dataclass(frozen=True)
class Sample:
    t_send_ns: int
    rtt_ns: int
    server_ns: int

    @property
    def offset_ms(self) -> Decimal:
        midpoint = self.t_send_ns + self.rtt_ns // 2
        return Decimal(self.server_ns - midpoint) / Decimal(1_000_000)

    @property
    def rtt_ms(self) -> Decimal:
        return Decimal(self.rtt_ns) / Decimal(1_000_000)

    @property
    def bound_ms(self) -> Decimal:
        return self.rtt_ms / 2


@dataclass(frozen=True)
class OffsetEstimate:
    offset_ms: Decimal
    bound_ms: Decimal
    rtt_ms: Decimal
    samples: tuple[Sample, ...]

    @property
    def band(self) -> str:
        return band(abs(self.offset_ms))

    def render(self) -> str:
        lines = [
            f"estimate: offset {self.offset_ms:+.1f} ms ± {self.bound_ms:.1f} ms (rtt {self.rtt_ms:.1f} ms), "
            f"band {self.band}",
            "",
            "t_send_ns            rtt_ms     offset_ms   bound_ms",
        ]
        lines += [f"{s.t_send_ns:<20d} {s.rtt_ms:>9.3f} {s.offset_ms:>+12.3f} {s.bound_ms:>9.3f}" for s in self.samples]
        return "\n".join(lines)


def band(abs_offset_ms: Decimal) -> str:
    """Runbook §8.7: 0–500 healthy, 500–800 warning, 800–1000 critical, > 1000 NEUTRAL."""
    if abs_offset_ms > 1000:
        return NEUTRAL
    if abs_offset_ms > 800:
        return CRITICAL
    if abs_offset_ms > 500:
        return WARNING
    return HEALTHY


def estimate_offset(
    client: ValrClient,
    samples: int = 7,
    *,
    wall_ns: Callable[[], int] = time.time_ns,
    mono_ns: Callable[[], int] = time.monotonic_ns,
) -> OffsetEstimate:
    """Take ``samples`` readings of ``GET /v1/public/time``; raises ValrError if any request fails."""
    taken: list[Sample] = []
    for _ in range(max(1, samples)):
        t_send = wall_ns()
        m0 = mono_ns()
        server = client.public_time()
        rtt = mono_ns() - m0
        taken.append(Sample(t_send, rtt, server.server_ns))
    best = min(taken, key=lambda s: s.rtt_ns)
    return OffsetEstimate(best.offset_ms, best.bound_ms, best.rtt_ms, tuple(taken))
