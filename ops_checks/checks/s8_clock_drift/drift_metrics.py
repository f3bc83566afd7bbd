"""Runbook §8.5: the clock-drift metrics (8.5.1 ``exchange_clock_drift_ms``, 8.5.2
``increase(exchange_clock_drift_exceeded_total[1h])``, 8.5.3 ``increase(exchange_time_sync_failures_total[1h])``).

The names are the runbook's and come from the bot profile (``runbook_drift_*``). The real bot (TRADE_BOT v1.9.0)
exports none of them: on it each item fails naming the runbook's metric and the metrics the bot does export, all
three under one cause (the bot must export them).

The bot's Prometheus text is parsed with prometheus_client's parser. A counter's increase over the window
(default 3600 s, ``OPSCHECK_METRICS_WINDOW_S``) is known exactly from one scrape when the counter is 0, or when
it was created (its ``_created`` sample: the process start) inside the window. Otherwise only a time series
can tell: with ``PROMETHEUS_URL`` set the PromQL ``increase()`` of the runbook is asked of Prometheus; without
it the item is *not verified*, its cause naming the setting — a guess would be a GO nobody measured.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ops_checks.access import prometheus
from ops_checks.access.config import Target
from ops_checks.access.prometheus import MetricsError
from ops_checks.checks.bot_sources import impossible_metric, metrics_unreadable
from ops_checks.core import readings
from ops_checks.core.http import HttpError, Recorder, json_body, request
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, not_verified, passed


@dataclass(frozen=True)
class Scrape:
    samples: dict[str, list[float]]  # sample name → values (over all label sets)
    http: str
    labelled: prometheus.Metrics | None = None

    def absent(self, name: str, need: str) -> str:
        return self.labelled.absent(name, need) if self.labelled else f"{need}: the bot exports no {name}"

    def lines(self, *names: str) -> str:
        return "\n".join(f"{n} {v:g}" for n in names for v in self.samples.get(n, [])) or "(absent)"


def scrape(t: Target) -> Scrape:
    """One scrape (ops_checks.access.prometheus), label sets folded: §8.5 reads each series by name only."""
    labelled = prometheus.scrape(t)
    return Scrape({n: [v for _, v in vals] for n, vals in labelled.samples.items()}, labelled.http, labelled)


def metrics_missing(t: Target, name: str, problem: str) -> Cause:
    """The runbook's §8.5 metric ``name`` is not exported: one cause for the three (the bot must export them)."""
    p = t.profile
    return Cause(
        "bot_defect",
        "runbook §8.5 drift metrics",
        f"the bot does not export the runbook's §8.5 drift metric {name} ({problem})",
        f"the bot must export {p.runbook_drift_gauge} (gauge, ms), {p.runbook_drift_exceeded_counter} and "
        f"{p.runbook_sync_failures_counter} (counters) on {p.metrics_path}, fed by its ExchangeTimeSynchronizer "
        "(TRADE_BOT: app/observability/metrics.py, app/logic/trade_permission_policy.py)",
    )


def _impossible(name: str, problem: str) -> Cause:
    return impossible_metric(name, problem, "a drift in ms; a counter is a finite count >= 0")


def window_s(t: Target) -> int:
    """The counters' window (``OPSCHECK_METRICS_WINDOW_S``, validated by core/settings.py; default 3600 s)."""
    return t.thresholds.metrics_window_s


def drift_gauge_ok(t: Target) -> CheckResult:
    """8.5.1: ``exchange_clock_drift_ms`` is exported and |value| is below the tolerance."""
    limit = t.thresholds.drift_max_ms
    gauge = t.profile.runbook_drift_gauge  # the runbook's name, from the profile
    expected = f"{gauge} present, |value| < {limit}"
    try:
        sc = scrape(t)
    except MetricsError as exc:
        return metrics_unreadable(t, str(exc))
    ev = (Evidence("metric samples", sc.lines(gauge)), Evidence("HTTP", sc.http))
    values = sc.samples.get(gauge)
    if not values:
        why = sc.absent(gauge, "runbook §8.5.1")
        return failed(
            "absent",
            expected,
            f"{why} at {t.metrics_url}",
            *ev,
            cause=metrics_missing(t, gauge, f"absent at {t.metrics_url}"),
        )
    try:
        values = [readings.number(v, gauge, signed=True) for v in values]
    except readings.BadReading as exc:
        return failed("impossible value", expected, str(exc), *ev, cause=_impossible(gauge, str(exc)))
    worst = max(values, key=abs)
    observed = f"{gauge} {worst:g}"
    if Decimal(str(abs(worst))) >= limit:
        return failed(
            observed,
            expected,
            f"{observed} ms: beyond the {limit} ms tolerance",
            *ev,
            cause=Cause(
                "clock_drift",
                "the bot's drift gauge",
                f"the bot's own drift reading {observed} ms is beyond the {limit} ms tolerance",
                "sync the bot host's clock (runbook §8.4.1) and restart the bot's container if its clock differs "
                "(§8.4.2), then re-run",
            ),
        )
    return passed(observed, expected, observed, *ev)


def _prometheus_increase(t: Target, name: str, window: int, rec: Recorder) -> float:
    base = t.value("PROMETHEUS_URL").rstrip("/")
    resp = request("GET", f"{base}/api/v1/query", recorder=rec, params={"query": f"increase({name}[{window}s])"})
    data: Any = json_body(resp)
    if resp.status_code != 200 or not isinstance(data, dict) or data.get("status") != "success":
        raise HttpError(f"Prometheus query failed: HTTP {resp.status_code}")
    inner = data.get("data")
    result = inner.get("result") if isinstance(inner, dict) else None
    if not isinstance(result, list) or not result:
        raise HttpError(f"Prometheus has no series {name}")
    try:
        return sum(readings.number(r["value"][1], f"increase({name})", text=True) for r in result)
    except readings.BadReading as exc:
        raise HttpError(f"Prometheus answered {exc}") from None
    except (KeyError, IndexError, TypeError) as exc:
        raise HttpError(f"Prometheus answered an unexpected shape for {name}") from exc


def counter_not_increased(t: Target, name: str, need: str = "the runbook") -> CheckResult:
    """8.5.2 / 8.5.3: the counter ``name`` did not increase over the window."""
    window = window_s(t)
    expected = f"increase({name}[{window}s]) = 0"
    try:
        sc = scrape(t)
    except MetricsError as exc:
        return metrics_unreadable(t, str(exc))
    created_name = name.removesuffix("_total") + "_created"
    ev = [Evidence("metric samples", sc.lines(name, created_name)), Evidence("HTTP", sc.http)]
    values = sc.samples.get(name)
    if not values:
        return failed(
            "absent",
            expected,
            f"{sc.absent(name, need)} at {t.metrics_url}",
            *ev,
            cause=metrics_missing(t, name, f"absent at {t.metrics_url}"),
        )
    try:  # a counter is a finite count >= 0, its _created a Unix time: NaN or -5 never adds up to "0"
        total = sum(readings.number(v, name) for v in values)
        created = min((readings.number(v, created_name) for v in sc.samples.get(created_name, [])), default=None)
    except readings.BadReading as exc:
        return failed("impossible value", expected, str(exc), *ev, cause=_impossible(name, str(exc)))
    since = f"since {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(created))}" if created else "since start"
    if total == 0:
        return passed(f"{name} 0 {since}", expected, f"{name} is 0 {since}", *ev)
    if created is not None and created >= time.time() - window:
        return failed(
            f"{name} {total:g} {since}",
            expected,
            f"{name} increased by {total:g} in the last {window} s (counter started {since.removeprefix('since ')})",
            *ev,
            cause=_increased(name, window),
        )
    if not t.value("PROMETHEUS_URL"):
        detail = (
            f"{name} is {total:g} {since}, before the {window} s window: one scrape cannot tell whether it "
            "rose within the window"
        )
        return not_verified(
            detail,
            *ev,
            cause=Cause(
                "setting",
                "PROMETHEUS_URL",
                detail,
                "PROMETHEUS_URL=<the base URL of the Prometheus that scrapes the bot> in the env file: "
                "increase() over the window is asked of it",
            ),
            expected=expected,
        )
    rec = Recorder(t.redactor)
    try:
        increase = _prometheus_increase(t, name, window, rec)
    except HttpError as exc:
        base = t.value("PROMETHEUS_URL")
        return not_verified(
            f"Prometheus cannot tell the increase of {name}: {exc}",
            *ev,
            Evidence("Prometheus", rec.render()),
            cause=Cause(
                "unreachable",
                f"Prometheus {base}",
                f"Prometheus at {base} cannot answer: {exc}",
                f"check PROMETHEUS_URL in the env file and that Prometheus scrapes the bot: curl -s {base}"
                "/api/v1/targets",
            ),
            expected=expected,
        )
    ev.append(Evidence("Prometheus", rec.render()))
    observed = f"increase({name}[{window}s]) = {increase:g}"
    if increase > 0:
        return failed(observed, expected, observed, *ev, cause=_increased(name, window))
    return passed(observed, expected, observed, *ev)


def _increased(name: str, window: int) -> Cause:
    return Cause(
        "drift_events",
        name,
        f"{name} rose in the last {window} s: the bot saw clock-drift trouble within the window",
        "find the episode in the bot's log (runbook §8.2.2, §8.8), sync the clock (§8.4), and re-run once the "
        "window has passed without a new event",
    )


def drift_exceeded_not_increased(t: Target) -> CheckResult:
    """8.5.2: no drift-exceeded events over the window."""
    return counter_not_increased(t, t.profile.runbook_drift_exceeded_counter, "runbook §8.5.2")


def sync_failures_not_increased(t: Target) -> CheckResult:
    """8.5.3: no time-sync failures over the window."""
    return counter_not_increased(t, t.profile.runbook_sync_failures_counter, "runbook §8.5.3")
