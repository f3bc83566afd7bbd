"""Live fail-fast: every distinct host a live run needs is contacted once, up front and in parallel.

A live run against a target whose hosts do not answer would otherwise meet each dead host one item at a time:
the database's connect timeout, then the bot's read timeout, then VALR's, one after another. Probing them together
costs the longest single timeout instead of their sum. The probes are requests the checks make anyway (a
``SELECT 1``, ``GET`` of the bot's health path, VALR's public time, the metrics page, Grafana's health), all
read-only. A host that timed out is remembered by ``db``/``http`` for the rest of the run, so every item that
needs it is judged at once from that probe with its reason; a host that refused answers at once anyway.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ops_checks.access.config import Target
from ops_checks.checks import givens
from ops_checks.core.http import HttpError, Recorder, origin, request


@dataclass(frozen=True)
class Probe:
    name: str
    problem: str | None  # None: the host answered (any HTTP status counts: the checks judge the answer)


def _http_urls(t: Target) -> dict[str, str]:
    urls = {
        "bot API": t.bot_api_url + t.profile.health_path,
        "VALR": t.valr_base_url + "/v1/public/time",
        "metrics": t.metrics_url,
        "Grafana": t.grafana_url + "/api/health",
    }
    first: dict[str, tuple[str, str]] = {}
    for name, url in urls.items():  # one probe per host and port (http's key): the rest share its fate
        first.setdefault(origin(url), (name, url))
    return dict(first.values())


def _http(t: Target, name: str, url: str) -> Probe:
    try:
        request("GET", url, recorder=Recorder(t.redactor))
    except HttpError as exc:
        return Probe(name, t.redactor.text(str(exc)))
    return Probe(name, None)


def probe(t: Target) -> list[Probe]:
    """Probe the database and each distinct HTTP host of a live target in parallel; returns what each found."""
    http_urls = _http_urls(t)
    with ThreadPoolExecutor(max_workers=1 + len(http_urls), thread_name_prefix="opscheck-probe") as pool:
        db = pool.submit(givens.database_error, t)
        https = [pool.submit(_http, t, name, url) for name, url in http_urls.items()]
        return [Probe("database", db.result()), *(f.result() for f in https)]
