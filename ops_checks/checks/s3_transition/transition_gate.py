"""Runbook §3.1 Pre-Transition Requirements, evaluated over a preflight's ``verdict.json``.

The transition to LIVE starts only when a GO preflight of the same target, finished less than N minutes ago
(default 30), shows every requirement met, and operator and witness are two different people:

- 3.1.1 24-hour DRY_RUN period completed: item 1.6.4 met.
- 3.1.2 All §1 preconditions verified: every blocker item of §1 present and met.
- 3.1.3 All §2 environment variables verified: every blocker item of §2.1–§2.3 present and met.
- 3.1.4 Kill switch tested per §4: items 4.4.1–4.4.6 met (or 1.3.1, the §1 kill-switch drill).
- 3.1.5 Clock drift verified per §8: items 8.6.1–8.6.5 met (or 1.2.4, the §1 drift measurement).
- 3.1.6 Two authorised operators (four eyes): the preflight was signed by two different people, and the
  transition's operator and witness are two different people.

An item is met when it passed, or is waived under an approved waiver of that run (a waiver holds for what rests on
it; the kill-switch items can never be waived), or is out of the declared scope. An unmet requirement names the
items it rests on (``blocked_by``). Each requirement also fails when the verdict is of another target or stale; the
transition also needs it GO.

``execution_mode(t)`` says which mode the bot runs in. The real bot (TRADE_BOT v1.9.0) reports it nowhere over
HTTP (``/health`` is ``{"status", "database"}``, ``/`` ``components`` has no mode): it reads ``EXECUTION_MODE``
from its env (``docker-compose.prod.yml``), so the operator's env file is the source; a mode the bot does report
(the runbook's ``execution_mode``, profile ``runbook_health_execution_mode_key``) must agree with it. A value
that is not exactly ``LIVE`` or ``DRY_RUN`` (``live``, ``NaN``, empty) is unknown, and unknown is never safe.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ops_checks.access.config import Target
from ops_checks.catalogue import BLOCKER, ITEMS, items_in
from ops_checks.core.http import HttpError, Recorder, json_body, request
from ops_checks.core.result import MET, Cause, CheckResult, Evidence, failed, passed

DEFAULT_MAX_AGE_MIN = 30
KILL_SWITCH_ITEMS = tuple(i.id for i in items_in("4.4"))  # §4.4 Kill Switch Verification Checklist
DRIFT_ITEMS = tuple(i.id for i in items_in("8.6"))  # §8.6 Verification Procedures
REQUIREMENTS = ("3.1.1", "3.1.2", "3.1.3", "3.1.4", "3.1.5", "3.1.6")


def _blockers(*sections: str) -> tuple[str, ...]:
    return tuple(i.id for i in ITEMS if i.severity == BLOCKER and i.section.split(" ")[0] in sections)


# Each requirement owns its items: 1.6.4 is 3.1.1's, 1.3.1 is 3.1.4's, 1.2.4 is 3.1.5's (a failure shows once).
S1_BLOCKERS = tuple(
    i for i in _blockers("1.1", "1.2", "1.3", "1.4", "1.5", "1.6") if i not in ("1.6.4", "1.3.1", "1.2.4")
)
S2_BLOCKERS = _blockers("2.1", "2.2", "2.3")


MODES = ("LIVE", "DRY_RUN")


@dataclass(frozen=True)
class Mode:
    """The bot's execution mode: ``value`` is LIVE or DRY_RUN, or None when unknown (``reason`` says why)."""

    value: str | None
    reason: str
    evidence: tuple[Evidence, ...] = ()


def _reported(t: Target, path: str, rec: Recorder) -> tuple[object | None, str]:
    """The runbook's ``execution_mode`` key in the bot's answer at ``path`` (top level or ``components``)."""
    key = t.profile.runbook_health_execution_mode_key
    try:
        answer = json_body(request("GET", t.bot_url(path), recorder=rec, timeout=5))
    except HttpError as exc:
        return None, f"GET {path}: {exc}"
    if not isinstance(answer, dict):
        return None, f"GET {path}: not a JSON object"
    comps = answer.get(t.profile.root_components_key)
    if key in answer:
        return answer[key], f"GET {path} {key}"
    if isinstance(comps, dict) and key in comps:
        return comps[key], f"GET {path} {t.profile.root_components_key}.{key}"
    return None, f"GET {path}: no {key}"


def execution_mode(t: Target, env: Mapping[str, str] | None = None) -> Mode:
    """The mode the bot runs in: ``EXECUTION_MODE`` of ``env`` (default the target's env), cross-checked with any
    mode the bot reports on ``/health`` or ``/``. Fails closed: anything but exactly LIVE/DRY_RUN is unknown."""
    raw = (env if env is not None else t.env).get("EXECUTION_MODE")
    rec = Recorder(t.redactor)
    seen: list[str] = []
    reported: object | None = None
    for path in (t.profile.health_path, t.profile.root_path):
        reported, where = _reported(t, path, rec)
        seen.append(where)
        if reported is not None:
            break
    ev = (Evidence("HTTP (execution mode)", rec.render()),)
    if raw is None or raw not in MODES:
        shown = "not set" if raw is None else repr(raw)[:40]
        return Mode(None, f"EXECUTION_MODE is {shown}, not exactly LIVE or DRY_RUN: the bot's mode is unknown", ev)
    if reported is None:
        return Mode(raw, f"EXECUTION_MODE={raw} (env file); the bot reports no mode ({'; '.join(seen)})", ev)
    if not isinstance(reported, str) or reported not in MODES:
        return Mode(None, f"{seen[-1]} is {str(reported)[:40]!r}, not exactly LIVE or DRY_RUN", ev)
    if reported != raw:
        return Mode(None, f"EXECUTION_MODE={raw} in the env file but the bot reports {reported} ({seen[-1]})", ev)
    return Mode(raw, f"EXECUTION_MODE={raw}, and the bot reports the same ({seen[-1]})", ev)


def same_person(a: str | None, b: str | None) -> bool:
    return (a or "").strip().casefold() == (b or "").strip().casefold()


@dataclass
class Preflight:
    path: Path
    data: dict[str, Any]

    @property
    def status(self) -> dict[str, str]:
        return {i["id"]: i["status"] for i in self.data.get("items", []) if isinstance(i, dict) and "id" in i}


class GateError(Exception):
    """No usable preflight verdict; ``str()`` is one line."""


def load(path: Path) -> Preflight:
    verdict_path = path / "verdict.json" if path.is_dir() else path
    try:
        data = json.loads(verdict_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GateError(f"{verdict_path}: unreadable verdict ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise GateError(f"{verdict_path}: not a verdict object")
    return Preflight(verdict_path, data)


def latest(reports: Path, target: str) -> Preflight:
    """The most recently finished preflight of ``target`` under ``reports`` (``<run>/verdict.json``)."""
    found: list[tuple[str, Preflight]] = []
    for path in reports.glob("*/verdict.json") if reports.is_dir() else []:
        try:
            pf = load(path)
        except GateError:
            continue
        if pf.data.get("target") == target:
            found.append((str(pf.data.get("finished_at", "")), pf))
    if not found:
        raise GateError(f"no preflight of target {target!r} under {reports}")
    return max(found, key=lambda f: f[0])[1]


def _common(pf: Preflight, target: str, now: datetime, max_age_min: float) -> str | None:
    data = pf.data
    if data.get("target") != target:
        return f"the preflight is of target {data.get('target')!r}, not {target!r}"
    try:
        finished = datetime.fromisoformat(str(data.get("finished_at")))
    except ValueError:
        return "the preflight has no valid finished_at"
    if finished.tzinfo is None:
        return "the preflight's finished_at has no time zone"
    age = now - finished.astimezone(UTC)
    if age < timedelta(0):
        return "the preflight finished in the future (clock problem)"
    if age > timedelta(minutes=max_age_min):
        return f"the preflight is {int(age.total_seconds() // 60)} min old (limit {max_age_min:g} min)"
    return None


#: how a reason names another item: by its status in the preflight it reads, in the report's words
STATUS_WORDS = {
    "passed": "passed",
    "failed": "failed",
    "error": "could not be checked (error)",
    "not_verified": "not verified",
    "not_applicable": "not applicable",
    "waived": "waived",
}
NOT_RUN = "not run"  # the preflight has no result for the item (a scoped run, or another version's catalogue)


def status_word(status: str | None) -> str:
    return STATUS_WORDS.get(status or "", NOT_RUN)


def met(status: str | None) -> bool:
    """An item counts as met when it passed, is waived (an approved waiver holds for the items resting on it) or is
    out of the declared scope."""
    return status in MET


def not_met(pf: Preflight, ids: Iterable[str]) -> list[str]:
    """The items of ``ids`` the preflight does not show met (failed, error, not verified, or not run)."""
    status = pf.status
    return [i for i in ids if not met(status.get(i))]


def _either(pf: Preflight, first: tuple[str, ...], second: tuple[str, ...]) -> list[str]:
    """Met when either group is met entirely; otherwise what kept each group from it (both are named)."""
    a, b = not_met(pf, first), not_met(pf, second)
    return [] if not a or not b else [*a, *b]


def blockers_not_met(pf: Preflight) -> list[str]:
    """Every blocker item of the preflight that is not met (the items a refused transition rests on)."""
    return [
        str(i["id"])
        for i in pf.data.get("items", [])
        if isinstance(i, dict) and "id" in i and i.get("severity") == BLOCKER and not met(i.get("status"))
    ]


def evaluate(
    pf: Preflight,
    *,
    target: str,
    operator: str,
    witness: str,
    now: datetime | None = None,
    max_age_min: float = DEFAULT_MAX_AGE_MIN,
) -> dict[str, CheckResult]:
    """One result per §3.1 requirement (3.1.1–3.1.6)."""
    now = now or datetime.now(UTC)
    common = _common(pf, target, now, max_age_min)
    where = f"preflight {pf.path.parent.name} (finished {pf.data.get('finished_at')}, verdict {pf.data.get('verdict')})"
    missing = {
        "3.1.1": not_met(pf, ("1.6.4",)),
        "3.1.2": not_met(pf, S1_BLOCKERS),
        "3.1.3": not_met(pf, S2_BLOCKERS),
        "3.1.4": _either(pf, KILL_SWITCH_ITEMS, ("1.3.1",)),
        "3.1.5": _either(pf, DRIFT_ITEMS, ("1.2.4",)),
    }
    status = pf.status
    pf_op, pf_wit = pf.data.get("operator"), pf.data.get("witness")
    four_eyes: list[str] = []
    if not operator or not witness:
        four_eyes.append("the transition needs --operator and --witness")
    elif same_person(operator, witness):
        four_eyes.append("operator and witness are the same person")
    if not pf_op or not pf_wit or same_person(pf_op, pf_wit):
        four_eyes.append("the preflight was not signed by two different people")
    labels = {
        "3.1.1": "24-hour DRY_RUN period (1.6.4)",
        "3.1.2": f"the other {len(S1_BLOCKERS)} §1 blocker items",
        "3.1.3": f"all {len(S2_BLOCKERS)} §2.1–2.3 blocker items",
        "3.1.4": "kill switch verified (4.4.1–4.4.6 or 1.3.1)",
        "3.1.5": "clock drift verified (8.6.1–8.6.5 or 1.2.4)",
        "3.1.6": "operator and witness, two people",
    }
    out: dict[str, CheckResult] = {}
    ev = Evidence("preflight used", f"{where}\nfile: {pf.path}\nitems: {json.dumps(pf.status, sort_keys=True)}")
    for req in REQUIREMENTS:
        if common:  # no usable preflight: every requirement rests on running it again
            cause = Cause(
                "preflight",
                "the pre-transition preflight",
                common,
                f"run opscheck preflight again (the gate "
                f"takes a GO preflight of this target, at most {max_age_min:g} min old), then the transition",
            )
            out[req] = failed(common, labels[req], f"{labels[req]} not met: {common}", ev, cause=cause)
        elif req == "3.1.6" and four_eyes:
            shown = "; ".join(four_eyes)
            cause = Cause(
                "four_eyes",
                "operator and witness",
                shown,
                "run the preflight and the transition with --operator and --witness naming two different people",
            )
            out[req] = failed(shown, labels[req], f"{labels[req]} not met: {shown}", ev, cause=cause)
        elif missing.get(req):
            ids = missing[req]
            named = [f"{i} {status_word(status.get(i))}" for i in ids]
            shown = "; ".join(named[:4]) + (f" (+{len(named) - 4} more)" if len(named) > 4 else "")
            # the items it rests on are in the same run (preflight) or named by the preflight it read (transition)
            cause = Cause(
                "pre_transition",
                req,
                f"{labels[req]} not met: {shown}",
                f"make {', '.join(ids)} pass (or waive what may be waived), run opscheck preflight again, "
                "then the transition",
            )
            out[req] = failed(shown, labels[req], f"{labels[req]} not met: {shown}", ev, cause=cause, blocked_by=ids)
        else:
            out[req] = passed("met", labels[req], f"{labels[req]}: met in {where}", ev)
    return out


def refusal(results: dict[str, CheckResult], pf: Preflight | None = None) -> str | None:
    """The first unmet requirement as one line, or None when the transition may start (the preflight must also be
    GO as a whole: an item outside §3.1's requirements that blocked it still blocks the transition)."""
    if pf is not None and pf.data.get("verdict") != "GO":
        return f"the preflight's verdict is {pf.data.get('verdict')!r}, not GO"
    for req in REQUIREMENTS:
        if not results[req].ok:
            return f"{req} {results[req].summary()}"
    return None
