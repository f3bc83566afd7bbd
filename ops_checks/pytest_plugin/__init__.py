"""The pytest side of ops_checks: the verdict plugin and the target fixtures, and where the feature files and the
step definitions are.

pytest loads ``ops_checks.pytest_plugin.plugin`` through the ``pytest11`` entry point (as pytest-testinfra does),
so ``pytest -m section_1_3`` works from the repository and ``opscheck preflight`` runs the installed package's
features from any directory. This ``__init__`` imports nothing from pytest: the CLI reads the paths below.

Where the Gherkin and the steps live: in a checkout, at the repository's top level (``features/``, ``steps/``:
the design card's layout, what operators and auditors review); in the wheel, inside this package (the build maps
them here: ``pyproject.toml``'s ``force-include``). Either way the steps import as ``ops_checks.pytest_plugin.steps``:
in a checkout that package is bound to the top-level ``steps/`` when this package is imported.
"""

from __future__ import annotations

import importlib.util
import sys
from importlib import resources
from pathlib import Path

PLUGIN = "ops_checks.pytest_plugin.plugin"  # also the pytest11 entry point's name: loaded once, however named
STEPS_PACKAGE = f"{__name__}.steps"


def package_dir() -> Path:
    """This package's directory (package data, resolved through importlib.resources)."""
    return Path(str(resources.files(__name__)))


def checkout_dir() -> Path | None:
    """The repository this package runs from (its ``pyproject.toml`` beside ``ops_checks/``), or None (a wheel)."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "steps" / "__init__.py").is_file() else None


def features_dir() -> Path:
    """The ``.feature`` files, one per runbook section."""
    root = checkout_dir()
    return root / "features" if root is not None else package_dir() / "features"


def steps_dir() -> Path:
    """The step modules and ``test_runbook.py``, which binds the feature files to pytest."""
    root = checkout_dir()
    return root / "steps" if root is not None else package_dir() / "steps"


def _bind_checkout_steps() -> None:
    root = checkout_dir()
    if root is None or STEPS_PACKAGE in sys.modules:
        return
    init = root / "steps" / "__init__.py"
    spec = importlib.util.spec_from_file_location(STEPS_PACKAGE, init, submodule_search_locations=[str(init.parent)])
    if spec is None or spec.loader is None:  # pragma: no cover - a file that exists always has a spec
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules[STEPS_PACKAGE] = module
    spec.loader.exec_module(module)


_bind_checkout_steps()
