"""Traceability: what can still drift once the registry runs the items.

- the runbook's checklist ids of the sections we cover ↔ the scenarios: each on exactly one;
- each scenario ↔ its registry item (ops_checks/catalogue/items): its tag, title, severity, @mutating and cadence
  tags, its When text and its Given texts, in order;
- the registry's string references (checks, preconditions, drill readers) resolve and bind;
- every step of every scenario has exactly one definition: the registry's.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pytest_bdd.parsers import StepParser, string
from pytest_bdd.steps import step_function_context_registry

from ops_checks.catalogue import BY_ID, ITEMS, WARNING, id_for_tag, model
from ops_checks.pytest_plugin import features_dir

NUMBERED_ROW = re.compile(r"^\|\s*(\d+\.\d+\.\d+)\s*\|(?!\s*\d{4}-\d{2}-\d{2})", re.M)  # not the version table


@pytest.fixture(scope="module")
def runbook_text(runbooks_dir: Path) -> str:
    return (runbooks_dir / "live-trading-runbook.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------- the feature files, as this suite writes them

STEP_KEYWORDS = ("Given", "When", "Then", "And", "But")


@dataclass
class Scenario:
    feature: str
    title: str
    tags: set[str]  # the feature's tags and the scenario's own
    givens: list[str] = field(default_factory=list)  # the Background's, then the scenario's
    whens: list[str] = field(default_factory=list)

    @property
    def items(self) -> list[str]:
        return [i for i in (id_for_tag(t) for t in sorted(self.tags)) if i]


def parse_feature(name: str, text: str) -> list[Scenario]:
    """The scenarios of one feature file: title, tags (inherited from the feature), Given and When steps (Background
    first). Only the Gherkin this suite writes: tags on their own lines, And/But continue the previous keyword."""
    feature_tags: set[str] = set()
    pending: set[str] = set()
    background: list[str] = []
    scenarios: list[Scenario] = []
    current: Scenario | None = None
    section = ""  # where the steps go: "background" or "scenario"
    keyword = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("@"):
            pending |= {t[1:] for t in line.split()}
        elif line.startswith("Feature:"):
            feature_tags, pending = pending, set()
        elif line.startswith("Background:"):
            section = "background"
        elif line.startswith("Scenario:"):
            current = Scenario(name, line.removeprefix("Scenario:").strip(), feature_tags | pending, list(background))
            scenarios.append(current)
            pending, section = set(), "scenario"
        elif line.split(" ", 1)[0] in STEP_KEYWORDS:
            word, _, step = line.partition(" ")
            keyword = keyword if word in ("And", "But") else word
            if section == "background" and keyword == "Given":
                background.append(step)
            elif section == "scenario" and current is not None:
                {"Given": current.givens, "When": current.whens}.get(keyword, []).append(step)
    return scenarios


def all_scenarios() -> list[Scenario]:
    return [
        s
        for f in sorted(features_dir().glob("*.feature"))
        for s in parse_feature(f.name, f.read_text(encoding="utf-8"))
    ]


# ---------------------------------------------------------------- the runbook ↔ the scenarios


def test_every_runbook_id_of_covered_sections_is_on_exactly_one_scenario(runbook_text: str) -> None:
    covered = {i.id.split(".")[0] for i in ITEMS}
    ids = [i for i in NUMBERED_ROW.findall(runbook_text) if i.split(".")[0] in covered]
    assert ids, "no numbered checklist rows found"
    counts = Counter(i for sc in all_scenarios() for i in sc.items)
    assert {i: counts[i] for i in ids if counts[i] != 1} == {}


def test_section_one_has_all_27_items(runbook_text: str) -> None:
    ids = [i for i in NUMBERED_ROW.findall(runbook_text) if i.startswith("1.")]
    assert len(ids) == 27 and set(ids) <= set(BY_ID)


# ---------------------------------------------------------------- the scenarios ↔ the registry

OPTIONAL_CADENCES = ("weekly", "monthly")


def registry_problems(items: Sequence[model.Item], scenarios: Sequence[Scenario]) -> list[str]:
    """Every disagreement between the registry and the features (empty: they agree)."""
    by_id = {i.id: i for i in items}
    problems: list[str] = []
    owners: dict[str, list[Scenario]] = {}
    for sc in scenarios:
        if len(sc.items) != 1:
            problems.append(f"{sc.feature}: a scenario tagged with {len(sc.items)} items ({sc.items})")
        for item_id in sc.items:
            owners.setdefault(item_id, []).append(sc)
    for item in items:
        found = owners.get(item.id, [])
        if len(found) != 1:
            problems.append(f"{item.id}: {len(found)} scenarios carry @{item.tag}")
            continue
        sc = found[0]
        where = f"{sc.feature} {item.id}"
        if sc.title != f"{item.id} {item.title}":
            problems.append(f"{where}: scenario title {sc.title!r}, the registry says {item.id} {item.title!r}")
        if ("mutating" in sc.tags) != item.mutating:
            problems.append(f"{where}: @mutating is {'mutating' in sc.tags}, the registry says {item.mutating}")
        if {"blocker", "warning"} & sc.tags != {item.severity}:
            problems.append(
                f"{where}: severity tags {sorted({'blocker', 'warning'} & sc.tags)}, the registry says {item.severity}"
            )
        tagged = {c for c in OPTIONAL_CADENCES if f"cadence_{c}" in sc.tags}
        if tagged != ({item.cadence} if item.cadence else set()):
            problems.append(f"{where}: cadence tags {sorted(tagged)}, the registry says {item.cadence}")
        if sc.whens != [item.when]:
            problems.append(f"{where}: When {sc.whens}, the registry says {item.when!r}")
        if sc.givens != [g.text for g in item.preconditions]:
            problems.append(f"{where}: Given {sc.givens}, the registry says {[g.text for g in item.preconditions]}")
    problems += [f"{i}: tagged on a scenario but not in the registry" for i in owners if i not in by_id]
    return problems


def test_the_registry_agrees_with_the_features() -> None:
    assert registry_problems(ITEMS, all_scenarios()) == []


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"title": "Settings exist"}, "scenario title '1.1.2 System settings exist', the registry says"),
        ({"mutating": True}, "@mutating is False, the registry says True"),
        ({"severity": WARNING}, "the registry says warning"),
        ({"cadence": model.WEEKLY}, "cadence tags [], the registry says weekly"),
        ({"when": "the settings are read"}, "the registry says 'the settings are read'"),
        ({"preconditions": ()}, "Given ['the database is reachable'], the registry says []"),
    ],
)
def test_a_registry_entry_that_disagrees_with_its_feature_is_caught(change: dict[str, object], complaint: str) -> None:
    """On a copy of the registry with one item changed: the check names that item and the disagreement."""
    assert BY_ID["1.1.2"].preconditions and not BY_ID["1.1.2"].mutating and BY_ID["1.1.2"].cadence is None
    items = [dataclasses.replace(i, **change) if i.id == "1.1.2" else i for i in ITEMS]  # type: ignore[arg-type]
    problems = registry_problems(items, all_scenarios())
    assert len(problems) == 1 and problems[0].startswith("1_1_infrastructure.feature 1.1.2: ")
    assert complaint in problems[0]


def test_a_missing_entry_is_caught() -> None:
    items = [i for i in ITEMS if i.id != "4.4.3"]
    assert registry_problems(items, all_scenarios()) == ["4.4.3: tagged on a scenario but not in the registry"]


# ---------------------------------------------------------------- the registry's references resolve and bind


def check_binds(item: model.Item) -> str | None:
    """Why ``item.check`` or a precondition cannot be called as the registry says, or None."""
    try:
        func = item.resolve_check()
    except (ImportError, AttributeError, ValueError, TypeError) as exc:
        return f"{item.id}: check {item.check} does not resolve ({exc})"
    needs = [model.need_param(n) for n in item.check_needs]
    params = [p for p in list(inspect.signature(func).parameters)[model.takes_target(func) :] if p not in needs]
    try:
        inspect.signature(func).bind(
            *(("target",) if model.takes_target(func) else ()),
            **dict(zip(params, item.check_args, strict=False)),
            **dict.fromkeys(needs),
        )
        if len(item.check_args) > len(params):
            raise TypeError(f"{len(item.check_args)} fixed arguments for {params}")
    except (TypeError, ValueError) as exc:
        return f"{item.id}: check {item.check} cannot be called with its arguments ({exc})"
    for given in item.preconditions:
        try:
            given.bind(**dict.fromkeys(given.needs_fixtures()))
        except (ImportError, AttributeError, ValueError, TypeError) as exc:
            return f"{item.id}: precondition {given.func} does not resolve ({exc})"
    if item.drill is not None:
        try:
            inspect.signature(model.resolve(item.drill.read)).bind("target", None, item.id, **dict.fromkeys(needs))
        except (ImportError, AttributeError, ValueError, TypeError) as exc:
            return f"{item.id}: drill reader {item.drill.read} cannot read the item ({exc})"
    return None


def test_every_check_and_precondition_resolves_and_binds() -> None:
    assert [p for p in (check_binds(i) for i in ITEMS) if p] == []


def test_an_unresolvable_entry_is_caught() -> None:
    broken = dataclasses.replace(BY_ID["1.1.1"], check="ops_checks.checks.s1_preconditions.infra:no_such_check")
    assert "does not resolve" in (check_binds(broken) or "")
    wrong_args = dataclasses.replace(BY_ID["1.1.3"], check_args=("a", "b"))
    assert "cannot be called" in (check_binds(wrong_args) or "")
    no_reader = dataclasses.replace(
        BY_ID["5.3.1"], drill=model.Drill("emergency_drills", read="ops_checks.drills.base:nope")
    )
    assert "drill reader ops_checks.drills.base:nope cannot read" in (check_binds(no_reader) or "")


# ---------------------------------------------------------------- each step has exactly one definition


def step_definitions() -> list[tuple[str, str, StepParser]]:
    """(kind, defining module, parser) of every step the plugin loads: the judging steps, the registry's, and any
    step module's (pytest-bdd keeps each step's context in ``step_function_context_registry``)."""
    from ops_checks.pytest_plugin import plugin

    for module in plugin.pytest_plugins:
        importlib.import_module(module)
    return [
        (c.type, c.step_func.__module__.rsplit(".", 1)[-1], c.parser)
        for c in list(step_function_context_registry.values())
        if c.step_func.__module__.startswith("ops_checks.pytest_plugin.") and c.type is not None
    ]


def step_problems(items: Sequence[model.Item], definitions: list[tuple[str, str, StepParser]]) -> dict[str, object]:
    """Each scenario step without exactly one definition, the registry's (``registry_steps``): every When step and
    every Given. Two definitions for one text would be ambiguous; none, a scenario that cannot run."""
    wrong: dict[str, object] = {}
    for item in items:
        steps = [("when", item.when), *(("given", g.text) for g in item.preconditions)]
        for kind, text in steps:
            found = sorted(m for k, m, parser in definitions if k == kind and parser.is_matching(text))
            if found != ["registry_steps"]:
                wrong[f"{item.id} {kind} {text!r}"] = found
    return wrong


def test_every_step_module_is_loaded_by_the_plugin() -> None:
    from ops_checks.pytest_plugin import plugin, steps_dir

    modules = {p.stem for p in steps_dir().glob("*.py") if not p.stem.startswith(("_", "test_"))}
    assert modules == set(plugin.STEP_MODULES), "add new step modules to STEP_MODULES in pytest_plugin/plugin.py"


def test_step_modules_import_the_library_and_the_plugin_never_each_other() -> None:
    """A step module stands alone: what steps share lives in the plugin (``judging``, ``plugin``) or the library."""
    from ops_checks.pytest_plugin import STEPS_PACKAGE, steps_dir

    wrong = []
    for path in sorted(steps_dir().glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = ["." * node.level + (node.module or "")]
            wrong += [f"{path.name}: {n}" for n in names if n.startswith((".", STEPS_PACKAGE, "steps"))]
    assert wrong == []


def test_every_scenario_step_has_exactly_one_definition_where_the_registry_says() -> None:
    assert step_problems(ITEMS, step_definitions()) == {}


def test_a_step_defined_twice_or_nowhere_is_caught() -> None:
    """A step module that defines 4.4.1's When again (ambiguous), and a scenario step nobody defines (it could not
    run)."""
    extra = ("when", "kill_switch", string("the kill switch's current state is checked"))
    items = [BY_ID["4.4.1"], dataclasses.replace(BY_ID["1.1.2"], when="the settings are guessed")]
    assert step_problems(items, [*step_definitions(), extra]) == {
        '4.4.1 when "the kill switch\'s current state is checked"': ["kill_switch", "registry_steps"],
        "1.1.2 when 'the settings are guessed'": [],
    }
