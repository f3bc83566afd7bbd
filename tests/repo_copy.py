"""A copy of this repository's source tree, for tests that build from it or change it (the wheel, adding an item):
everything tracked or not, less what a checkout grows (virtualenvs, tools, caches, reports, build output)."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOT_SOURCE = shutil.ignore_patterns(
    ".venv",
    ".git",
    ".tools",
    "reports",
    "build",
    "*.egg-info",
    "__pycache__",
    "node_modules",
    ".ruff_cache",
    ".pytest_cache",
    ".mypy_cache",
    "incidents",
)


def copy_repo(dst: Path) -> Path:
    """The source tree copied to ``dst`` (which must not exist yet)."""
    shutil.copytree(REPO, dst, ignore=NOT_SOURCE)
    return dst
