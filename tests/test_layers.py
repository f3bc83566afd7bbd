"""Layers you can see: ``ops_checks`` is a stack of subpackages, and imports only point down.

``LAYERS`` lists the top-level subpackages from the lowest to the highest. A module may import its own layer and
the layers below it, never one above: every import counts, at module level, inside functions and under
``if TYPE_CHECKING:`` alike (no exemption: a type-only import is a dependency all the same). Within a package, the
modules and subpackages that sit side by side import each other without a cycle. The library stays plain: only
``pytest_plugin`` imports pytest, pytest-bdd or allure, and only the CLI (above it) imports the plugin.
See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import ast
import functools
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ops_checks"
PLUGIN = PACKAGE / "pytest_plugin"
TEST_FRAMEWORKS = ("pytest", "pytest_bdd", "allure", "allure_commons", "_pytest")

# lowest → highest
LAYERS = (
    "core",  # results, secrets, redaction, HTTP with evidence, env files, settings: no knowledge of the bot
    "access",  # Target (config), the bot profile, and the channels to it: db, bot API, VALR, Prometheus, guardian
    "catalogue",  # the Item model and the items of both runbooks, cadences, the runbooks' own words
    "verdict",  # the verdict over item outcomes, waivers
    "checks",  # read-only checks by runbook section: Target -> CheckResult
    "procedures",  # what writes: kill switch, transition, incident, audit export, backup, env edits, sign-off
    "sandbox",  # the sandbox target: Postgres, VALR simulator, reference bot, faults
    "drills",  # procedures run end to end on a disposable sandbox
    "report",  # rendering: the HTML report, its sign-off page, third-party result files
    "pytest_plugin",  # the pytest-bdd runner of the items (pytest11 entry point)
    "cli",  # opscheck: runs the plugin in a subprocess, renders the report
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _all_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@functools.cache  # every test walks the whole package: each file is parsed once per session
def _imported(path: Path) -> tuple[tuple[int, str, str], ...]:
    """(line, the statement as written, each absolute module or name it imports) for every import in a file."""
    return tuple(_scan(path))


def _scan(path: Path) -> Iterator[tuple[int, str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, f"import {alias.name}", alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                written = f"from {'.' * node.level}{node.module or ''} import {alias.name}"
                yield node.lineno, written, f"{base}.{alias.name}"


def _imports(path: Path) -> set[str]:
    return {name for _, _, name in _imported(path)} | {name.rpartition(".")[0] for _, _, name in _imported(path)}


def library_modules() -> list[Path]:
    return [p for p in _all_modules() if PLUGIN not in p.parents]


def _layer(dotted: str) -> str | None:
    parts = dotted.split(".")
    return parts[1] if parts[0] == "ops_checks" and len(parts) > 1 else None


def upward_imports() -> list[str]:
    found = []
    for path in _all_modules():
        own = _layer(_module_name(path))
        if own is None:  # ops_checks/__init__.py
            continue
        for line, written, name in _imported(path):
            theirs = _layer(name)
            if theirs in LAYERS and LAYERS.index(theirs) > LAYERS.index(own):
                found.append(
                    f"{path.relative_to(PACKAGE.parent)}:{line}: {written}  ({own} imports {theirs}, a higher layer)"
                )
    return found


def _known(dotted: str) -> str | None:
    """The module or package a dotted import name refers to (a name imported from a module: that module)."""
    while dotted:
        rel = Path(*dotted.split("."))
        if (PACKAGE.parent / rel / "__init__.py").is_file() or (PACKAGE.parent / rel.with_suffix(".py")).is_file():
            return dotted
        dotted = dotted.rpartition(".")[0]
    return None


def sibling_cycles() -> list[str]:
    """Cycles among the entries (modules and subpackages) that sit side by side in one package."""
    packages = {_module_name(p) for p in PACKAGE.rglob("__init__.py") if "__pycache__" not in p.parts}
    edges: dict[str, dict[tuple[str, str], str]] = defaultdict(dict)  # package -> (a, b) -> where
    for path in _all_modules():
        me = _module_name(path)
        for line, written, name in _imported(path):
            target = _known(name)
            if target is None or not target.startswith("ops_checks") or target == me:
                continue
            mine = me.split(".") if me in packages else me.split(".")[:-1]
            theirs = target.split(".") if target in packages else target.split(".")[:-1]
            n = 0
            while n < min(len(mine), len(theirs)) and mine[n] == theirs[n]:
                n += 1
            parent = ".".join(mine[:n])
            a = ".".join(me.split(".")[: n + 1]) if me != parent else f"{parent}.__init__"
            b = ".".join(target.split(".")[: n + 1]) if target != parent else f"{parent}.__init__"
            if a != b:
                edges[parent].setdefault((a, b), f"{path.relative_to(PACKAGE.parent)}:{line}: {written}")
    found = []
    for parent, pairs in sorted(edges.items()):
        graph: dict[str, set[str]] = defaultdict(set)
        for a, b in pairs:
            graph[a].add(b)
        for cycle in _cycles(graph):
            steps = [pairs[(x, y)] for x, y in zip(cycle, cycle[1:] + cycle[:1], strict=True)]
            found.append(f"cycle in {parent}: {' -> '.join([*cycle, cycle[0]])}\n    " + "\n    ".join(steps))
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(_a_cycle(graph, set(component)))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _a_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    start = min(component)
    path, seen = [start], {start}
    while True:
        nxt = sorted(w for w in graph[path[-1]] if w in component)
        if start in nxt and len(path) > 1:
            return path
        step = next((w for w in nxt if w not in seen), None)
        if step is None:  # close on the first node already on the path
            back = next(w for w in nxt if w in seen)
            return path[path.index(back) :]
        path.append(step)
        seen.add(step)


def test_every_top_level_entry_is_a_declared_layer() -> None:
    entries = {
        p.stem if p.suffix == ".py" else p.name
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").is_file()
    }
    assert sorted(entries - set(LAYERS)) == [], "a module or package outside the layers: place it in one (LAYERS)"
    assert sorted(set(LAYERS) - entries) == []


def test_imports_only_point_down() -> None:
    found = upward_imports()
    assert not found, "imports that point up (LAYERS, lowest first: " + ", ".join(LAYERS) + "):\n" + "\n".join(found)


def test_no_import_cycle_between_siblings() -> None:
    found = sibling_cycles()
    assert not found, "import cycles:\n" + "\n".join(found)


def test_the_library_imports_no_test_framework() -> None:
    offenders = {
        str(p.relative_to(PACKAGE)): sorted(n for n in _imports(p) if n.split(".")[0] in TEST_FRAMEWORKS)
        for p in library_modules()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_library_never_imports_the_plugin() -> None:
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in library_modules()
        if any(n.startswith("ops_checks.pytest_plugin") for n in _imports(p))
    ]
    # the CLI is the top layer, above the plugin: it asks the plugin package where its steps and features are
    allowed = {"cli/app.py", "cli/serve.py"}
    assert sorted(set(offenders) - allowed) == []
