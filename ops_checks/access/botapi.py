"""Reading the bot's state over its API, through the bot profile (``Target.profile``).

``execution_mode(t)`` is the one place that knows where a bot reports its execution mode: the runbook expects the
bot to show it (§1.6.1, §3.2 Step 8); the real bot's ``GET /health`` answers only ``{"status", "database"}`` and
its ``GET /`` ``components`` carry no mode either. When no endpoint reports it, the answer is a failed
``CheckResult`` naming both sides, never a guess from the operator's own env file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ops_checks.access.config import Target
from ops_checks.core.http import HttpError, Recorder, request
from ops_checks.core.result import Cause, CheckResult, Evidence, failed

EXECUTION_MODES = ("DRY_RUN", "LIVE")


@dataclass
class BotAnswer:
    """One GET to the bot: status code and JSON object (``{}`` when not an object), or a one-line error."""

    path: str
    status_code: int | None = None
    body: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    evidence: Evidence | None = None

    def __repr__(self) -> str:
        return f"BotAnswer({self.path!r}, HTTP {self.status_code}, error={self.error!r})"


def get_json(t: Target, path: str, *, timeout: float = 5.0, headers: dict[str, str] | None = None) -> BotAnswer:
    """GET one of the profile's paths; never raises."""
    rec = Recorder(t.redactor)
    answer = BotAnswer(path)
    try:
        resp = request("GET", t.bot_url(path), recorder=rec, timeout=timeout, headers=headers or {})
    except HttpError as exc:
        answer.error = str(exc)
        answer.evidence = Evidence("HTTP", rec.render())
        return answer
    answer.status_code = resp.status_code
    answer.evidence = Evidence("HTTP", rec.render())
    try:
        body = resp.json()
    except ValueError:
        answer.error = f"GET {path}: HTTP {resp.status_code} with a body that is not JSON"
        return answer
    answer.body = body if isinstance(body, dict) else {}
    return answer


def health(t: Target) -> BotAnswer:
    return get_json(t, t.profile.health_path)


def root_components(t: Target) -> BotAnswer:
    """``GET /``; ``body`` is its ``components`` object (``{}`` when absent)."""
    answer = get_json(t, t.profile.root_path)
    comps = answer.body.get(t.profile.root_components_key)
    answer.body = comps if isinstance(comps, dict) else {}
    return answer


def guardian_locked(t: Target) -> tuple[bool | None, BotAnswer]:
    """The real bot's ``GET /guardian/status`` ``system_locked`` (None when unreadable)."""
    answer = get_json(t, t.profile.guardian_status_path)
    value = answer.body.get(t.profile.guardian_locked_key) if answer.status_code == 200 else None
    return (value if isinstance(value, bool) else None), answer


def execution_mode(t: Target) -> CheckResult | str:
    """The execution mode the running bot reports (``"DRY_RUN"``/``"LIVE"``), or a failed CheckResult.

    Looks in ``GET /health`` (key ``execution_mode``, the runbook's promise) and then in the ``components`` of
    ``GET /``. A value outside DRY_RUN/LIVE fails closed. Usable by any section (§1.6.1, §3).
    """
    key = t.profile.runbook_health_execution_mode_key
    expected = "the bot reports its execution mode"
    evidence: list[Evidence] = []
    tried: list[str] = []
    for answer in (health(t), root_components(t)):
        if answer.evidence is not None:
            evidence.append(answer.evidence)
        if answer.error is not None:
            tried.append(f"GET {answer.path}: {answer.error}")
            continue
        value = answer.body.get(key)
        if value is None:
            shown = ", ".join(sorted(answer.body)[:12]) or "nothing"
            tried.append(f"GET {answer.path} (HTTP {answer.status_code}) has no {key} (it has {shown})")
            continue
        if not isinstance(value, str) or value not in EXECUTION_MODES:  # fail closed: "live", " LIVE", NaN …
            return failed(
                str(value)[:40],
                "exactly DRY_RUN or LIVE",
                f"GET {answer.path} reports {key}={str(value)[:40]!r}: not exactly DRY_RUN or LIVE",
                *evidence,
            )
        return value
    return failed(
        "not reported",
        expected,
        "runbook §1.6/§3.2 Step 8 expects the bot to report EXECUTION_MODE; the bot does not: " + "; ".join(tried),
        *evidence,
        cause=Cause(
            "runbook_vs_bot",
            "EXECUTION_MODE reported by the bot",
            f"the bot does not report its EXECUTION_MODE ({key}) on GET {t.profile.health_path} or GET /",
            f"the bot must report {key} (DRY_RUN or LIVE) in GET {t.profile.health_path}; or set BOT_HEALTH_MODE_KEY "
            "(the bot profile) to the key it does report",
        ),
    )
