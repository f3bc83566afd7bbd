"""Traceability: every checklist id of the runbook sections we cover is on exactly one scenario, and back; and the
item registry (ops_checks/catalogue/items) agrees with the features: tags, preconditions, and the check the When step
calls."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import parse
import pytest

from ops_checks.catalogue import BY_ID, ITEMS, WARNING, id_for_tag, model
from ops_checks.pytest_plugin import features_dir

NUMBERED_ROW = re.compile(r"^\|\s*(\d+\.\d+\.\d+)\s*\|(?!\s*\d{4}-\d{2}-\d{2})", re.M)  # not the version table
TAG = re.compile(r"@(rb_[\d_]+|sop_[a-z0-9_]+)\b")


@pytest.fixture(scope="module")
def runbook_text(runbooks_dir: Path) -> str:
    return (runbooks_dir / "live-trading-runbook.md").read_text(encoding="utf-8")


def scenario_ids() -> Counter[str]:
    counts: Counter[str] = Counter()
    for feature in features_dir().glob("*.feature"):
        for tag in TAG.findall(feature.read_text(encoding="utf-8")):
            item = id_for_tag(tag)
            if item:
                counts[item] += 1
    return counts


def covered_sections() -> set[str]:
    return {i.id.split(".")[0] for i in ITEMS}


def test_every_runbook_id_of_covered_sections_is_on_exactly_one_scenario(runbook_text: str) -> None:
    ids = [i for i in NUMBERED_ROW.findall(runbook_text) if i.split(".")[0] in covered_sections()]
    assert ids, "no numbered checklist rows found"
    counts = scenario_ids()
    assert {i: counts[i] for i in ids if counts[i] != 1} == {}


def test_section_one_has_all_27_items(runbook_text: str) -> None:
    ids = [i for i in NUMBERED_ROW.findall(runbook_text) if i.startswith("1.")]
    assert len(ids) == 27 and set(ids) <= set(BY_ID)


def test_every_scenario_tag_is_a_catalogue_item_with_its_severity() -> None:
    for feature in features_dir().glob("*.feature"):
        text = feature.read_text(encoding="utf-8")
        for block in text.split("\n\n"):
            tags = TAG.findall(block)
            if not tags:
                continue
            item = BY_ID.get(id_for_tag(tags[0]) or "")
            assert item is not None, f"{feature.name}: unknown item tag {tags[0]}"
            assert f"@{item.severity}" in block, f"{feature.name}: {item.id} must be tagged @{item.severity}"
            assert f"Scenario: {item.id} " in block, f"{feature.name}: scenario title must start with {item.id}"


def test_every_step_module_is_loaded_by_the_plugin() -> None:
    from ops_checks.pytest_plugin import plugin, steps_dir

    modules = {p.stem for p in steps_dir().glob("*.py") if not p.stem.startswith(("_", "test_"))}
    assert modules == set(plugin.STEP_MODULES), "add new step modules to STEP_MODULES in pytest_plugin/plugin.py"


# ---------------------------------------------------------------- the registry against the features and the steps

STEP_KEYWORDS = ("Given", "When", "Then", "And", "But")
OPTIONAL_CADENCES = ("weekly", "monthly")


@dataclass
class Scenario:
    feature: str
    tags: set[str]  # the feature's tags and the scenario's own
    givens: list[str] = field(default_factory=list)  # the Background's, then the scenario's
    whens: list[str] = field(default_factory=list)

    @property
    def items(self) -> list[str]:
        return [i for i in (id_for_tag(t) for t in sorted(self.tags)) if i]


def parse_feature(name: str, text: str) -> list[Scenario]:
    """The scenarios of one feature file: tags (inherited from the feature), Given and When steps (Background
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
        elif line.startswith(("Scenario:", "Scenario Outline:")):
            current = Scenario(name, feature_tags | pending, list(background))
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


#: the library Given steps: the step text (parse pattern) → the registry's precondition for it
GIVEN_STEPS: dict[str, Callable[..., model.Given]] = {
    "the database is reachable": lambda: model.DATABASE,
    'the table "{name}" is readable': model.table,
    "the bot's API is healthy": lambda: model.BOT_HEALTHY,
    "the bot's metrics are readable": lambda: model.METRICS_READABLE,
    "the bot is recording policy decisions": lambda: model.BOT_DECIDING,
    "VALR accepts requests signed with VALR_API_SECRET": lambda: model.Given(
        "ops_checks.checks.s2_environment.secrets_check:valr_signature_not_accepted"
    ),
    "VALR recognises VALR_API_KEY": lambda: model.Given(
        "ops_checks.checks.s2_environment.secrets_check:valr_key_not_recognised"
    ),
    'the rotation of "{name}" is not more than twice overdue': lambda name: model.Given(
        "ops_checks.checks.s2_environment.rotation:far_overdue", (name,)
    ),
    "VALR's clock can be read": lambda: model.CLOCK_READABLE,
    "the exchange clock is within tolerance": lambda: model.CLOCK_WITHIN_TOLERANCE,
    "an NTP status tool answers on this host": lambda: model.Given("ops_checks.checks.s8_clock_drift.ntp:tool_missing"),
    "the suite's schema is installed": lambda: model.SUITE_SCHEMA,
}
#: Given steps that are not library preconditions: a drill's own state, or a fixture the When step reads
DRILL_GIVENS = (
    "the pre-transition requirements are met",
    "the transition reached this row",
    "the resume reached this check",
    "emergency level {item} was carried out",
    "an audit export of the last day in a temporary directory",
)


def preconditions_of(givens: list[str]) -> tuple[tuple[model.Given, ...], list[str]]:
    """The registry preconditions a scenario's Given steps stand for, and the steps that match nothing known."""
    found: list[model.Given] = []
    unknown: list[str] = []
    for step in givens:
        for pattern, make in GIVEN_STEPS.items():
            if (m := parse.parse(pattern, step)) is not None:
                found.append(make(*m.fixed, **m.named))
                break
        else:
            if not any(parse.parse(p, step) is not None for p in DRILL_GIVENS):
                unknown.append(step)
    return tuple(found), unknown


def check_binds(item: model.Item) -> str | None:
    """Why ``item.check`` cannot be called as the registry says (target, *check_args, **check_needs), or None."""
    try:
        func = item.resolve_check()
    except (ImportError, AttributeError, ValueError, TypeError) as exc:
        return f"{item.id}: check {item.check} does not resolve ({exc})"
    params = list(inspect.signature(func).parameters)[model.takes_target(func) :]
    fixed = [p for p in params if p not in item.check_needs][: len(item.check_args)]
    try:
        inspect.signature(func).bind(
            *(("target",) if model.takes_target(func) else ()),
            **dict(zip(fixed, item.check_args, strict=True)),
            **{n: None for n in item.check_needs},
        )
    except (TypeError, ValueError) as exc:
        return f"{item.id}: check {item.check} cannot be called with its arguments ({exc})"
    for given in item.preconditions:
        try:
            given.bind(**{n: None for n in given.needs})
        except (ImportError, AttributeError, ValueError, TypeError) as exc:
            return f"{item.id}: precondition {given.func} does not resolve ({exc})"
    return None


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
        if ("mutating" in sc.tags) != item.mutating:
            problems.append(f"{where}: @mutating is {'mutating' in sc.tags}, the registry says {item.mutating}")
        if {"blocker", "warning"} & sc.tags != {item.severity}:
            problems.append(
                f"{where}: severity tags {sorted({'blocker', 'warning'} & sc.tags)}, the registry says {item.severity}"
            )
        tagged = {c for c in OPTIONAL_CADENCES if f"cadence_{c}" in sc.tags}
        if tagged != ({item.cadence} if item.cadence else set()):
            problems.append(f"{where}: cadence tags {sorted(tagged)}, the registry says {item.cadence}")
        givens, unknown = preconditions_of(sc.givens)
        problems += [f"{where}: Given step {step!r} is no known precondition" for step in unknown]
        if givens != item.preconditions:
            problems.append(
                f"{where}: the Given steps stand for {[g.func for g in givens]} {givens}, "
                f"the registry says {item.preconditions}"
            )
        if len(sc.whens) != 1:
            problems.append(f"{where}: {len(sc.whens)} When steps")
    problems += [f"{i}: tagged on a scenario but not in the registry" for i in owners if i not in by_id]
    return problems


def test_the_registry_agrees_with_the_features() -> None:
    assert registry_problems(ITEMS, all_scenarios()) == []


def test_every_check_and_precondition_resolves_and_binds() -> None:
    assert [p for p in (check_binds(i) for i in ITEMS) if p] == []


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"mutating": True}, "@mutating is False, the registry says True"),
        ({"severity": WARNING}, "the registry says warning"),
        ({"cadence": model.WEEKLY}, "cadence tags [], the registry says weekly"),
        ({"preconditions": ()}, "the Given steps stand for"),
    ],
)
def test_a_registry_entry_that_disagrees_with_its_feature_is_caught(change: dict[str, object], complaint: str) -> None:
    """On a copy of the registry with one item changed: the check names that item and the disagreement."""
    assert BY_ID["1.1.2"].preconditions and not BY_ID["1.1.2"].mutating and BY_ID["1.1.2"].cadence is None
    items = [dataclasses.replace(i, **change) if i.id == "1.1.2" else i for i in ITEMS]  # type: ignore[arg-type]
    problems = registry_problems(items, all_scenarios())
    assert len(problems) == 1 and problems[0].startswith("1_1_infrastructure.feature 1.1.2: ")
    assert complaint in problems[0]


def test_a_missing_or_unresolvable_entry_is_caught() -> None:
    items = [i for i in ITEMS if i.id != "4.4.3"]
    assert registry_problems(items, all_scenarios()) == ["4.4.3: tagged on a scenario but not in the registry"]
    broken = dataclasses.replace(BY_ID["1.1.1"], check="ops_checks.checks.s1_preconditions.infra:no_such_check")
    assert "does not resolve" in (check_binds(broken) or "")
    wrong_args = dataclasses.replace(BY_ID["1.1.3"], check_args=("a", "b"))
    assert "cannot be called" in (check_binds(wrong_args) or "")


# ---------------------------------------------------------------- the When step calls the registry's check


def _step_index() -> dict[str, tuple[str, set[str]]]:
    """Every Given/When step pattern of the step modules → (kind, the library functions its body reaches).

    A step reaches what its body calls ("module:function", through the step module's ``from ops_checks... import``
    names), and what the same module's (or common.py's) functions and fixtures it calls or takes as arguments call."""
    from ops_checks.pytest_plugin import steps_dir

    modules = {p: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(steps_dir().glob("*.py"))}
    common = next(t for p, t in modules.items() if p.stem == "common")

    def local_functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
        return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}

    def imported(tree: ast.Module) -> dict[str, str]:
        names: dict[str, str] = {}
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ops_checks"):
                for alias in node.names:
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        return names

    def calls(func: ast.FunctionDef, names: dict[str, str]) -> set[str]:
        out: set[str] = set()
        for node in ast.walk(func):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                base = node.func.value
                if isinstance(base, ast.Name) and base.id in names:
                    out.add(f"{names[base.id]}:{node.func.attr}")
        return out

    index: dict[str, tuple[str, set[str]]] = {}
    shared = local_functions(common)
    for tree in modules.values():
        names = imported(tree) | imported(common)
        funcs = shared | local_functions(tree)
        for func in local_functions(tree).values():
            for deco in func.decorator_list:
                if not (
                    isinstance(deco, ast.Call)
                    and isinstance(deco.func, ast.Name)
                    and deco.func.id in ("given", "when")
                    and deco.args
                ):
                    continue
                arg = deco.args[0]
                if isinstance(arg, ast.Call):  # parsers.parse("...")
                    arg = arg.args[0]
                assert isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                used = {a.arg for a in func.args.args} | {
                    n.func.id for n in ast.walk(func) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                }
                reached = calls(func, names)
                for helper in used & set(funcs) - {func.name}:
                    reached |= calls(funcs[helper], names)
                index[arg.value] = (deco.func.id, reached)
        for node in tree.body:  # steps made by common.drill_record_steps(fixture, reached, reads, live_check)
            call = node.value if isinstance(node, ast.Expr) else None
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "drill_record_steps":
                _, given_text, reads, live = call.args
                assert isinstance(given_text, ast.Constant) and isinstance(reads, ast.Tuple)
                if isinstance(live, ast.Name):  # a function of the step module that calls the live check
                    live_reaches = calls(funcs[live.id], names)
                else:
                    assert isinstance(live, ast.Attribute) and isinstance(live.value, ast.Name)
                    live_reaches = {f"{names[live.value.id]}:{live.attr}"}
                index[given_text.value] = ("given", set())
                for text in reads.elts:
                    assert isinstance(text, ast.Constant)
                    index[text.value] = ("when", live_reaches)
    return index


def _step_for(index: dict[str, tuple[str, set[str]]], kind: str, text: str) -> set[str] | None:
    return _step_match(index, kind, text)[0]


def _step_match(
    index: dict[str, tuple[str, set[str]]], kind: str, text: str
) -> tuple[set[str] | None, tuple[str, ...] | None]:
    """(what the step reaches, the values its pattern parses out of ``text``, None for a literal step)."""
    for pattern, (k, reached) in index.items():
        if k != kind:
            continue
        if pattern == text:
            return reached, None
        if (m := parse.parse(pattern, text)) is not None:
            return reached, (*m.fixed, *m.named.values())
    return None, None


#: library functions that run the item's registry check themselves (a drill item on live: ``Item.bind_check``)
RUNS_THE_REGISTRY_CHECK = {"ops_checks.drills.base:item_result", "ops_checks.drills.sop_drills:outcome"}


def test_each_scenarios_when_step_calls_the_registrys_check() -> None:
    """The When step reaches Item.check (or a library function that runs it from the registry), and the values a
    parameterised step reads from the scenario (a table, a secret's name, the item's own row) are the registry's
    check_args."""
    index = _step_index()
    wrong = {}
    for sc in all_scenarios():
        item = BY_ID[sc.items[0]]
        reached, values = _step_match(index, "when", sc.whens[0])
        if reached is None or not ({item.check} | RUNS_THE_REGISTRY_CHECK) & reached:
            wrong[item.id] = (item.check, sorted(reached or ()))
        elif values is not None and values != item.check_args:
            wrong[item.id] = (item.check_args, values)
    assert wrong == {}


def test_each_given_step_calls_the_registrys_precondition() -> None:
    index = _step_index()
    wrong = {}
    for pattern, make in GIVEN_STEPS.items():
        reached = _step_for(index, "given", pattern.replace("{name}", "x"))
        params = [p for p in inspect.signature(make).parameters]
        func = make(*["x"] * len(params)).func
        if reached is None or func not in reached:
            wrong[pattern] = (func, sorted(reached or ()))
    assert wrong == {}
