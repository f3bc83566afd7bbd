"""The drills one preflight runs on the sandbox (§3 transition, §5 emergency with its §5.7 checklist, §6 incident,
the SOP drills): each on a disposable sandbox of its own (``base.disposable``, handed in started), broken as the
session's sandbox is broken (``base.break_like_session``), and the runbook items each one answers for.

What a drill takes from the session is one ``Session``; the plugin starts the drills the selected items use
(``ops_checks/pytest_plugin/disposables.py``) and hands each drill's result to the steps. On live no drill runs:
the steps get None and the library runs each item's read-only check instead (``base.item_result``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ops_checks.catalogue import ITEMS
from ops_checks.drills import base as drill_base
from ops_checks.drills import emergency_checklist_drill, emergency_drill, incident_drill, sop_drills, transition_drill
from ops_checks.sandbox.environment import Sandbox
from ops_checks.verdict.waivers import Waiver


@dataclass(frozen=True)
class Session:
    """What the drills take from the session: its faults (``--sandbox-fault`` names), the session sandbox's
    working directory (the drills' records go there: a disposable sandbox removes its own when stopped), the
    runbooks' directory (None: the runbooks' own statements are unavailable), the run's active waivers by item, and
    the selected items (None: all)."""

    faults: tuple[str, ...] = ()
    workdir: Path = Path(".")
    runbook_dir: Path | None = None
    waivers: Mapping[str, Waiver] = field(default_factory=dict)
    selected: Collection[str] | None = None


def transition(sb: Sandbox, s: Session) -> transition_drill.Drill:
    """§3: the env file written, broken like the session's sandbox, then the pre-transition preflight (under the
    run's waivers), the gate, the transition to LIVE and back. The session's sandbox stays DRY_RUN."""
    transition_drill.write_env_file(sb, sb.workdir / transition_drill.ENV_FILE)
    drill_base.break_like_session(sb, s.faults)
    return transition_drill.run(sb, s.workdir / "transition", waivers=s.waivers)


def emergency(sb: Sandbox, s: Session) -> emergency_drill.Drill:
    """§5: broken like the session's sandbox, L1–L4 drilled, then the §5.7 checklist filled (its rows go into the
    same drill's results)."""
    drill_base.break_like_session(sb, s.faults)
    drill = emergency_drill.run(sb, s.runbook_dir, s.workdir / "emergency_audit")
    emergency_checklist_drill.run(sb, drill, s.workdir / "emergency_incident")
    return drill


def incident(sb: Sandbox, s: Session) -> incident_drill.Drill:
    """§6: broken like the session's sandbox: incident, capture, report, resume. The session's sandbox is not
    touched."""
    drill_base.break_like_session(sb, s.faults)
    return incident_drill.run(sb, s.workdir / "incident")


def sop(sb: Sandbox, s: Session) -> sop_drills.Drill:
    """The SOP drills of the selected items, with only the session's faults aimed at drill items applied."""
    drill_base.break_like_session(sb, s.faults, items=sop_drills.DRILL_ITEMS)
    return sop_drills.run(sb, only=s.selected)


def fixture_of(name: str) -> str:
    """The session fixture that hands drill ``name``'s result to the steps (``Drill.fixture`` in the registry)."""
    return f"{name}_drills"


def _read_by_items_of(name: str) -> Callable[[str], bool]:
    """Whether a runbook item reads drill ``name``: the registry says so (``Item.drill``)."""
    readers = frozenset(i.id for i in ITEMS if i.drill is not None and i.drill.fixture == fixture_of(name))
    return readers.__contains__


#: drill name -> (the drill, whether a runbook item's steps read it)
DRILLS: dict[str, tuple[Callable[[Sandbox, Session], drill_base.Drill], Callable[[str], bool]]] = {
    name: (run, _read_by_items_of(name))
    for name, run in (("transition", transition), ("emergency", emergency), ("incident", incident), ("sop", sop))
}


def needed(items: Collection[str]) -> list[str]:
    """The drills the given runbook items read, by name."""
    return [name for name, (_run, used_by) in DRILLS.items() if any(used_by(i) for i in items)]


def reads_a_drill(item: str) -> bool:
    """Whether runbook item ``item``'s steps read a drill's result."""
    return any(used_by(item) for _run, used_by in DRILLS.values())
