"""The runbook's guardian API (§4.2 Method 2): ``POST /api/guardian/kill-switch`` with ``X-Sovereign-Secret``.

Path, header and secret come from the bot profile (``runbook_kill_switch_*``). The real bot has no such endpoint
(it has ``/guardian/status``, ``/guardian/unlock``, ``/guardian/reset``): a 404/405 is reported naming both sides.

The authorisation probe never changes anything. With mutations allowed it POSTs an action no guardian accepts,
without the secret and with a wrong one: a guardian that authenticates first answers 401/403; one that answers
anything else (400 for the unknown action, 200 …) let an unauthenticated caller reach its handler. On a read-only
target (``Target.allow_mutations`` False: a live run without ``--allow-mutations``) it sends GET only: 401/403
proves the guardian authenticates before anything else, 404 that the route does not exist, and 405 that a
POST-only route exists whose authorisation only a POST can prove (*not verified*, never a pass).
"""

from __future__ import annotations

import json
import secrets
from typing import NamedTuple

from ops_checks.access.config import Target
from ops_checks.core import netfail, readings
from ops_checks.core.http import HttpError, Recorder, json_body, request
from ops_checks.core.result import READ_ONLY, Cause, CheckResult, failed, not_verified

PROBE_ACTION = "opscheck-authorisation-probe"  # deliberately not activate/deactivate: the probe cannot mutate
REFUSED = (401, 403)
NEEDS_MUTATIONS = "run with --allow-mutations to send the POST probe"


def _url(t: Target) -> str:
    return t.bot_url(t.profile.runbook_kill_switch_path)


def missing_endpoint(t: Target, status: int, method: str = "POST") -> str:
    """One line for a 404/405 from the runbook's endpoint: what the runbook promises and what the bot has.

    ``method`` is the method that was sent: a GET answered 404 means no route at that path at all."""
    p = t.profile
    answer = f"→ HTTP {status}" if method == "POST" else f": no such route ({method} → HTTP {status})"
    return (
        f"runbook §4.2 Method 2 POST {p.runbook_kill_switch_path} {answer}; the bot has GET "
        f"{p.guardian_status_path}, POST {p.guardian_unlock_path}, POST {p.guardian_reset_path} (unlock only)"
    )


def _probes(t: Target) -> list[tuple[str, dict[str, str]]]:
    header = t.profile.runbook_kill_switch_header
    wrong = "opscheck-wrong-" + secrets.token_urlsafe(24)
    return [
        (f"without {header}", {"Content-Type": "application/json"}),
        (f"with a wrong {header}", {"Content-Type": "application/json", header: wrong}),
    ]


#: what an authorisation probe found (besides "refused", which is the pass)
MISSING, POST_ONLY, UNREACHABLE, ACCEPTED = "missing", "post_only", "unreachable", "accepted"


class Found(NamedTuple):
    """What a probe found: its kind, a one-line reason, and (no HTTP answer at all) the bot API's cause."""

    kind: str
    reason: str
    cause: Cause | None = None


EXPECTED = "the guardian refuses callers without the secret"


def authorisation(t: Target, rec: Recorder) -> CheckResult | None:
    """None when the guardian refuses callers without the secret and with a wrong one; else the structured result:
    not verified on a read-only target whose POST-only route a GET cannot prove (the read-only run is the cause),
    failed otherwise (a missing route names what the runbook promises and what the bot has)."""
    found = _probe(t, rec)
    if found is None:
        return None
    kind, problem, unreachable = found
    if kind == POST_ONLY:
        return not_verified(problem, cause=READ_ONLY, expected=EXPECTED)
    if kind == MISSING:
        route = f"POST {t.profile.runbook_kill_switch_path}"
        cause = Cause(
            "runbook_vs_bot",
            route,
            f"the runbook's §4.2 Method 2 endpoint {route} does not exist in the bot",
            f"the bot needs {route} (authenticated with {t.profile.runbook_kill_switch_header}), or the runbook must "
            "drop §4.2 Method 2 and keep Method 1 (the SQL one-liner)",
        )
        return failed("no such route", EXPECTED, problem, cause=cause)
    return failed(kind, EXPECTED, problem, cause=unreachable)  # no answer: 1.1.6's cause, the bot's API unreachable


def authorisation_problem(t: Target, rec: Recorder) -> str | None:
    """None when the guardian refuses callers without the secret and with a wrong one, else a one-line reason.

    Sends GET only when the target is read-only (``t.allow_mutations`` False)."""
    found = _probe(t, rec)
    return None if found is None else found.reason


def _unreachable(t: Target, rec: Recorder, exc: HttpError) -> Found:
    said = "guardian API unreachable, cannot prove it demands the secret"
    if rec.last_status is not None:
        return Found(UNREACHABLE, f"{said}: {exc}")
    cause = netfail.unreachable("the bot's API", _url(t), "BOT_API_URL", exc)
    return Found(UNREACHABLE, f"{said}: {cause.detail}", cause)


def _probe(t: Target, rec: Recorder) -> Found | None:
    """None when the guardian refused every probe; else what it found (``MISSING`` …) and a one-line reason."""
    if not t.allow_mutations:
        return _read_only_probe(t, rec)
    body = json.dumps({"action": PROBE_ACTION, "reason": "opscheck authorisation probe"}).encode()
    for label, headers in _probes(t):
        try:
            resp = request("POST", _url(t), recorder=rec, content=body, headers=headers)
        except HttpError as exc:
            return _unreachable(t, rec, exc)
        if resp.status_code in (404, 405):
            return Found(MISSING, missing_endpoint(t, resp.status_code))
        if resp.status_code not in REFUSED:
            return Found(
                ACCEPTED, f"guardian API answered HTTP {resp.status_code} to a request {label} (expected 401/403)"
            )
    return None


def _read_only_probe(t: Target, rec: Recorder) -> Found | None:
    """The GET-only proof (a read-only live run sends nothing else)."""
    path = t.profile.runbook_kill_switch_path
    for label, headers in _probes(t):
        headers.pop("Content-Type", None)
        try:
            resp = request("GET", _url(t), recorder=rec, headers=headers)
        except HttpError as exc:
            return _unreachable(t, rec, exc)
        if resp.status_code == 404:
            return Found(MISSING, missing_endpoint(t, 404, "GET"))
        if resp.status_code == 405:
            return Found(
                POST_ONLY,
                f"POST {path} exists (GET → 405) but only a POST can prove it refuses callers "
                f"without {t.profile.runbook_kill_switch_header} (read-only run: {NEEDS_MUTATIONS})",
            )
        if resp.status_code not in REFUSED:
            return Found(
                ACCEPTED,
                f"guardian API answered HTTP {resp.status_code} to a GET {label} (expected 401/403, or 405 for a "
                "POST-only route)",
            )
    return None


def set_kill_switch(t: Target, rec: Recorder, *, activate: bool, reason: str) -> str | None:
    """Activate/deactivate through the guardian API with the operator's secret; None on success, else a reason."""
    if not t.allow_mutations:
        return f"read-only target: the guardian API is not called ({NEEDS_MUTATIONS})"
    var = t.profile.runbook_kill_switch_secret_var
    secret = t.secret(var)
    if not secret:
        return f"{var} is not set: cannot use the guardian API"
    body = json.dumps({"action": "activate" if activate else "deactivate", "reason": reason}).encode()
    try:
        resp = request(
            "POST",
            _url(t),
            recorder=rec,
            content=body,
            headers={"Content-Type": "application/json", t.profile.runbook_kill_switch_header: secret.reveal()},
        )
        if resp.status_code in (404, 405):
            return missing_endpoint(t, resp.status_code)
        answer = json_body(resp)
    except HttpError as exc:
        return f"guardian API: {exc}"
    if resp.status_code != 200:
        return f"guardian API refused to {'activate' if activate else 'deactivate'}: HTTP {resp.status_code}"
    reported = answer.get("kill_switch_active") if isinstance(answer, dict) else None
    if reported is not None and reported is not activate:  # 1, "true", NaN are not a state (1 == True in Python)
        return f"guardian API reports kill_switch_active={readings.shown(reported)}"
    return None
