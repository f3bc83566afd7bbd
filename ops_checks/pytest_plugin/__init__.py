"""The pytest side of ops_checks: the verdict plugin, the target fixtures, the steps and the feature files.

pytest loads ``ops_checks.pytest_plugin.plugin`` through the ``pytest11`` entry point (as pytest-testinfra does),
so ``pytest -m section_1_3`` works from the repository and ``opscheck preflight`` runs the installed package's
features from any directory. This ``__init__`` imports nothing from pytest: the CLI reads the paths below.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PLUGIN = "ops_checks.pytest_plugin.plugin"  # also the pytest11 entry point's name: loaded once, however named


def package_dir() -> Path:
    """This package's directory (package data, resolved through importlib.resources)."""
    return Path(str(resources.files(__name__)))


def features_dir() -> Path:
    """The ``.feature`` files, one per runbook checklist (package data)."""
    return package_dir() / "features"


def steps_dir() -> Path:
    """The step modules and ``test_runbook.py``, which binds the feature files to pytest."""
    return package_dir() / "steps"
