"""pytest-bdd's step lookup, indexed: the same step definitions in the same order, ~10x less work.

For each step of each scenario pytest-bdd (``pytest_bdd.scenario.find_fixturedefs_for_step``) walks every fixture
name of the session (~600 here), asks pytest which of its definitions the item sees, and keeps the step definitions
whose parser matches the step: ~0.35 CPU-s for a preflight's 451 steps. Which step definitions an item sees depends
only on where it sits (its parent: the module or class; pytest decides visibility by the definition's node), not on
the step; so the visible step definitions are collected once per parent and fixture registry (the tuple of fixture
names: a name added or removed rebuilds it), and each step only runs the parsers, in the original order.

Installed only where pytest-bdd has the functions this mirrors, with the same signature; otherwise pytest-bdd's own
lookup stays (``install`` returns False). tests/test_step_lookup.py compares both on every step of the scenarios.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator
from typing import Any

_MARK = "_opscheck_indexed"
_CACHE = "_opscheck_step_index"
#: pytest-bdd's own lookup, once replaced (tests compare the two)
replaced: Callable[..., Any] | None = None


def indexed_lookup(scenario_module: Any) -> Callable[..., Iterator[Any]]:
    """A drop-in for ``scenario_module.find_fixturedefs_for_step`` built from that module's own helpers."""
    get_fixture_names = scenario_module.get_fixture_names
    getfixturedefs = scenario_module.getfixturedefs
    registry = scenario_module.step_function_context_registry

    def find_fixturedefs_for_step(step: Any, fixturemanager: Any, node: Any) -> Iterator[Any]:
        names = tuple(get_fixture_names(fixturemanager=fixturemanager))
        index: dict[str, tuple[tuple[str, ...], list[tuple[Any, Any]]]] = fixturemanager.__dict__.setdefault(_CACHE, {})
        parent = node.nodeid.rpartition("::")[0]
        known = index.get(parent)
        if known is not None and known[0] == names:
            visible = known[1]
        else:
            visible = [
                (fixturedef, context)
                for name in names
                for fixturedef in getfixturedefs(fixturemanager, name, node) or []
                if (context := registry.get(fixturedef.func)) is not None
            ]
            index[parent] = (names, visible)
        for fixturedef, context in visible:
            if context.type is not None and context.type != step.type:
                continue
            if context.parser.is_matching(step.name):
                yield fixturedef

    setattr(find_fixturedefs_for_step, _MARK, True)
    return find_fixturedefs_for_step


def install() -> bool:
    """Put the indexed lookup in pytest-bdd's place when its internals are the ones it mirrors."""
    try:
        module = importlib.import_module("pytest_bdd.scenario")
    except ImportError:
        return False
    original = getattr(module, "find_fixturedefs_for_step", None)
    if original is None or getattr(original, _MARK, False):
        return original is not None
    if not all(hasattr(module, n) for n in ("get_fixture_names", "getfixturedefs", "step_function_context_registry")):
        return False
    if list(inspect.signature(original).parameters) != ["step", "fixturemanager", "node"]:
        return False
    global replaced  # noqa: PLW0603 - set once, when installing
    replaced = original
    setattr(module, "find_fixturedefs_for_step", indexed_lookup(module))  # noqa: B010 - a module attribute
    return True
