"""Runbook §1.2.4 and §8.6.1/8.6.2/8.7.1–8.7.3: the exchange clock offset, measured once and judged.

One ``Measurement`` (N samples of VALR's public time, see ``clock.py``) serves every item of a run, so the
drift item and the band items report the same numbers. The judgements use the error bound: a drift is only
"within tolerance" when the largest offset consistent with the measurement is.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ops_checks.checks.s1_preconditions.exchange import client
from ops_checks.core.http import Recorder
from ops_checks.core.result import CheckResult, Evidence, failed, passed
from ops_checks.target.clock import CRITICAL, WARNING, Bands, OffsetEstimate, bands, estimate_offset
from ops_checks.target.config import Target
from ops_checks.target.valr.client import ValrError

BAND_ACTION = {WARNING: "monitor closely", CRITICAL: "prepare to sync the clock"}


def band_range(est: OffsetEstimate, name: str) -> str:
    """The band's edges as the estimate was judged (the runbook's 500–800 ms and 800–1000 ms by default)."""
    low, high = next((lo, hi) for n, lo, hi in est.table if n == name)
    return f"{low}–{high} ms"


def band_table(t: Target) -> Bands:
    """§8.7's bands at the target's thresholds (``OPSCHECK_DRIFT_WARN_MS``, ``OPSCHECK_DRIFT_MAX_MS``)."""
    return bands(t.thresholds.drift_warn_ms, t.thresholds.drift_max_ms)


@dataclass(frozen=True)
class Measurement:
    """The offset estimate, or why there is none; ``http`` is the redacted exchange log."""

    estimate: OffsetEstimate | None
    error: str | None
    http: str

    def evidence(self) -> list[Evidence]:
        ev = [Evidence("drift samples", self.estimate.render())] if self.estimate else []
        return [*ev, Evidence("HTTP", self.http or "(no exchange)")]


def measure(t: Target, samples: int | None = None) -> Measurement:
    """Sample VALR's clock ``samples`` times (default: the threshold ``drift_samples``, 7)."""
    rec = Recorder(t.redactor)
    try:
        est = estimate_offset(client(t, rec), samples or t.thresholds.drift_samples, table=band_table(t))
    except ValrError as exc:
        return Measurement(None, str(exc), rec.render())
    # the samples are the evidence; keep only the first and last exchange of the run in full
    shown = rec.exchanges[:1] + rec.exchanges[-1:] if len(rec.exchanges) > 2 else rec.exchanges
    return Measurement(est, None, "\n\n".join(ex.render() for ex in shown))


# -- preconditions: None when they hold, else a one-line reason naming the item that owns the problem ------------
def time_unavailable(m: Measurement) -> str | None:
    return None if m.estimate else f"VALR's clock cannot be read (item 8.6.1): {m.error}"


def beyond_tolerance(t: Target, m: Measurement) -> str | None:
    if m.estimate is None:
        return time_unavailable(m)
    limit = t.thresholds.drift_max_ms
    if m.estimate.worst_ms >= limit:
        return f"exchange clock {m.estimate.summary()} is beyond the {limit} ms tolerance (item 8.6.2)"
    return None


# -- checks -------------------------------------------------------------------------------------------------------
def exchange_time_reachable(t: Target) -> CheckResult:
    """8.6.1: ``GET /v1/public/time`` answers JSON carrying a server time we can read (``time``, else
    ``epochTime`` — seconds by VALR's docs, milliseconds by the runbook's expectation: told apart by size)."""
    rec = Recorder(t.redactor)
    try:
        st = client(t, rec).public_time()
    except ValrError as exc:
        return failed("no usable answer", "JSON response", str(exc), Evidence("HTTP", rec.render()))
    observed = f"server time {st.server_dt.isoformat()} from {st.source}"
    if st.source != "time":
        observed += " (no nanosecond 'time' field: coarse fallback)"
    return passed(observed, "JSON response", observed, Evidence("HTTP", rec.render()))


def offset_within_tolerance(t: Target, m: Measurement) -> CheckResult:
    """8.6.2 / 1.2.4: |offset| + error bound below the maximum drift (1000 ms), whatever the split of the legs."""
    limit = t.thresholds.drift_max_ms
    expected = f"< {limit} ms"
    if m.estimate is None:
        return failed("not measured", expected, str(m.error), *m.evidence())
    est = m.estimate
    observed = est.summary()
    if est.worst_ms >= limit:
        return failed(observed, expected, f"clock drift {observed} reaches the {limit} ms tolerance", *m.evidence())
    return passed(observed, expected, observed, *m.evidence())


def drift_within_tolerance(t: Target) -> CheckResult:
    """1.2.4: measure, then judge as 8.6.2 does."""
    return offset_within_tolerance(t, measure(t))


def band_unambiguous(m: Measurement) -> CheckResult:
    """8.7.1: the §8.7 band is decided by measurement, not guessed: offset ± bound lies inside one band.

    A slow exchange widens the bound; once it straddles a band edge (e.g. 0 ± 600 ms spans healthy and
    warning) a "healthy" verdict would be a guess, so the item warns and says how wide the bound is.
    """
    expected = "offset ± bound within one band"
    if m.estimate is None:
        return failed("not measured", expected, str(m.error), *m.evidence())
    est = m.estimate
    spanned = est.bands_spanned
    observed = f"{est.summary()}; |offset| between {est.least_ms:.1f} and {est.worst_ms:.1f} ms"
    if len(spanned) > 1:
        return failed(
            observed,
            expected,
            f"band undecided: {est.summary()} spans {'/'.join(spanned)} (round trip too slow to tell)",
            *m.evidence(),
        )
    return passed(observed, expected, f"band {spanned[0]}: {observed}", *m.evidence())


def outside_band(m: Measurement, name: str) -> CheckResult:
    """8.7.2 (WARNING, 500–800 ms) / 8.7.3 (CRITICAL, 800–1000 ms; the edges follow OPSCHECK_DRIFT_WARN_MS and
    OPSCHECK_DRIFT_MAX_MS): the estimate is not in that band; when it is, the item fails with the band's action
    (warning severity: visible, does not block)."""
    if m.estimate is None:
        return failed("not measured", f"not in the {name.lower()} band", str(m.error), *m.evidence())
    est = m.estimate
    expected = f"not in the {name.lower()} band ({band_range(est, name)})"
    if est.band == name:
        return failed(
            est.summary(),
            expected,
            f"clock drift in the {name.lower()} band ({band_range(est, name)}): {est.summary()}: {BAND_ACTION[name]}",
            *m.evidence(),
        )
    return passed(est.summary(), expected, est.summary(), *m.evidence())


def agreement_allowance_ms(t: Target) -> Decimal:
    """How far the bot's own drift reading may differ from ours beyond our error bound (its bound is unknown):
    ``OPSCHECK_DRIFT_AGREEMENT_MS``, validated by core/settings.py (default 250)."""
    return t.thresholds.drift_agreement_ms
