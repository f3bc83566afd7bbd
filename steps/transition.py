"""Steps for runbook §3 (DRY_RUN → LIVE): a drill on a disposable sandbox; read-only audit-trail checks on live."""

from __future__ import annotations

import pytest
from pytest_bdd import given

from ops_checks.access.config import Target
from ops_checks.checks.s3_transition import transition_audit
from ops_checks.drills import transition_drill
from ops_checks.pytest_plugin.disposables import drill_fixture
from ops_checks.pytest_plugin.judging import drill_record_steps, require
from ops_checks.pytest_plugin.plugin import WAIVERS
from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import apply as apply_faults


@drill_fixture("transition_drills", lambda item: item.startswith("3."))
def _transition_drill(config: pytest.Config, sandbox: Sandbox, drill_sb: Sandbox) -> transition_drill.Drill:
    """One disposable sandbox on the session's Postgres server (env file written, broken like the session's):
    pre-transition preflight (under the run's waivers), gate, transition to LIVE and back. The session's sandbox
    stays DRY_RUN."""
    transition_drill.write_env_file(drill_sb, drill_sb.workdir / transition_drill.ENV_FILE)
    apply_faults(drill_sb, list(config.getoption("--sandbox-fault")))
    active, _ = config.stash[WAIVERS]
    return transition_drill.run(drill_sb, sandbox.workdir / "transition", waivers=active)


@given("the pre-transition requirements are met")
def requirements_met(target: Target, transition_drills: transition_drill.Drill | None) -> None:
    if transition_drills is not None:
        require(target, transition_drills.refusal())


drill_record_steps(
    "transition_drills",
    "the transition reached this row",
    ("pre-transition requirement {item} is checked", "checklist row {item} is read from the transition record"),
    transition_audit.check,
)
