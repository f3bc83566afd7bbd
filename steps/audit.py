"""Steps for runbook §7 (audit extraction): the export's working directory, and the export 7.2.2 verifies."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_bdd import given

from ops_checks.access.config import Target
from ops_checks.procedures import audit_files
from ops_checks.pytest_plugin.judging import require


@pytest.fixture
def audit_workdir() -> Iterator[Path]:
    """Exports and reports go here, outside the report directory, and are removed when the item ends."""
    with tempfile.TemporaryDirectory(prefix="opscheck-audit-") as d:
        yield Path(d)


@given("an audit export of the last day in a temporary directory", target_fixture="audit_export_dir")
def audit_export_dir(target: Target, audit_workdir: Path) -> Path:
    directory, problem = audit_files.prepare_export(target, audit_workdir)
    require(target, problem)
    assert directory is not None
    return directory
