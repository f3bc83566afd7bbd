"""The bot's Prometheus metrics, labels kept: one scrape parsed with prometheus_client's parser (no regexes).

A metric the runbook or the SOP needs and the bot does not export fails naming both sides: the name the check
looked for (from the bot profile) and the metrics the bot does export (``BotProfile.metric_names``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from ops_checks.core.http import HttpError, Recorder, request
from ops_checks.core.result import Evidence
from ops_checks.target.config import Target


class MetricsError(Exception):
    """The metrics could not be read; one-line reason."""


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
        for got, v in self.samples.get(name, []):
            if all(got.get(k) == want for k, want in labels.items()) and not math.isnan(v):
                return v
        return None

    def require(self, name: str, need: str = "", **labels: str) -> float:
        v = self.value(name, **labels)
        if v is None:
            shown = ",".join(f'{k}="{x}"' for k, x in labels.items())
            raise MetricsError(self.absent(f"{name}{'{' + shown + '}' if shown else ''}", need))
        return v

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
