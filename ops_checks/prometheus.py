"""The bot's Prometheus metrics, labels kept: one scrape parsed with prometheus_client's parser (no regexes)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from ops_checks.config import Target
from ops_checks.http import HttpError, Recorder, request
from ops_checks.result import Evidence


class MetricsError(Exception):
    """The metrics could not be read; one-line reason."""


@dataclass(frozen=True)
class Metrics:
    samples: dict[str, list[tuple[dict[str, str], float]]]
    http: str

    def value(self, name: str, **labels: str) -> float | None:
        for got, v in self.samples.get(name, []):
            if all(got.get(k) == want for k, want in labels.items()) and not math.isnan(v):
                return v
        return None

    def require(self, name: str, **labels: str) -> float:
        v = self.value(name, **labels)
        if v is None:
            shown = ",".join(f'{k}="{x}"' for k, x in labels.items())
            raise MetricsError(f"the bot exports no {name}{'{' + shown + '}' if shown else ''}")
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
    return Metrics(samples, rec.render())
