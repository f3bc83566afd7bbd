"""Runbook §1.4.1–1.4.3: alerting and monitoring — Discord webhook, Prometheus metrics, Grafana dashboards."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from prometheus_client.parser import text_string_to_metric_families

from ops_checks.access.config import Target
from ops_checks.checks import causes
from ops_checks.core.http import HttpError, Recorder, json_body, request
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, passed


def discord_test_message(t: Target, run_id: str) -> CheckResult:
    """1.4.1: a test message posted to the alert webhook is accepted (2xx). Mutating: it posts a message."""
    url = t.secret("DISCORD_WEBHOOK_URL")
    if not url:
        cause = causes.unset("DISCORD_WEBHOOK_URL", "https://discord.com/api/webhooks/<id>/<token>")
        return failed("not set", "2xx", cause.detail, cause=cause)
    t.redactor.register(url)
    rec = Recorder(t.redactor)
    content = f"opscheck preflight test message (run {run_id}, {datetime.now(UTC).isoformat(timespec='seconds')})"
    parts = urlsplit(url.reveal())
    origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"  # never the path: it holds the webhook's token
    try:
        resp = request("POST", url.reveal(), recorder=rec, transport=t.hooks_transport, json={"content": content})
    except HttpError as exc:
        if rec.last_status is None:
            cause = causes.unreachable("Discord", origin, "DISCORD_WEBHOOK_URL", exc)
            return failed("not delivered", "2xx", cause.detail, Evidence("HTTP", rec.render()), cause=cause)
        return failed("not delivered", "2xx", str(exc), Evidence("HTTP", rec.render()))
    ev = Evidence("HTTP", rec.render())
    if not 200 <= resp.status_code < 300:
        cause = Cause(
            causes.SETTING,
            "DISCORD_WEBHOOK_URL",
            f"Discord refuses the webhook in DISCORD_WEBHOOK_URL (HTTP {resp.status_code}): it was deleted, or its "
            "URL is wrong",
            "create a webhook in the alert channel (Discord: channel settings, Integrations, Webhooks) and set "
            "DISCORD_WEBHOOK_URL=<its URL> in the env file",
        )
        return failed(f"HTTP {resp.status_code}", "2xx", cause.detail, ev, cause=cause)
    return passed(f"HTTP {resp.status_code}", "2xx", "test message accepted", ev)


def metrics_respond(t: Target) -> CheckResult:
    """1.4.2: the metrics endpoint answers Prometheus text that parses and declares the bot's metrics.

    Expected names: ``EXPECTED_METRICS`` if set, else the profile's (the real bot's
    ``app/observability/metrics.py``). A metric counts as exported when its family is declared (a labelled
    counter that never fired has HELP/TYPE lines but no samples yet)."""
    raw = t.value("EXPECTED_METRICS")
    expected = [m.strip() for m in raw.split(",") if m.strip()] if raw else list(t.profile.metric_names)
    rec = Recorder(t.redactor)
    try:
        resp = request("GET", t.metrics_url, recorder=rec)
    except HttpError as exc:
        if rec.last_status is None:
            cause = causes.unreachable("the bot's metrics", t.metrics_url, "METRICS_URL", exc)
            return failed("no answer", "Prometheus text", cause.detail, Evidence("HTTP", rec.render()), cause=cause)
        return failed("no answer", "Prometheus text", str(exc), Evidence("HTTP", rec.render()))
    ev = Evidence("HTTP", rec.render())
    if resp.status_code != 200:
        cause = Cause(
            "bot_metrics",
            t.metrics_url,
            f"the bot's metrics endpoint answers HTTP {resp.status_code}",
            f"check the bot's log for the metrics exporter's error; GET {t.metrics_url} must answer 200 with "
            "Prometheus text (METRICS_URL names it)",
        )
        return failed(f"HTTP {resp.status_code}", "HTTP 200", cause.detail, ev, cause=cause)
    try:
        families = list(text_string_to_metric_families(resp.text))
    except (ValueError, TypeError, IndexError) as exc:
        return failed("unparseable", "Prometheus text", f"metrics are not valid Prometheus text: {exc}", ev)
    declared = {f.name for f in families} | {f.name + "_total" for f in families if f.type == "counter"}
    declared |= {s.name for f in families for s in f.samples}
    if not families:
        return failed("no metrics", "metrics", "metrics endpoint returned no metric families", ev)
    missing = [m for m in expected if m not in declared]
    if missing:
        return failed(sorted(declared)[:20], expected, f"metrics missing: {', '.join(missing)}", ev)
    return passed(
        f"{len(families)} metric families", expected, f"{len(families)} families incl. {', '.join(expected)}", ev
    )


def grafana_dashboards(t: Target) -> CheckResult:
    """1.4.3: Grafana's health is OK and the expected dashboards exist."""
    rec = Recorder(t.redactor)
    token = t.secret("GRAFANA_TOKEN")
    headers = {"Authorization": f"Bearer {token.reveal()}"} if token else {}
    wanted = [d.strip() for d in t.value("GRAFANA_DASHBOARDS").split(",") if d.strip()]
    try:
        health = request("GET", f"{t.grafana_url}/api/health", recorder=rec, transport=t.hooks_transport)
        hbody = json_body(health)
        search = request(
            "GET",
            f"{t.grafana_url}/api/search",
            recorder=rec,
            transport=t.hooks_transport,
            params={"type": "dash-db"},
            headers=headers,
        )
        dashboards = json_body(search) if search.status_code == 200 else None
    except HttpError as exc:
        if rec.last_status is None:
            cause = causes.unreachable("Grafana", t.grafana_url, "GRAFANA_URL", exc)
            return failed("unreachable", "Grafana healthy", cause.detail, Evidence("HTTP", rec.render()), cause=cause)
        return failed("unreachable", "Grafana healthy", str(exc), Evidence("HTTP", rec.render()))
    ev = Evidence("HTTP", rec.render())
    db_state = hbody.get("database") if isinstance(hbody, dict) else None
    if health.status_code != 200 or db_state != "ok":
        cause = Cause(
            "grafana",
            t.grafana_url,
            f"Grafana is unhealthy: HTTP {health.status_code}, database={db_state}",
            f"check Grafana's log and its own database; GET {t.grafana_url}/api/health must say database ok",
        )
        return failed(f"HTTP {health.status_code} database={db_state}", "database=ok", cause.detail, ev, cause=cause)
    if not isinstance(dashboards, list):
        refused: Cause | None = (
            Cause(
                causes.SETTING,
                "GRAFANA_TOKEN",
                f"Grafana refuses the dashboard search (HTTP {search.status_code}): GRAFANA_TOKEN is missing or wrong",
                "create a Grafana service-account token with the Viewer role and set GRAFANA_TOKEN=<the token>",
            )
            if search.status_code in (401, 403)
            else None
        )
        return failed(
            f"HTTP {search.status_code}",
            "dashboard list",
            refused.detail if refused else f"dashboard search failed: HTTP {search.status_code}",
            ev,
            cause=refused,
        )
    names = {str(d.get(k)) for d in dashboards if isinstance(d, dict) for k in ("title", "uid")}
    missing = [w for w in wanted if w not in names]
    if not dashboards or missing:
        reason = f"Grafana lacks the dashboards {', '.join(missing)}" if missing else "Grafana has no dashboards"
        cause = Cause(
            "grafana_dashboards",
            t.grafana_url,
            reason,
            f"import the bot's dashboards into Grafana ({t.grafana_url}/dashboard/import) and name the ones the "
            "desk watches in GRAFANA_DASHBOARDS=<title or uid>,...",
        )
        return failed(sorted(names), wanted or "at least one", reason, ev, cause=cause)
    titles = [str(d.get("title")) for d in dashboards if isinstance(d, dict)]
    return passed(titles, wanted or "at least one", f"{len(titles)} dashboards", ev)
