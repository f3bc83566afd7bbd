"""The README documents every environment variable the code reads, and the two set-up commands."""

from __future__ import annotations

from pathlib import Path

from ops_checks.config import ENV_VARS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_env_var_is_documented() -> None:
    assert [name for name in ENV_VARS if f"`{name}`" not in README] == []


def test_two_commands_and_exit_codes() -> None:
    assert "make preflight" in README and "make test" in README
    for code in ("| 0 |", "| 1 |", "| 2 |"):
        assert code in README
