"""The bot's guardian API (runbook §4.2 Method 2): ``POST /api/guardian/kill-switch`` with ``X-Sovereign-Secret``.

The authorisation probe never changes anything: it sends an action no guardian accepts, without the secret and
with a wrong one. A guardian that authenticates first answers 401/403; one that answers anything else (400 for the
unknown action, 200 …) let an unauthenticated caller reach its handler.
"""

from __future__ import annotations

import json
import secrets

from ops_checks.config import Target
from ops_checks.http import HttpError, Recorder, json_body, request

PROBE_ACTION = "opscheck-authorisation-probe"  # deliberately not activate/deactivate: the probe cannot mutate
REFUSED = (401, 403)


def _url(t: Target) -> str:
    return t.bot_api_url + t.bot_guardian_path


def authorisation_problem(t: Target, rec: Recorder) -> str | None:
    """None when the guardian refuses callers without the secret and with a wrong one, else a one-line reason."""
    body = json.dumps({"action": PROBE_ACTION, "reason": "opscheck authorisation probe"}).encode()
    wrong = "opscheck-wrong-" + secrets.token_urlsafe(24)
    for label, headers in (
        ("without X-Sovereign-Secret", {"Content-Type": "application/json"}),
        ("with a wrong X-Sovereign-Secret", {"Content-Type": "application/json", "X-Sovereign-Secret": wrong}),
    ):
        try:
            resp = request("POST", _url(t), recorder=rec, content=body, headers=headers)
        except HttpError as exc:
            return f"guardian API unreachable, cannot prove it demands the secret: {exc}"
        if resp.status_code not in REFUSED:
            return f"guardian API answered HTTP {resp.status_code} to a request {label} (expected 401/403)"
    return None


def set_kill_switch(t: Target, rec: Recorder, *, activate: bool, reason: str) -> str | None:
    """Activate/deactivate through the guardian API with the operator's secret; None on success, else a reason."""
    secret = t.secret("SOVEREIGN_SECRET")
    if not secret:
        return "SOVEREIGN_SECRET is not set: cannot use the guardian API"
    body = json.dumps({"action": "activate" if activate else "deactivate", "reason": reason}).encode()
    try:
        resp = request(
            "POST",
            _url(t),
            recorder=rec,
            content=body,
            headers={"Content-Type": "application/json", "X-Sovereign-Secret": secret.reveal()},
        )
        answer = json_body(resp)
    except HttpError as exc:
        return f"guardian API: {exc}"
    if resp.status_code != 200:
        return f"guardian API refused to {'activate' if activate else 'deactivate'}: HTTP {resp.status_code}"
    if isinstance(answer, dict) and answer.get("kill_switch_active") not in (None, activate):
        return f"guardian API reports kill_switch_active={answer.get('kill_switch_active')}"
    return None
