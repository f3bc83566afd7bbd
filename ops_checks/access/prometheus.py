"""The bot's Prometheus metrics, labels kept: one scrape parsed with prometheus_client's parser (no regexes).

A metric the runbook or the SOP needs and the bot does not export fails naming both sides: the name the check
looked for (from the bot profile) and the metrics the bot does export (``BotProfile.metric_names``). A metric
that is exported with a value no bot produces (NaN, ±Inf, a negative age, 2 for a 0/1 flag) is ``BadMetric``:
checks read values through ``Metrics.number``/``Metrics.flag`` (``ops_checks.core.readings``), never raw.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from ops_checks.access.config import Target
from ops_checks.core import readings
from ops_checks.core.http import HttpError, Recorder, request
from ops_checks.core.result import Evidence


class MetricsError(Exception):
    """The metrics could not be read; one-line reason."""


class BadMetric(MetricsError):
    """The metric is exported, but its value is impossible (NaN, ±Inf, negative, not 0/1 …); one-line reason
    naming the metric and the value."""


@dataclass(frozen=True)
class Metrics:
    samples: dict[str, list[tuple[dict[str, str], float]]]
    http: str
    bot_metrics: tuple[str, ...] = ()  # what this bot is known to export (the profile)

    def absent(self, name: str, need: str = "") -> str:
        """One line: ``need`` (what the runbook/SOP asks for) is metric ``name``, which the bot does not export."""
        own = ", ".join(self.bot_metrics) or "nothing else known"
        head = f"{need}: " if need else ""
        return f"{head}the bot exports no {name} (it exports {own})"

    def value(self, name: str, **labels: str) -> float | None:
        """The first sample of ``name`` with ``labels``, as exported (NaN and ±Inf included), or None when absent.
        Checks compare ``number``/``flag``, never this."""
        for got, v in self.samples.get(name, []):
            if all(got.get(k) == want for k, want in labels.items()):
                return v
        return None

    def _present(self, name: str, need: str, labels: dict[str, str]) -> tuple[str, float]:
        shown = ",".join(f'{k}="{x}"' for k, x in labels.items())
        full = f"{name}{'{' + shown + '}' if shown else ''}"
        v = self.value(name, **labels)
        if v is None:
            raise MetricsError(self.absent(full, need))
        return full, v

    def number(
        self,
        name: str,
        need: str = "",
        *,
        signed: bool = False,
        whole: bool = False,
        maximum: float = readings.CEILING,
        **labels: str,
    ) -> float:
        """The value of ``name``: finite, non-negative unless ``signed``, within ``maximum``; MetricsError when
        absent, BadMetric (naming the value) when impossible."""
        full, v = self._present(name, need, labels)
        try:
            return readings.number(v, full, signed=signed, whole=whole, maximum=maximum)
        except readings.BadReading as exc:
            raise BadMetric(str(exc)) from None

    def flag(self, name: str, need: str = "", **labels: str) -> bool:
        """A 0/1 gauge as a bool; MetricsError when absent, BadMetric for any other value."""
        full, v = self._present(name, need, labels)
        try:
            return readings.gauge_flag(v, full)
        except readings.BadReading as exc:
            raise BadMetric(str(exc)) from None

    def require(self, name: str, need: str = "", **labels: str) -> float:
        """A finite value of either sign (``number(..., signed=True)``)."""
        return self.number(name, need, signed=True, whole=False, maximum=readings.CEILING, **labels)

    def evidence(self, *names: str) -> Evidence:
        lines = [
            f"{n}{'{' + ','.join(f'{k}={v}' for k, v in lab.items()) + '}' if lab else ''} {val:g}"
            for n in names
            for lab, val in self.samples.get(n, [])
        ]
        return Evidence("bot metrics", "\n".join(lines) or "(absent)")


def scrape(t: Target) -> Metrics:
    rec = Recorder(t.redactor)
    try:
        resp = request("GET", t.metrics_url, recorder=rec)
    except HttpError as exc:
        raise MetricsError(str(exc)) from exc
    if resp.status_code != 200:
        raise MetricsError(f"metrics endpoint answered HTTP {resp.status_code}")
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    try:
        for family in text_string_to_metric_families(resp.text):
            for s in family.samples:
                samples.setdefault(s.name, []).append((dict(s.labels), float(s.value)))
    except (ValueError, TypeError, IndexError) as exc:
        raise MetricsError(f"metrics are not valid Prometheus text: {str(exc)[:120]}") from exc
    return Metrics(samples, rec.render(), tuple(t.profile.metric_names))
