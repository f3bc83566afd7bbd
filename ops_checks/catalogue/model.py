"""The registry's record of one runbook item: everything the suite knows about it, declared once.

``Item`` carries the item's id, title, section, severity (and live severity), failure category, whether its check
writes to the target, its cadence, the check itself and the feature's ``Given`` preconditions. Checks and
preconditions are named lazily (``"ops_checks.module:function"``) so the registry imports nothing but the standard
library and stays at the bottom of the layering; ``Item.resolve_check()`` imports the function when a caller needs
it.

A check is called ``function(target, *check_args, **runtime)``: ``check_args`` are fixed (a table name, a secret
name, the item's own id) and fill the parameters after the target in order; ``check_needs`` names the run-time
values (parameters) a caller supplies (``run_id``, the session's drift measurement ``m``, a working directory ...),
each as ``"parameter"`` or ``"parameter=fixture"``: the pytest fixture that supplies it in a preflight, when its
name differs from the parameter's. A function whose first parameter is not the target (``t``) is called without it
(the §8.7 band judgements read only the measurement).

The registry drives the preflight: for every item the plugin registers its scenario's When step (``Item.when``, the
exact text) and a Given step for every precondition (``Given.text``). The When step calls the bound check, or, for an
item that has a drill (``Item.drill``), reads the item's result from the drill the drill's fixture ran (``Drill``:
the drill's result in the sandbox; on live the fixture gives None and the reader runs the item's check). A Given
resting on a drill takes the drill from its fixture like any run-time value (``needs=("drill=emergency_drills",)``).
No item needs step code.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ops_checks.access.config import Target

LIVE_RUNBOOK = "Live Trading Runbook"
SOP = "Incident Response SOP"

BLOCKER = "blocker"
WARNING = "warning"

# failure categories: what kind of runbook promise an item checks (declared per item; never written into a reason:
# the reports group results by their structured status and cause)
SAFETY_GATE = "safety gate failed:"
CONNECTIVITY = "connectivity:"
CONFIGURATION = "configuration:"
DATA_INTEGRITY = "data integrity:"
CATEGORIES = (SAFETY_GATE, CONNECTIVITY, CONFIGURATION, DATA_INTEGRITY)

# optional cadences (None: the item runs in every preflight)
WEEKLY = "weekly"
MONTHLY = "monthly"
CADENCES = (WEEKLY, MONTHLY)

TARGET_PARAMS = ("t", "target")


def resolve(ref: str) -> Callable[..., Any]:
    """``"ops_checks.module:function"`` → the function (imported now)."""
    module, _, name = ref.partition(":")
    if not module or not name:
        raise ValueError(f"not a 'module:function' reference: {ref!r}")
    func: object = getattr(importlib.import_module(module), name)
    if not callable(func):
        raise TypeError(f"{ref} is not callable")
    return func


def takes_target(func: Callable[..., Any]) -> bool:
    params = list(inspect.signature(func).parameters)
    return bool(params) and params[0] in TARGET_PARAMS


def need_param(need: str) -> str:
    """``"m=drift_measurement"`` → ``m`` (the check's parameter)."""
    return need.partition("=")[0]


def need_fixture(need: str) -> str:
    """``"m=drift_measurement"`` → ``drift_measurement`` (the fixture that supplies it); ``"run_id"`` → ``run_id``."""
    param, _, fixture = need.partition("=")
    return fixture or param


def fixtures_of(needs: tuple[str, ...]) -> dict[str, str]:
    return {need_param(n): need_fixture(n) for n in needs}


def bind(
    ref: str, args: tuple[str, ...], needs: tuple[str, ...], runtime: Mapping[str, Any]
) -> Callable[[Target], Any]:
    """The function of ``ref`` as a one-argument callable of the target, its fixed and run-time arguments bound
    (``runtime`` keyed by parameter name)."""
    needs = tuple(need_param(n) for n in needs)
    missing = [n for n in needs if n not in runtime]
    if missing:
        raise TypeError(f"{ref} needs {', '.join(missing)}")
    func = resolve(ref)
    with_target = takes_target(func)
    params = [p for p in list(inspect.signature(func).parameters.values())[with_target:] if p.name not in needs]
    kwargs = {n: runtime[n] for n in needs}
    positional: tuple[str, ...] = ()
    if any(p.kind is p.VAR_POSITIONAL for p in params):  # f(t, *tables): the fixed arguments go in by position
        positional = args
    elif len(args) > len(params):
        raise TypeError(f"{ref} takes {len(params)} fixed arguments, not {len(args)}")
    else:
        kwargs |= {p.name: a for p, a in zip(params, args, strict=False)}
    if with_target:
        return lambda t: func(t, *positional, **kwargs)
    return lambda _t: func(*positional, **kwargs)


@dataclass(frozen=True)
class Given:
    """One ``Given`` step of the item's scenario, ``text`` as the feature says it. ``func`` returns why the item
    cannot be verified (the item is then *not verified*, skipped), or None; the plugin registers the step. Its
    run-time values (``needs``) come from fixtures: a drill's (``"drill=transition_drills"``), the scenario's item
    (``"item=runbook_item_id"``). ``fixture``: a session fixture that answers the precondition once per run instead
    (its value: the problem, or None)."""

    func: str
    args: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    _: KW_ONLY
    text: str
    fixture: str | None = None

    def bind(self, **runtime: Any) -> Callable[[Target], str | None]:
        return bind(self.func, self.args, self.needs, runtime)

    def needs_fixtures(self) -> dict[str, str]:
        """Each run-time parameter of ``func`` → the pytest fixture that supplies it."""
        return fixtures_of(self.needs)


DATABASE = Given(
    "ops_checks.checks.givens:database_unreachable", text="the database is reachable", fixture="database_problem"
)
BOT_HEALTHY = Given("ops_checks.checks.givens:bot_unhealthy", text="the bot's API is healthy")
METRICS_READABLE = Given("ops_checks.checks.givens:metrics_unreadable", text="the bot's metrics are readable")
BOT_DECIDING = Given("ops_checks.checks.givens:bot_not_deciding", text="the bot is recording policy decisions")
SUITE_SCHEMA = Given(
    "ops_checks.access.suite_tables:problem", ("ops_schema_version",), text="the suite's schema is installed"
)
CLOCK_READABLE = Given(
    "ops_checks.checks.s8_clock_drift.drift:time_unavailable",
    needs=("m=drift_measurement",),
    text="VALR's clock can be read",
)
CLOCK_WITHIN_TOLERANCE = Given(
    "ops_checks.checks.s8_clock_drift.drift:beyond_tolerance",
    needs=("m=drift_measurement",),
    text="the exchange clock is within tolerance",
)


def drill_reached(fixture: str, text: str) -> Given:
    """The Given of an item the drill of ``fixture`` reaches only if its earlier steps held: not verified, resting
    on the step that stopped the drill (``drills.base.not_reached``), when the drill stopped before the item."""
    return Given("ops_checks.drills.base:not_reached", needs=("item=runbook_item_id", f"drill={fixture}"), text=text)


@dataclass(frozen=True)
class Drill:
    """The drill an item's When step reads its result from. ``fixture``: the pytest session fixture that runs the
    drill (the drill's record in the sandbox; None on live); ``read``: ``"module:function"``, called
    ``read(target, drill, item_id, **runtime) -> CheckResult`` with the fixture's value and the item's run-time
    values (``Item.check_needs``). The default reader gives the drill's result in the sandbox and the item's
    registry check on live (``drills.base.item_result``)."""

    fixture: str
    read: str = "ops_checks.drills.base:item_result"


def table(name: str) -> Given:
    return Given("ops_checks.checks.givens:table_unreadable", (name,), text=f'the table "{name}" is readable')


# topics: what an item is about, across sections; each is a pytest marker (`pytest -m kill_switch`)
KILL_SWITCH = "kill_switch"
TOPICS = {KILL_SWITCH: "exercises the kill switch (runbook 1.3.1, 4.4, 4.5, 5.2; SOP 7)"}


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    section: str
    severity: str = BLOCKER
    runbook: str = LIVE_RUNBOOK
    live_severity: str | None = None  # when the item weighs differently on the live target
    _: KW_ONLY
    category: str  # one of CATEGORIES
    check: str  # "ops_checks.module:function", the function the item's When step calls
    when: str  # the scenario's When step, exactly as the feature says it
    check_args: tuple[str, ...] = ()
    check_needs: tuple[str, ...] = ()  # "parameter" or "parameter=fixture" (see the module's docstring)
    preconditions: tuple[Given, ...] = ()  # the scenario's Given steps, in order (the Background's first)
    drill: Drill | None = None  # the When step reads the item's result from this drill; None: it calls the check
    topics: tuple[str, ...] = ()  # of TOPICS: markers across sections
    mutating: bool = False  # writes to the target: live needs --allow-mutations, `opscheck serve` never runs it
    cadence: str | None = None  # None: every preflight; WEEKLY/MONTHLY: only with --cadence

    def __post_init__(self) -> None:
        if self.severity not in (BLOCKER, WARNING) or self.live_severity not in (None, BLOCKER, WARNING):
            raise ValueError(f"{self.id}: unknown severity")
        if self.category not in CATEGORIES:
            raise ValueError(f"{self.id}: unknown category {self.category!r}")
        if self.cadence is not None and self.cadence not in CADENCES:
            raise ValueError(f"{self.id}: unknown cadence {self.cadence!r}")
        if not self.when.strip():
            raise ValueError(f"{self.id}: no When text")
        if unknown := set(self.topics) - set(TOPICS):
            raise ValueError(f"{self.id}: unknown topic {sorted(unknown)}")

    @property
    def tag(self) -> str:
        return tag_for(self.id)

    def severity_on(self, target: str | None) -> str:
        return self.live_severity if target == "live" and self.live_severity else self.severity

    def resolve_check(self) -> Callable[..., Any]:
        """The item's check function (imported now)."""
        return resolve(self.check)

    def bind_check(self, **runtime: Any) -> Callable[[Target], Any]:
        """The item's check as ``check(target)``, ``check_args`` and the ``check_needs`` taken from ``runtime``."""
        return bind(self.check, self.check_args, self.check_needs, runtime)

    def needs_fixtures(self) -> dict[str, str]:
        """Each run-time parameter of the check → the pytest fixture that supplies it."""
        return fixtures_of(self.check_needs)

    def read_drill(self, t: Target, drill: Any, **runtime: Any) -> Any:
        """The item's result from its drill (``Drill.read``): ``drill`` is the value of the drill's fixture (None
        on live), ``runtime`` the check's run-time values (keyed by parameter name)."""
        if self.drill is None:
            raise TypeError(f"{self.id} has no drill")
        return resolve(self.drill.read)(t, drill, self.id, **runtime)


def tag_for(item_id: str) -> str:
    """Marker-safe tag of an item id: 4.4.3 → rb_4_4_3, sop.4.2 → sop_4_2."""
    if item_id.startswith("sop."):
        return "sop_" + item_id[4:].replace(".", "_")
    return "rb_" + item_id.replace(".", "_")


def id_for_tag(tag: str) -> str | None:
    if m := re.fullmatch(r"rb_(\d+(?:_\d+)+)", tag):
        return m.group(1).replace("_", ".")
    if m := re.fullmatch(r"sop_([a-z0-9_]+)", tag):
        return "sop." + m.group(1).replace("_", ".")
    return None
