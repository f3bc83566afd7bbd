"""A reason that names another item names it by that item's status in the same run.

The §3.1 gate, the §5.7 rows, the §6.4 resume and the "not verified" preconditions all speak about other items. In
one ``verdict.json`` an item that passed must never be called "missing" or "failed" by another item's reason, and
one that failed must not be called "passed". Runs: a few faults whose reasons
name other items: a clock skew that fails 1.2.4 and 8.6.2, VALR's time endpoint down (8.6.1), the database
unreachable, the kill switch ignored, a §1 precondition failing before the transition.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ops_checks.catalogue import ITEMS
from ops_checks.sandbox.faults import registry
from tests.fork_runner import ForkRunner

ITEM_ID = re.compile(r"\b\d+\.\d+\.\d+(?:\.\d+)?\b|\bsop\.[a-z0-9]+(?:\.[a-z0-9]+)*")
KNOWN = {i.id for i in ITEMS}
#: the words a reason may put right after an item id, and the statuses each one claims
WORDS: dict[str, set[str | None]] = {  # the statuses of the outcome model (core/result.py Status)
    "could not be checked (error)": {"error"},
    "not verified": {"not_verified"},
    "not applicable": {"not_applicable"},
    "waived": {"waived"},
    "not run": {None},
    "missing": {None},
    "passed": {"passed"},
    "failed": {"failed"},
}
_WORD = "|".join(re.escape(w) for w in sorted(WORDS, key=len, reverse=True))
#: the runs: faults that break separate items share one (a whole preflight each; a reason may name any item)
RUNS = [
    ("pre_transition_clock_skew", "pre_transition_grafana_down"),
    ("exchange_time_down", "kill_switch_ignored"),
    ("db_connect_revoked",),
]
FAULTS = [f for faults in RUNS for f in faults]


def claims(reason: str, titles: dict[str, str]) -> list[tuple[str, str]]:
    """Every (item id, status word) a reason states: ``8.6.1 failed``, ``5.2.1 (L1) failed``,
    ``6.4.6 Clock drift within tolerance failed``."""
    found: list[tuple[str, str]] = []
    for m in ITEM_ID.finditer(reason):
        item = m.group(0).rstrip(".")
        if item not in KNOWN:
            continue
        title = titles.get(item) or next((i.title for i in ITEMS if i.id == item), "")
        between = r"(?:\s*\([^)]{1,12}\))?" + (rf"(?:\s+{re.escape(title)})?" if title else "")
        word = re.match(rf"{between}\s*:?\s+({_WORD})\b", reason[m.start() + len(item) :])
        if word:
            found.append((item, word.group(1)))
    return found


def inconsistencies(verdict: dict[str, Any]) -> list[str]:
    status = {i["id"]: i["status"] for i in verdict["items"]}
    titles = {i["id"]: i.get("title", "") for i in verdict["items"]}
    bad = []
    for item in verdict["items"]:
        for other, word in claims(item.get("reason") or "", titles):
            if other == item["id"]:
                continue
            if status.get(other) not in WORDS[word]:
                bad.append(
                    f"{item['id']} says '{other} {word}' but {other} is {status.get(other, 'not in the run')}: "
                    f"{item['reason'][:200]}"
                )
    return bad


def test_claims_are_read_as_the_report_words_them() -> None:
    titles = {"6.4.6": "Clock drift within tolerance"}
    reason = (
        "not met: 8.6.2 failed; 8.6.4 not verified; 1.2.4 failed; 5.2.1 (L1) failed: x; 8.6.1 missing; "
        "6.4.6 Clock drift within tolerance failed; host 127.0.0.1 failed; stopped before 4.4.2: 4.4.1 failed"
    )
    assert claims(reason, titles) == [
        ("8.6.2", "failed"),
        ("8.6.4", "not verified"),
        ("1.2.4", "failed"),
        ("5.2.1", "failed"),
        ("8.6.1", "missing"),
        ("6.4.6", "failed"),
        ("4.4.1", "failed"),
    ]
    verdict = {
        "items": [
            {"id": "3.1.5", "status": "failed", "reason": "not met: 8.6.1 missing; 8.6.3 failed"},
            {"id": "8.6.1", "status": "passed", "reason": ""},
            {"id": "8.6.3", "status": "passed", "reason": ""},
        ]
    }
    assert len(inconsistencies(verdict)) == 2


def test_the_faults_exist() -> None:
    known = registry()
    assert all(f in known for f in FAULTS), [f for f in FAULTS if f not in known]


@pytest.mark.slow
@pytest.mark.parametrize("faults", RUNS, ids="+".join)
def test_reasons_name_other_items_by_their_status_in_the_same_run(
    tmp_path: Path, fork_runner: ForkRunner, faults: tuple[str, ...]
) -> None:
    """(A healthy run has no reasons to check: every item passed with none. It is GO in test_fault_matrix.py.)"""
    fault = "+".join(faults)
    run = fork_runner.run(tmp_path / "r", faults=list(faults), select=None)
    assert run.verdict is not None, run.output[-2000:]
    assert run.verdict["verdict"] == "NO-GO", run.output[-2000:]
    assert not inconsistencies(run.verdict), "\n".join(inconsistencies(run.verdict))
    titles = {i["id"]: i.get("title", "") for i in run.verdict["items"]}  # the case the check exists for:
    named = [c for i in run.verdict["items"] for c in claims(i.get("reason") or "", titles) if c[0] != i["id"]]
    rests = [(i["id"], b) for i in run.verdict["items"] for b in i.get("blocked_by") or []]
    assert named or rests, f"{fault}: no item names or rests on another"  # the case the check exists for
    status = {i["id"]: i["status"] for i in run.verdict["items"]}
    wrong = [(item, on) for item, on in rests if status.get(on) == "passed"]
    assert not wrong, f"{fault}: items rest on items that passed: {wrong}"
