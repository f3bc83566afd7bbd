"""Traceability: every checklist id of the runbook sections we cover is on exactly one scenario, and back."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from ops_checks.catalogue import BY_ID, ITEMS, id_for_tag
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
