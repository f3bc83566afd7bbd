"""The library stays plain: only the plugin subpackage imports pytest, pytest-bdd or allure, and nothing in the
library imports the plugin (imports point down: the plugin uses the library, never the reverse)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ops_checks"
PLUGIN = PACKAGE / "pytest_plugin"
TEST_FRAMEWORKS = ("pytest", "pytest_bdd", "allure", "allure_commons", "_pytest")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def library_modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if PLUGIN not in p.parents]


def test_the_library_imports_no_test_framework() -> None:
    offenders = {str(p.relative_to(PACKAGE)): sorted(n for n in _imports(p) if n.split(".")[0] in TEST_FRAMEWORKS)
                 for p in library_modules()}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_library_never_imports_the_plugin() -> None:
    offenders = [str(p.relative_to(PACKAGE)) for p in library_modules()
                 if any(n.startswith("ops_checks.pytest_plugin") for n in _imports(p))]
    # the CLI is the top layer, beside the plugin: it asks the plugin package where its steps and features are
    allowed = {"cli.py", "cli_serve.py"}
    assert sorted(set(offenders) - allowed) == []
