"""How a scenario's steps judge its item: a Given that does not hold makes the item *not verified* (``require``), and
the Then step puts the item's result on the test and mirrors its status in pytest's outcome (``runbook_expects``).
"""

from __future__ import annotations

import dataclasses

import allure
import pytest
from pytest_bdd import parsers, then

from ops_checks.access.config import Target
from ops_checks.checks import givens
from ops_checks.core.result import CheckResult, Status, not_verified
from ops_checks.pytest_plugin.plugin import CURRENT, PROBED, RESULT_KEY

MIME = {
    "text/plain": allure.attachment_type.TEXT,
    "application/json": allure.attachment_type.JSON,
    "text/csv": allure.attachment_type.CSV,
}


class CheckError(Exception):
    """The check could not run to its end (Allure: broken; the verdict: error)."""


def attach(target: Target, result: CheckResult) -> None:
    """Every attachment passes the redactor again, whatever the check already did."""
    allure.attach(
        target.redactor.text(f"observed: {result.observed}\nexpected: {result.expected}\nreason: {result.summary()}"),
        name="result",
        attachment_type=MIME["text/plain"],
    )
    for ev in result.evidence:
        allure.attach(
            target.redactor.text(ev.content),
            name=ev.name,
            attachment_type=MIME.get(ev.mime, allure.attachment_type.TEXT),
        )


def require(target: Target, problem: CheckResult | str | None, request: pytest.FixtureRequest | None = None) -> None:
    """A Given that does not hold: the item is *not verified* (a structured result: its cause and the items it
    rests on), never passed. ``problem`` None: it holds."""
    if problem is None or problem == "":
        return
    result = problem if isinstance(problem, CheckResult) else not_verified(problem)
    if result.ok:
        return
    shown = dataclasses.replace(result, reason=target.redactor.text(result.summary()))
    node = request.node if request is not None else CURRENT.get()  # steps without a request: the plugin's record
    if node is not None:
        node.stash[RESULT_KEY] = shown
    pytest.skip(shown.reason)


@pytest.fixture(scope="session")
def database_problem(target: Target, request: pytest.FixtureRequest) -> CheckResult | None:
    """The registry's "the database is reachable" (``catalogue.model.DATABASE``), probed once per session: an
    unreachable host costs one connect timeout, not one per item. On live the up-front reachability probe has
    already asked (``PROBED``), so its answer is used, not asked again."""
    probed = request.config.stash.get(PROBED, {})
    if "database" in probed:
        found = probed["database"]
        return givens.database_blocked(target, found) if found else None
    return givens.database_unreachable(target)


@then(parsers.parse('the runbook expects "{expected}"'))
def runbook_expects(target: Target, result: CheckResult, expected: str, request: pytest.FixtureRequest) -> None:
    """The item's result goes on the test item as it is shown (its reason redacted): the plugin builds the verdict
    from it. A failed result also fails the test, its message led by the failure category (Allure groups by it)."""
    attach(target, result)
    shown = dataclasses.replace(result, reason=target.redactor.text(result.summary()))
    request.node.stash[RESULT_KEY] = shown
    # the status is the result's own; pytest's outcome only mirrors it for JUnit and Allure (no text is parsed back)
    if shown.status in (Status.NOT_VERIFIED, Status.NOT_APPLICABLE):
        pytest.skip(shown.reason)
    if shown.status is Status.ERROR:
        raise CheckError(shown.reason)
    if not shown.ok:  # an explicit raise: no assertion introspection dumping the result object into reports
        raise AssertionError(shown.reason)
