"""Incident SOP §1 (authentication) and §3 (key compromise readiness).

Coinbase CDP is optional, by the operator's declaration: with ``OPSCHECK_SCOPE=exchanges=valr``
(``target/scope.py``) and neither ``COINBASE_CDP_API_KEY`` nor ``COINBASE_CDP_PRIVATE_KEY_PATH`` set, the CDP items
are *not applicable*; with neither set and nothing declared they are *not verified* (an undeclared absence is never a
pass), their cause naming the line to declare; a half configuration (one of the two) fails. The JWT's validity
window is judged at the exchange's clock (our clock plus the measured offset), which is what a server checking
``nbf``/``exp`` sees.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

from ops_checks.access import coinbase_jwt as cj
from ops_checks.access import scope
from ops_checks.access.config import Target
from ops_checks.access.valr.client import ValrError
from ops_checks.checks.bot_sources import valr_cause
from ops_checks.checks.s1_preconditions.exchange import client
from ops_checks.checks.s8_clock_drift.drift import Measurement, time_unavailable
from ops_checks.checks.s8_clock_drift.signed_request import keys_unset
from ops_checks.core import backoff
from ops_checks.core.http import Recorder
from ops_checks.core.result import Cause, CheckResult, Evidence, Status, failed, not_verified, passed

CDP_SETTINGS = "COINBASE_CDP_API_KEY and COINBASE_CDP_PRIVATE_KEY_PATH"
HALF_CONFIGURED = Cause(
    "setting",
    "Coinbase CDP key",
    f"only one of {CDP_SETTINGS} is set",
    f"set both {CDP_SETTINGS} in the env file (or neither, with OPSCHECK_SCOPE=exchanges=valr)",
)
JWT_DRIFT_LIMIT_MS = Decimal(5000)  # "well under" the 30 s at which JWTs fail


def cdp_config(t: Target) -> tuple[str, Path] | None | str:
    """(key name, key path); None when CDP is not configured; a reason string when half configured."""
    name, path = t.secret("COINBASE_CDP_API_KEY").reveal(), t.value("COINBASE_CDP_PRIVATE_KEY_PATH")
    if not name and not path:
        return None
    if not name or not path:
        return "COINBASE_CDP_API_KEY and COINBASE_CDP_PRIVATE_KEY_PATH must be set together"
    return name, Path(path)


def cdp_gate(t: Target) -> CheckResult | None:
    """None when the CDP items run (CDP configured, not declared out); else not applicable (declared out of scope)
    or not verified (not configured and not declared, or declared out yet configured)."""
    return scope.gate(t.env, scope.COINBASE, cdp_config(t) is not None, CDP_SETTINGS)


def _half(expected: str, reason: str) -> CheckResult:
    return failed("half configured", expected, reason, cause=HALF_CONFIGURED)


def backoff_policy(t: Target) -> backoff.Policy:
    """The SOP policy (1 s, 2^n, cap 60 s, 5 retries, alert after 3), time-scaled by OPSCHECK_BACKOFF_SCALE
    (validated by core/settings.py: 0 < scale <= 1; default 0.1, the SOP's schedule at 1/10 time: a refused key
    costs 3.1 s of a preflight, not 31 s)."""
    return backoff.Policy(scale=float(t.thresholds.backoff_scale))


def key_file_secure(t: Target) -> CheckResult:
    """sop.1.1: the CDP private key file is mode 400 or 600 and owned by the running user."""
    expected = "mode 400/600, owned by the running user"
    if (gated := cdp_gate(t)) is not None:
        return gated
    cfg = cdp_config(t)
    if isinstance(cfg, str):
        return _half(expected, cfg)
    assert cfg is not None
    try:
        state = cj.file_state(cfg[1])
    except cj.KeyError_ as exc:
        return failed("unreadable", expected, str(exc), cause=_key_file_cause(cfg[1], str(exc)))
    ev = Evidence("key file", state.describe())
    if state.problems:
        return failed(
            state.describe(),
            expected,
            f"CDP key file {'; '.join(state.problems)}",
            ev,
            cause=_key_file_cause(cfg[1], "; ".join(state.problems)),
        )
    return passed(f"mode {state.mode:o}", expected, f"CDP key file mode {state.mode:o}, owned by the running user", ev)


def _key_file_cause(path: Path, problem: str) -> Cause:
    return Cause(
        "key_file",
        f"CDP key file {path}",
        f"the CDP private key file {path}: {problem}",
        f"chmod 600 {path} && chown $(id -un) {path} (SOP §1 escalation: key permissions 400/600); "
        "COINBASE_CDP_PRIVATE_KEY_PATH must name the key's PEM file",
    )


def exchange_now(m: Measurement | None) -> tuple[float, str]:
    """Unix seconds at the exchange's clock (ours plus the measured offset) and how it was obtained."""
    if m is not None and m.estimate is not None:
        offset = float(m.estimate.offset_ms) / 1000
        return time.time() + offset, f"exchange clock (offset {offset:+.3f} s)"
    return time.time(), "local clock (exchange clock unreadable: see sop.1.3)"


def jwt_valid(t: Target, m: Measurement | None) -> CheckResult:
    """sop.1.2: a JWT minted the SDK's way verifies with the public key, has the SDK's shape and lies in its
    validity window at the exchange's clock; the bot's ``CURRENT_JWT`` (runbook step 1), when set, too."""
    expected = "verifies; iss cdp, sub/kid, uri, nonce, exp = nbf + 120 s; inside its window"
    if (gated := cdp_gate(t)) is not None:
        return gated
    cfg = cdp_config(t)
    if isinstance(cfg, str):
        return _half(expected, cfg)
    assert cfg is not None
    name, path = cfg
    try:
        key = cj.load_private_key(path)
        method, probe_path = cj.PROBE
        token = cj.build_jwt(name, key, method, probe_path, now=int(time.time()))
        fresh = cj.decode_verified(token, key.public_key())
    except cj.KeyError_ as exc:
        return failed("no JWT", expected, str(exc), cause=_key_file_cause(path, str(exc)))
    at, clock = exchange_now(m)
    alg = cj.algorithm(key)
    lines = [f"algorithm {alg}; judged at the {clock}", f"minted: claims {_shown(fresh)}"]
    problems = [f"minted JWT: {p}" for p in fresh.shape_problems(name, alg)]
    if (w := fresh.window_problem(at)) is not None:
        problems.append(f"minted JWT {w}")
    current = t.secret("CURRENT_JWT").reveal()
    if current:
        try:
            cur = cj.decode_verified(current, key.public_key())
        except cj.KeyError_ as exc:
            problems.append(f"CURRENT_JWT: {exc}")
        else:
            lines.append(f"CURRENT_JWT: claims {_shown(cur)}")
            if (w := cur.window_problem(at)) is not None:
                problems.append(f"CURRENT_JWT {w}")
    ev = Evidence("JWT", "\n".join(lines))
    if problems:
        return failed(
            "; ".join(problems),
            expected,
            "; ".join(problems),
            ev,
            cause=Cause(
                "jwt",
                "Coinbase CDP JWT",
                "; ".join(problems),
                "regenerate the JWT (SOP §1 step 2: python scripts/generate_jwt.py) and update CURRENT_JWT; if the "
                "minted one fails too, check the clock (sop.1.3) and the key (sop.1.1)",
            ),
        )
    observed = f"{alg} JWT verifies, valid for {fresh.claims['exp'] - at:.0f} s more" + (
        "; CURRENT_JWT valid" if current else ""
    )
    return passed(observed, expected, observed, ev)


def _shown(d: cj.Decoded) -> str:
    c = d.claims
    return f"iss={c.get('iss')} nbf={c.get('nbf')} exp={c.get('exp')} uri={c.get('uri')!r} (sub/kid: the key name)"


def drift_well_under_jwt_limit(t: Target, m: Measurement) -> CheckResult:
    """sop.1.3: |offset| + bound well under the 30 s at which JWTs fail (below 5 s)."""
    expected = f"< {JWT_DRIFT_LIMIT_MS / 1000:g} s (JWTs fail beyond 30 s)"
    if m.estimate is None:  # VALR's clock unreadable: 8.6.1's cause (that item's own, in a full run)
        unmeasured = time_unavailable(m)
        assert unmeasured is not None
        return unmeasured
    worst = m.estimate.worst_ms
    observed = m.estimate.summary()
    if worst >= JWT_DRIFT_LIMIT_MS:
        return failed(
            observed,
            expected,
            f"clock drift up to {worst / 1000:.1f} s: JWTs fail beyond 30 s",
            *m.evidence(),
            cause=Cause(
                "clock_drift",
                "exchange clock offset",
                f"the clock offset to the exchange ({observed}) fails JWTs (beyond 30 s)",
                "sync the host clock (runbook §8.4.1: sudo systemctl restart systemd-timesyncd; "
                "timedatectl status), then re-run",
            ),
        )
    return passed(observed, expected, f"drift {m.estimate.offset_ms:+.1f} ms", *m.evidence())


def valr_auth_no_streak(t: Target) -> CheckResult:
    """sop.1.4: a signed VALR request authenticates; refusals are retried with the SOP backoff, ops alerted
    after 3, and a 401/403 streak is reported with VALR's code and message."""
    expected = "signed request accepted (no 401/403 streak)"
    if (unset := keys_unset(t, expected)) is not None:
        return unset
    rec = Recorder(t.redactor)
    c = client(t, rec)
    policy = backoff_policy(t)
    alerts: list[str] = []

    def retryable(exc: BaseException) -> bool:  # an answer that may change; no answer at all is 1.2.1's question
        return (
            isinstance(exc, ValrError)
            and exc.http_status is not None
            and (exc.http_status in (401, 403, 429) or exc.http_status >= 500)
        )

    result = backoff.retry(
        c.api_key_info,
        policy=policy,
        retry_on=retryable,
        alert=lambda n, exc: alerts.append(f"ALERT ops: {n} consecutive failures, last: {exc}"),
    )
    codes = [f"HTTP {e.http_status} code {e.code}" for e in result.errors if isinstance(e, ValrError)]
    ev = [
        Evidence(
            "backoff",
            f"policy: {policy.describe()} (time scale {policy.scale:g})\n"
            f"attempts: {result.attempts}, delays slept: {[round(d, 4) for d in result.delays]}\n"
            + "\n".join(codes + alerts),
        ),
        Evidence("HTTP", rec.render()),
    ]
    if result.ok:
        note = f" after {len(result.errors)} refusal(s)" if result.errors else ""
        return passed(f"accepted at attempt {result.attempts}", expected, f"signed request accepted{note}", *ev)
    last = result.errors[-1]
    streak = sum(1 for e in result.errors if isinstance(e, ValrError) and e.http_status in (401, 403))
    alerted = "; ops alerted after 3" if alerts else ""
    cause = valr_cause(t, last, "GET /v1/account/api-keys/current") if isinstance(last, ValrError) else None
    if streak:
        return failed(
            f"{streak} x 401/403",
            expected,
            f"401/403 streak of {streak} signed requests{alerted}: {last}",
            *ev,
            cause=cause,
        )
    return failed(
        "no answer", expected, f"signed request failed {result.attempts} times{alerted}: {last}", *ev, cause=cause
    )


def standby_keys(t: Target) -> CheckResult:
    """sop.3.1: a standby key is ready to switch to — VALR's (both values, different from the primary) and,
    when CDP is configured, a standby CDP key name and a secure, loadable key file distinct from the primary."""
    expected = "VALR standby key and secret set (and a CDP standby key when CDP is used)"
    problems: list[str] = []
    key, secret = t.secret("VALR_STANDBY_API_KEY").reveal(), t.secret("VALR_STANDBY_API_SECRET").reveal()
    if not key or not secret:
        problems.append("VALR_STANDBY_API_KEY / VALR_STANDBY_API_SECRET not set")
    elif key == t.secret("VALR_API_KEY").reveal():
        problems.append("the VALR standby key is the primary key")
    cfg = cdp_config(t)
    gated = cdp_gate(t)
    lines = []
    if isinstance(cfg, str):
        problems.append(cfg)
    elif isinstance(cfg, tuple) and gated is None:
        name, path = t.secret("COINBASE_CDP_STANDBY_KEY").reveal(), t.value("COINBASE_CDP_STANDBY_KEY_PATH")
        if not name or not path:
            problems.append("COINBASE_CDP_STANDBY_KEY / COINBASE_CDP_STANDBY_KEY_PATH not set")
        elif name == cfg[0] or Path(path) == cfg[1]:
            problems.append("the CDP standby key is the primary key")
        else:
            try:
                state = cj.file_state(Path(path))
                cj.load_private_key(Path(path))
                lines.append(state.describe())
                problems += [f"CDP standby key file {p}" for p in state.problems]
            except cj.KeyError_ as exc:
                problems.append(f"CDP standby key: {exc}")
    ev = Evidence("standby keys", "\n".join(lines) or "VALR standby key checked (values never shown)")
    if problems:
        return failed(
            "; ".join(problems),
            expected,
            "; ".join(problems),
            ev,
            cause=Cause(
                "setting",
                "standby keys",
                "; ".join(problems),
                "create a standby key at the exchange now (SOP §3) and set VALR_STANDBY_API_KEY and "
                "VALR_STANDBY_API_SECRET (with CDP: COINBASE_CDP_STANDBY_KEY and COINBASE_CDP_STANDBY_KEY_PATH) in the "
                "env file",
            ),
        )
    if gated is not None and gated.status is Status.NOT_VERIFIED:  # the VALR key is ready; CDP's is undecided
        return not_verified(
            f"VALR standby key configured; the CDP standby key: {gated.reason}",
            ev,
            cause=gated.cause,
            expected=expected,
        )
    what = "VALR and CDP standby keys" if gated is None else "VALR standby key (Coinbase CDP out of scope)"
    return passed(f"{what} configured", expected, f"{what} configured", ev)
