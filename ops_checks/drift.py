"""Runbook §1.2.4 / §8: clock drift against VALR within tolerance."""

from __future__ import annotations

from ops_checks.clock import estimate_offset
from ops_checks.config import Target
from ops_checks.exchange import client
from ops_checks.http import Recorder
from ops_checks.result import CheckResult, Evidence, failed, passed
from ops_checks.valr.client import ValrError


def drift_within_tolerance(t: Target) -> CheckResult:
    """1.2.4: |offset| + error bound below the maximum drift (1000 ms), so the verdict holds whatever the split."""
    rec = Recorder(t.redactor)
    try:
        est = estimate_offset(client(t, rec), t.thresholds.drift_samples)
    except ValrError as exc:
        return failed("not measured", "< 1000 ms", str(exc), Evidence("HTTP", rec.render()))
    limit = t.thresholds.drift_max_ms
    worst = abs(est.offset_ms) + est.bound_ms
    observed = f"offset {est.offset_ms:+.1f} ms ± {est.bound_ms:.1f} ms (rtt {est.rtt_ms:.1f} ms), band {est.band}"
    ev = Evidence("drift samples", est.render())
    if worst >= limit:
        return failed(observed, f"< {limit} ms", f"clock drift {observed} reaches the {limit} ms tolerance", ev)
    return passed(observed, f"< {limit} ms", observed, ev)
