"""The registry drives the scenarios: the steps and markers every item declares (``ops_checks/catalogue/items``).

- For every item a When step with its exact text (``Item.when``) that calls its check, bound with its fixed
  arguments and the run-time values its fixtures supply (``Item.check_needs``: ``"parameter=fixture"``); for an item
  with a drill (``Item.drill``), one that reads the item's result from the drill its fixture ran (None on live: the
  reader then runs the item's check). The result becomes the ``result`` fixture the Then step judges.
- For every precondition (``Item.preconditions``), a Given step with its text (``Given.text``): a problem makes the
  item *not verified* (``judging.require``). A Given answered per session names its fixture (``Given.fixture``: the
  database's ``database_problem``); one resting on a drill takes the drill from its fixture (``needs``).
- Each scenario carries its item's topics as markers (``pytest -m kill_switch``), added before ``-m`` selects.

So a new item needs no step code: its registry entry, its scenario, its check (and a fault to prove it fails).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from pytest_bdd import given, when

from ops_checks.access.config import Target
from ops_checks.catalogue import BY_ID, ITEMS, Given, Item
from ops_checks.core.result import CheckResult
from ops_checks.pytest_plugin import step_lookup
from ops_checks.pytest_plugin.judging import require
from ops_checks.pytest_plugin.plugin import runbook_item


def _runtime(fixtures: dict[str, str], request: pytest.FixtureRequest) -> dict[str, object]:
    return {param: request.getfixturevalue(fixture) for param, fixture in fixtures.items()}


def when_step(item: Item) -> Callable[[Target, pytest.FixtureRequest], CheckResult]:
    """The item's When step: its check, called on the target with the values its fixtures supply; or, when the item
    has a drill, the drill's reader, handed the value of the drill's fixture."""
    fixtures = item.needs_fixtures()
    drill = item.drill

    def step(target: Target, request: pytest.FixtureRequest) -> CheckResult:
        runtime = _runtime(fixtures, request)
        if drill is not None:
            read: CheckResult = item.read_drill(target, request.getfixturevalue(drill.fixture), **runtime)
            return read
        result: CheckResult = item.bind_check(**runtime)(target)
        return result

    step.__name__ = step.__qualname__ = f"when_{item.tag}"
    step.__doc__ = f"{item.id} {item.title}: {drill.read + ' of ' + drill.fixture if drill else item.check}"
    return step


def given_step(precondition: Given) -> Callable[[Target, pytest.FixtureRequest], None]:
    """The precondition's Given step: its problem, if any, makes the item not verified."""
    fixtures = precondition.needs_fixtures()

    def step(target: Target, request: pytest.FixtureRequest) -> None:
        if precondition.fixture is not None:
            problem = request.getfixturevalue(precondition.fixture)
        else:
            problem = precondition.bind(**_runtime(fixtures, request))(target)
        require(target, problem, request)

    step.__name__ = step.__qualname__ = f"given_{precondition.func.rpartition(':')[2]}"
    step.__doc__ = f"{precondition.text}: {precondition.func}{precondition.args or ''}"
    return step


def steps_of(items: Iterable[Item]) -> tuple[dict[str, Given], dict[str, Item]]:
    """The Given steps (text → precondition) and When steps (text → item) the registry defines. ValueError when two
    declarations share a text but differ: pytest-bdd could not tell them apart."""
    givens: dict[str, Given] = {}
    whens: dict[str, Item] = {}
    for item in items:
        for pre in item.preconditions:
            if givens.setdefault(pre.text, pre) != pre:
                raise ValueError(f"two Given preconditions say {pre.text!r}: {givens[pre.text]} and {pre}")
        if whens.setdefault(item.when, item) is not item:
            raise ValueError(f"{whens[item.when].id} and {item.id} have the same When text {item.when!r}")
    return givens, whens


def _register() -> None:
    """pytest-bdd keeps a step as a fixture in the module that defines it: ``stacklevel=2`` names this module."""
    givens, whens = steps_of(ITEMS)
    for text, pre in givens.items():
        given(text, stacklevel=2)(given_step(pre))
    for text, item in whens.items():
        when(text, target_fixture="result", stacklevel=2)(when_step(item))


_register()
step_lookup.install()  # pytest-bdd finds these steps through an index (same result, ~10x less work)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each scenario's topics as markers, before pytest's ``-m`` deselects (``pytest -m kill_switch``)."""
    for node in items:
        rb = runbook_item(node)
        for topic in BY_ID[rb].topics if rb else ():
            node.add_marker(topic)
