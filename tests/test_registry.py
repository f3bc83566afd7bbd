"""The item registry (ops_checks/catalogue/items): one declaration per item, and the readers that used to keep their own
tables (cadence, categories, the §3 drill's items, the kill-switch items) read it."""

from __future__ import annotations

import ast
import functools
import importlib
import pkgutil
import subprocess
import sys

import pytest

from ops_checks import catalogue
from ops_checks.catalogue import BY_ID, ITEMS, Item, cadence, model
from ops_checks.checks.s3_transition import transition_gate
from ops_checks.cli import serve as cli_serve
from ops_checks.drills import transition_drill
from ops_checks.pytest_plugin import selection


def test_the_items_of_a_section_share_one_failure_category() -> None:
    """Reports group failures by category: a section's items are one kind of runbook promise."""
    by_section: dict[str, set[str]] = {}
    for item in ITEMS:
        by_section.setdefault(item.section, set()).add(item.category)
    assert {s: c for s, c in by_section.items() if len(c) != 1} == {}
    assert BY_ID["1.3.1"].category == model.SAFETY_GATE and BY_ID["7.5.1"].category == model.DATA_INTEGRITY


def test_every_item_declares_its_cadence_as_its_id_says() -> None:
    for item in ITEMS:
        parts = item.id.split(".")
        by_id = parts[1] if len(parts) > 2 and parts[0] == "sop" and parts[1] in ("weekly", "monthly") else None
        assert (item.id, item.cadence, cadence.of_item(item.id)) == (item.id, by_id, by_id)
    assert cadence.of_item("sop.daily.1") is None and cadence.of_item("no.such.item") is None


def test_serve_reads_the_mutating_items_from_the_registry() -> None:
    ids = cli_serve.mutating_ids()
    assert ids == {i.id for i in ITEMS if i.mutating} and len(ids) == 16
    assert {"1.3.1", "1.4.1", "1.6.2", "4.4.1", "4.5.1", "7.4.1"} <= ids and "1.1.1" not in ids


def test_serve_refuses_a_registry_without_mutating_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ops_checks.catalogue.ITEMS", tuple(i for i in ITEMS if not i.mutating))
    with pytest.raises(RuntimeError, match="no mutating item"):
        cli_serve.mutating_ids()


def test_the_pre_transition_preflight_checks_every_section_1_and_2_1_to_2_3_blocker_in_registry_order() -> None:
    """The rule the old hand-kept table followed, derived: a new §1 or §2.1–2.3 blocker joins it by itself, then
    §4.4's checklist and §8.6's checks, as the registry files them."""
    expected = tuple(
        i.id
        for i in ITEMS
        if i.severity == "blocker"
        and i.section.split(" ")[0] in ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2.1", "2.2", "2.3")
    )
    assert transition_drill.PRECHECK_ITEMS == expected and {"1.1.1", "1.3.1", "2.3.1"} <= set(expected)
    kill_switch, drift = (tuple(i.id for i in catalogue.items_in(s)) for s in ("4.4", "8.6"))
    assert kill_switch == transition_gate.KILL_SWITCH_ITEMS == ("4.4.1", "4.4.2", "4.4.3", "4.4.4", "4.4.5", "4.4.6")
    assert drift == transition_gate.DRIFT_ITEMS and drift[0] == "8.6.1" and len(drift) == 5
    assert transition_drill.REGISTRY_ITEMS == (*expected, *kill_switch, *drift)


def test_the_pre_transition_preflight_can_judge_every_item_it_takes_from_the_registry() -> None:
    """The §3 drill calls Item.check and the preconditions itself: every run-time value they need is one it supplies
    (``run_id``, ``exchange_orders``; the measurement ``m`` for §8.6), and every precondition is a function (a
    drill's own Given is step code, which the drill never runs)."""
    supplied = {"run_id", "exchange_orders", "m"}
    for item_id in (*transition_drill.PRECHECK_ITEMS, *transition_gate.DRIFT_ITEMS):
        item = BY_ID[item_id]
        assert set(item.needs_fixtures()) <= supplied, item_id
        for given in item.preconditions:
            assert given.func and set(given.needs_fixtures()) <= supplied, (item_id, given)
        item.bind_check(**dict.fromkeys(supplied))  # resolves, and its arguments fit
        transition_drill.preconditions_of(item_id, **dict.fromkeys(supplied))


def test_the_registry_files_the_kill_switch_items_under_their_topic() -> None:
    """``pytest -m kill_switch`` (DESIGN.md §1): the items that exercise the kill switch, a marker the plugin
    registers and the CLI's selection knows."""
    ids = [i.id for i in catalogue.items_about(catalogue.KILL_SWITCH)]
    assert ids == ["1.3.1", *transition_gate.KILL_SWITCH_ITEMS, "4.5.1", "5.2.1", "sop.7.1"]
    assert catalogue.KILL_SWITCH in selection.markers()
    assert selection.resolve(None, "kill_switch") == ids
    assert selection.resolve(None, "kill_switch and section_4_4") == list(transition_gate.KILL_SWITCH_ITEMS)


def test_items_in_a_section_match_whole_section_numbers() -> None:
    assert [i.id for i in catalogue.items_in("1.1")] == [f"1.1.{n}" for n in range(1, 7)]
    assert {i.section.split(" ")[0] for i in catalogue.items_in("4")} == {"4.1", "4.4", "4.5"}
    assert catalogue.items_in("1.1.1") == () and catalogue.items_in("sop.7") == (BY_ID["sop.7.1"],)


def test_a_bound_check_passes_fixed_and_run_time_arguments() -> None:
    seen: list[tuple[object, ...]] = []
    module = type(sys)("fake_checks")
    module.with_target = lambda t, table, run_id: seen.append((t, table, run_id))  # type: ignore[attr-defined]
    module.without_target = lambda m, name: seen.append((m, name))  # type: ignore[attr-defined]
    module.var_positional = lambda t, *tables: seen.append((t, *tables))  # type: ignore[attr-defined]
    sys.modules["fake_checks"] = module
    try:
        item = Item(
            "9.9.9",
            "x",
            "9.9 X",
            category=model.CONFIGURATION,
            check="fake_checks:with_target",
            when="x is checked",
            check_args=("tbl",),
            check_needs=("run_id=the_run",),
        )
        assert item.needs_fixtures() == {"run_id": "the_run"}
        item.bind_check(run_id="r1")("T")
        given = model.Given("fake_checks:without_target", ("WARNING",), ("m=drift_measurement",), text="x")
        assert given.needs_fixtures() == {"m": "drift_measurement"}
        given.bind(m="M")("T")
        model.Given("fake_checks:var_positional", ("a", "b"), text="y").bind()("T")
        with pytest.raises(TypeError, match="needs run_id"):
            item.bind_check()
    finally:
        del sys.modules["fake_checks"]
    assert seen == [("T", "tbl", "r1"), ("M", "WARNING"), ("T", "a", "b")]


def test_an_item_with_an_unknown_category_cadence_or_topic_or_no_when_text_is_refused() -> None:
    item = functools.partial(Item, "9.9.9", "x", "9.9 X", check="m:f", when="x is checked")
    with pytest.raises(ValueError, match="unknown category"):
        item(category="weird:")
    with pytest.raises(ValueError, match="unknown cadence"):
        item(category=model.CONFIGURATION, cadence="yearly")
    with pytest.raises(ValueError, match="unknown topic"):
        item(category=model.CONFIGURATION, topics=("killswitch",))
    with pytest.raises(ValueError, match="no When text"):
        item(category=model.CONFIGURATION, when=" ")


def test_the_registry_imports_no_check_module() -> None:
    """Checks are named, not imported: loading the registry leaves the check modules unloaded (cheap, low layer)."""
    code = "import sys, ops_checks.catalogue as c; print(sorted(m for m in sys.modules if m.startswith('ops_checks')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(ast.literal_eval(out))
    assert loaded <= {
        "ops_checks",
        "ops_checks.catalogue",
        "ops_checks.catalogue.items",
        "ops_checks.catalogue.model",
        "ops_checks.catalogue.rotation_periods",
        *(f"ops_checks.catalogue.items.{m}" for m in _item_modules()),
    }


def _item_modules() -> list[str]:
    return [m.name for m in pkgutil.iter_modules(importlib.import_module("ops_checks.catalogue.items").__path__)]


def test_a_remedy_reruns_the_item_by_its_own_marker() -> None:
    """The re-run command a remedy prints selects the item: ``-m sop_daily_1`` for an SOP item (never rb_sop_…)."""
    from ops_checks.verdict import verdict

    for item_id in ("1.4.3", "sop.daily.1"):
        text = verdict._default_remedy(verdict.outcome(item_id, "failed", "x", "sandbox"))
        assert (
            text.endswith(f"opscheck preflight -m {BY_ID[item_id].tag}") and BY_ID[item_id].tag in selection.markers()
        )
