"""Faults: each breaks the sandbox environment the way the runbook fears, never the check itself.

Every fault names the runbook item that must fail because of it (the fault matrix asserts that this item,
and no other item of its runbook section, fails).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from psycopg import sql

from ops_checks.core import poll
from ops_checks.sandbox.bot import ReferenceBot
from ops_checks.sandbox.environment import BOT_SERVICE, Sandbox
from ops_checks.sandbox.third_party import HookServices


@dataclass(frozen=True)
class Fault:
    name: str
    item: str
    description: str
    apply: Callable[[Sandbox], None]
    verdict: str = "NO-GO"  # a fault on a warning-severity item leaves the verdict GO (the warning is visible)


def bot(sb: Sandbox) -> ReferenceBot:
    assert sb.bot is not None
    return sb.bot


def hooks(sb: Sandbox) -> HookServices:
    assert sb.hooks is not None
    return sb.hooks


def revoke_connect(sb: Sandbox) -> None:
    assert sb.db is not None
    sb.admin(
        sql.SQL("REVOKE CONNECT ON DATABASE {d} FROM PUBLIC, {r}")
        .format(d=sql.Identifier(sb.db.name), r=sql.Identifier(sb.db.user))
        .as_string(None)
    )


def settle(seconds: float) -> Callable[[Sandbox], None]:
    def wait(_: Sandbox) -> None:
        time.sleep(seconds)

    return wait


def logged(*needles: str, timeout_s: float = 10.0) -> Callable[[Sandbox], None]:
    """Wait until the bot's log holds every needle (a fault that stops something must find it started)."""

    def wait(sb: Sandbox) -> None:
        def found() -> bool:
            text = "".join(p.read_text(errors="replace") for p in (sb.workdir / "logs").glob("*.log"))
            return all(n in text for n in needles)

        poll.until(found, timeout_s, 0.05)

    return wait


def chain(*steps: Callable[[Sandbox], None]) -> Callable[[Sandbox], None]:
    def run(sb: Sandbox) -> None:
        for step in steps:
            step(sb)

    return run


def set_env(name: str, value: str | None) -> Callable[[Sandbox], None]:
    def run(sb: Sandbox) -> None:
        if value is None:
            sb.env.pop(name, None)
        else:
            sb.env[name] = value

    return run


def knob(component: str, **values: object) -> Callable[[Sandbox], None]:
    def run(sb: Sandbox) -> None:
        obj = {"bot": lambda: bot(sb).knobs, "valr": lambda: sb.valr, "hooks": lambda: hooks(sb).knobs}[component]()
        for k, v in values.items():
            if not hasattr(obj, k):
                raise AttributeError(f"{component} has no knob {k}")
            setattr(obj, k, v)

    return run


def run_sql(statement: str) -> Callable[[Sandbox], None]:
    return lambda sb: sb.admin(statement)


def unhealthy_container(sb: Sandbox) -> None:
    sb.container_health[BOT_SERVICE] = "unhealthy"


def _discover() -> dict[str, Fault]:
    """Fault sets live in this package's modules (one per runbook section), each defining
    ``FAULTS: tuple[Fault, ...]``."""
    import importlib
    import pkgutil

    found: dict[str, Fault] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        for fault in importlib.import_module(f"{__name__}.{info.name}").FAULTS:
            if fault.name in found:
                raise ValueError(f"duplicate fault name {fault.name}")
            found[fault.name] = fault
    return found


def registry() -> dict[str, Fault]:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = _discover()
    return _REGISTRY


_REGISTRY: dict[str, Fault] | None = None


def apply(sb: Sandbox, names: list[str]) -> None:
    faults = registry()
    for name in names:
        if name not in faults:
            raise KeyError(f"unknown fault {name!r}; known: {', '.join(sorted(faults))}")
        faults[name].apply(sb)
