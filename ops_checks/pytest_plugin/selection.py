"""A preflight's selection, worked out before anything starts: which runbook items ``--features`` globs, a ``-m``
marker expression and ``--cadence`` pick, from the same feature files, tags and markers the pytest run binds.

- ``--features GLOBS`` (comma-separated) match files of ``features_dir()``; ``steps/test_runbook.py`` binds the same
  files (``feature_files``).
- ``-m EXPR`` is evaluated by pytest's own expression engine against each scenario's markers: its feature's tags and
  its own (what pytest-bdd applies), every name checked against the markers the plugin registers (``markers()``,
  as ``--strict-markers`` does).
- Weekly and monthly prevention items drop out unless ``--cadence`` names their cadence (the plugin's
  ``_deselect_cadences``).

``resolve`` raises ``SelectionError`` (one line) when the selection is malformed or picks no item, so ``opscheck
preflight`` can say so and exit 2 before a run directory, a sandbox or a pytest process exists. pytest's expression
module is imported only then: a preflight without a selection pays nothing for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ops_checks import catalogue
from ops_checks.catalogue import cadence, id_for_tag
from ops_checks.pytest_plugin import features_dir
from ops_checks.verdict.verdict import sort_key

#: the markers every run knows besides the items' and sections' own (registered by the plugin)
FIXED_MARKERS: dict[str, str] = {
    "blocker": "item blocks GO when not passed",
    "warning": "item reported, never blocks",
    "mutating": "writes to the target: live needs --allow-mutations",
    "slow": "slower test (real Allure, headless browser, fault matrix)",
    "fault_matrix": "runs the preflight against a broken sandbox",
    "cadence_weekly": "weekly prevention-checklist item: runs only with --cadence weekly",
    "cadence_monthly": "monthly prevention-checklist item: runs only with --cadence monthly",
}


class SelectionError(ValueError):
    """The selection is malformed or picks nothing; ``str()`` is one line for the operator."""


def section_marker(section: str) -> str:
    return f"section_{section.split(' ')[0].replace('.', '_')}"


def markers() -> dict[str, str]:
    """Every marker name a run registers (name → help text): each item's tag, each section, the registry's topics
    (``kill_switch``: the plugin puts them on the scenarios), the fixed ones."""
    out = {i.tag: f"{i.runbook} {i.id} {i.title}" for i in catalogue.ITEMS}
    for section in sorted({i.section.split(" ")[0] for i in catalogue.ITEMS}):
        out[section_marker(section)] = f"runbook section {section}"
    return out | dict(catalogue.TOPICS) | FIXED_MARKERS


def patterns(features: str | None) -> list[str]:
    return [p.strip() for p in (features or "").split(",") if p.strip()]


def feature_files(features: str | None, directory: Path | None = None) -> list[Path]:
    """The feature files ``--features`` names (every file without it); SelectionError when the globs match none."""
    directory = directory or features_dir()
    globs = patterns(features)
    if not globs:
        return sorted(directory.glob("*.feature"))
    files = sorted({f for pattern in globs for f in directory.glob(pattern) if f.suffix == ".feature"})
    if not files:
        raise SelectionError(
            f"--features {','.join(globs)!r} matches no feature file in {directory} "
            f"(e.g. '1_1_*.feature', 'sop_*.feature')"
        )
    return files


@dataclass(frozen=True)
class Scenario:
    item: str  # the runbook item id
    markers: frozenset[str]  # the feature's tags and the scenario's own


_TAGS = re.compile(r"@(\S+)")


def scenarios(files: Iterable[Path]) -> list[Scenario]:
    """Each scenario's item and markers, read as pytest-bdd binds them: the Gherkin this suite writes (tags on
    their own lines before ``Feature:`` or ``Scenario:``), and the item's topics the plugin adds."""
    out: list[Scenario] = []
    for path in files:
        feature: set[str] = set()
        pending: set[str] = set()
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if line.startswith("@"):
                pending |= set(_TAGS.findall(line.split("#", 1)[0]))
            elif line.startswith("Feature:"):
                feature, pending = pending, set()
            elif line.startswith(("Scenario:", "Scenario Outline:", "Example:")):
                tags = feature | pending
                item = next((i for i in (id_for_tag(t) for t in sorted(tags)) if i), None)
                if item is not None:
                    topics = catalogue.BY_ID[item].topics if item in catalogue.BY_ID else ()
                    out.append(Scenario(item, frozenset(tags | set(topics))))
                pending = set()
    return out


def _cadences(s: Scenario) -> set[str]:
    return {c for c in cadence.OPTIONAL if f"cadence_{c}" in s.markers}


def resolve(features: str | None, markexpr: str | None, cadence_text: str | None = None) -> list[str]:
    """The item ids the selection picks, in runbook order; SelectionError (one line) when it is malformed or picks
    none. ``cadence_text`` is ``--cadence`` as given (already validated)."""
    picked = scenarios(feature_files(features))
    if markexpr and markexpr.strip():
        from _pytest.mark.expression import Expression  # pytest's own -m engine, imported only for a selection

        try:
            expr = Expression.compile(markexpr)
        except SyntaxError as exc:
            raise SelectionError(
                f"-m {markexpr!r} is not a marker expression: {exc.msg} at column {exc.offset}"
            ) from None
        unknown = sorted(expr.idents() - set(markers()))
        if unknown:
            raise SelectionError(
                f"-m {markexpr!r}: unknown marker(s) {', '.join(unknown)} (markers: rb_<item>, "
                "section_<n>, kill_switch, blocker, warning, mutating, cadence_weekly, cadence_monthly)"
            )

        def matches(tags: frozenset[str]) -> bool:
            return expr.evaluate(lambda name, /, **kwargs: name in tags and not kwargs)

        picked = [s for s in picked if matches(s.markers)]
    chosen = cadence.parse(cadence_text)
    kept = [s for s in picked if not _cadences(s) or _cadences(s) & chosen]  # as the plugin deselects them
    if not kept:
        asked = [f"--features {','.join(patterns(features))!r}"] if patterns(features) else []
        asked += [f"-m {markexpr!r}"] if markexpr and markexpr.strip() else []
        hint = ""
        if picked:  # it picked only weekly/monthly items, and --cadence does not ask for them
            needed = sorted({c for s in picked for c in _cadences(s)})
            hint = f" (it picks only {'/'.join(needed)} prevention items: add --cadence {','.join(needed)})"
        raise SelectionError(f"{' and '.join(asked) or 'the selection'} selects no runbook item{hint}")
    return sorted({s.item for s in kept}, key=sort_key)
