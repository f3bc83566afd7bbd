"""The registry's record of one runbook item: everything the suite knows about it, declared once.

``Item`` carries the item's id, title, section, severity (and live severity), failure category, whether its check
writes to the target, its cadence, the check itself and the feature's ``Given`` preconditions. Checks and
preconditions are named lazily (``"ops_checks.module:function"``) so the registry imports nothing but the standard
library and stays at the bottom of the layering; ``Item.resolve_check()`` imports the function when a caller needs
it.

A check is called ``function(target, *check_args, **runtime)``: ``check_args`` are fixed (a table name, a secret
name, the item's own id) and fill the parameters after the target in order; ``check_needs`` names the run-time
values (parameters) a caller supplies (``run_id``, the session's drift measurement ``m``, a working directory ...).
A function whose first parameter is not the target (``t``) is called without it (the §8.7 band judgements read
only the measurement).
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


def bind(
    ref: str, args: tuple[str, ...], needs: tuple[str, ...], runtime: Mapping[str, Any]
) -> Callable[[Target], Any]:
    """The function of ``ref`` as a one-argument callable of the target, its fixed and run-time arguments bound."""
    missing = [n for n in needs if n not in runtime]
    if missing:
        raise TypeError(f"{ref} needs {', '.join(missing)}")
    func = resolve(ref)
    with_target = takes_target(func)
    params = [p for p in list(inspect.signature(func).parameters)[with_target:] if p not in needs]
    if len(args) > len(params):
        raise TypeError(f"{ref} takes {len(params)} fixed arguments, not {len(args)}")
    kwargs = dict(zip(params, args, strict=False)) | {n: runtime[n] for n in needs}
    if with_target:
        return lambda t: func(t, **kwargs)
    return lambda _t: func(**kwargs)


@dataclass(frozen=True)
class Given:
    """One ``Given`` precondition of the item's scenario: ``func`` returns why the item cannot be verified (the
    item is then *not verified*, skipped), or None."""

    func: str
    args: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()

    def bind(self, **runtime: Any) -> Callable[[Target], str | None]:
        return bind(self.func, self.args, self.needs, runtime)


DATABASE = Given("ops_checks.checks.givens:database_unreachable")
BOT_HEALTHY = Given("ops_checks.checks.givens:bot_unhealthy")
METRICS_READABLE = Given("ops_checks.checks.givens:metrics_unreadable")
BOT_DECIDING = Given("ops_checks.checks.givens:bot_not_deciding")
SUITE_SCHEMA = Given("ops_checks.access.suite_tables:problem", ("ops_schema_version",))
CLOCK_READABLE = Given("ops_checks.checks.s8_clock_drift.drift:time_unavailable", needs=("m",))
CLOCK_WITHIN_TOLERANCE = Given("ops_checks.checks.s8_clock_drift.drift:beyond_tolerance", needs=("m",))


def table(name: str) -> Given:
    return Given("ops_checks.checks.givens:table_unreadable", (name,))


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
    check_args: tuple[str, ...] = ()
    check_needs: tuple[str, ...] = ()
    preconditions: tuple[Given, ...] = ()  # the scenario's library Given steps, in order
    mutating: bool = False  # writes to the target: live needs --allow-mutations, `opscheck serve` never runs it
    cadence: str | None = None  # None: every preflight; WEEKLY/MONTHLY: only with --cadence

    def __post_init__(self) -> None:
        if self.severity not in (BLOCKER, WARNING) or self.live_severity not in (None, BLOCKER, WARNING):
            raise ValueError(f"{self.id}: unknown severity")
        if self.category not in CATEGORIES:
            raise ValueError(f"{self.id}: unknown category {self.category!r}")
        if self.cadence is not None and self.cadence not in CADENCES:
            raise ValueError(f"{self.id}: unknown cadence {self.cadence!r}")

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
