"""The README documents every environment variable the code reads, and the two set-up commands."""

from __future__ import annotations

import re
from pathlib import Path

from ops_checks.access.config import ENV_VARS
from ops_checks.core import settings

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
READS = re.compile(r"(?:\.value|\.secret|env\.get|environ\.get|getenv)\(\s*\"([A-Z][A-Z0-9_]{2,})\"")


def test_every_env_var_is_documented() -> None:
    assert [name for name in ENV_VARS if f"`{name}`" not in README] == []


def test_every_env_var_the_code_reads_is_documented() -> None:
    read = {m for p in (REPO / "ops_checks").rglob("*.py") for m in READS.findall(p.read_text(encoding="utf-8"))}
    generic = ("OPSCHECK_SANDBOX_",)  # documented as a family
    assert sorted(n for n in read if f"`{n}`" not in README and not n.startswith(generic)) == []


def test_two_commands_and_exit_codes() -> None:
    assert "make preflight" in README and "make test" in README
    for code in ("| 0 |", "| 1 |", "| 2 |"):
        assert code in README


def test_the_thresholds_table_is_the_settings_model() -> None:
    """One table, the model's names, defaults, bounds and meanings (``python -m ops_checks.core.settings``)."""
    assert settings.readme_table() in README
