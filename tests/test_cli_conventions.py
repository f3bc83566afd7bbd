"""Issue 15: the preflight CLI follows InSpec/Goss conventions and tells the truth about partial runs."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ops_checks import __version__, catalogue
from ops_checks.access.config import live_target, load_env
from ops_checks.cli import errors as cli_errors
from ops_checks.cli import evidence
from ops_checks.cli import output as cli_output
from ops_checks.cli import runbook as cli_runbook
from ops_checks.cli.app import app, mark_interrupted
from ops_checks.pytest_plugin import selection
from ops_checks.verdict import verdict
from tests.preflight_runner import REPO

pytestmark = pytest.mark.slow


def opscheck(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops_checks.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_version() -> None:
    r = opscheck("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"opscheck {__version__}"


def test_a_feature_selection_is_partial_exit_3(tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    r = opscheck("preflight", "--no-html", "--features", "1_1*.feature", "--reports", str(tmp_path), env=shared_pg_env)
    assert r.returncode == 3, r.stdout + r.stderr
    data = json.loads(next(tmp_path.glob("*/verdict.json")).read_text())
    assert data["verdict"] == "PARTIAL" and data["selection"]["features"] == "1_1*.feature"
    assert "1.2.1" in data["selection"]["left_out"]
    out = r.stdout + r.stderr
    assert out.count("VERDICT:") == 1 and "VERDICT: PARTIAL" in out
    assert " passed in " not in out and "deselected" not in out  # pytest's own summary is not shown


def test_a_partial_run_is_never_signed(tmp_path: Path) -> None:
    r = opscheck(
        "preflight", "--features", "1_1*.feature", "--operator", "A", "--witness", "B", "--reports", str(tmp_path)
    )
    assert r.returncode == 2 and "never signed" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_format_json_prints_one_document_on_stdout(tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    r = opscheck(
        "preflight",
        "--no-html",
        "--format",
        "json",
        "-m",
        "section_1_1",
        "--features",
        "1_1*.feature",
        "--reports",
        str(tmp_path),
        env=dict(shared_pg_env, NO_COLOR="1"),
    )
    doc = json.loads(r.stdout)  # the whole of stdout is the document; human lines went to stderr
    assert doc["verdict"] == "PARTIAL" and doc["counts"]["total"] == 6
    assert "VERDICT: PARTIAL" in r.stderr and "\033[" not in r.stderr


def test_bad_format_exits_2() -> None:
    r = opscheck("preflight", "--format", "xml")
    assert r.returncode == 2 and "--format must be one of" in r.stderr


def test_tap_and_nagios_renderings() -> None:
    result = {
        "verdict": "NO-GO",
        "counts": {
            "passed": 1,
            "failed": 1,
            "error": 1,
            "not_verified": 1,
            "not_applicable": 1,
            "waived": 1,
            "total": 6,
        },
        "causes": [
            {
                "id": "C1",
                "summary": "the database is unreachable",
                "remedy": "start it",
                "roots": ["8.6.1"],
                "items": ["8.6.1", "4.4.3"],
                "blocking": True,
            }
        ],
        "items": [
            {"id": "1.1.1", "title": "DB", "severity": "blocker", "status": "passed", "reason": ""},
            {"id": "1.4.3", "title": "Grafana", "severity": "warning", "status": "failed", "reason": "none"},
            {
                "id": "4.4.3",
                "title": "HALT",
                "severity": "blocker",
                "status": "not_verified",
                "reason": "x",
                "cause_id": "C1",
                "blocked_by": ["8.6.1"],
            },
            {"id": "8.6.1", "title": "Time", "severity": "blocker", "status": "error", "reason": "y", "cause_id": "C1"},
            {
                "id": "sop.1.1",
                "title": "CDP",
                "severity": "blocker",
                "status": "not_applicable",
                "reason": "declared out of scope",
            },
            {
                "id": "1.5.1",
                "title": "Equity",
                "severity": "blocker",
                "status": "waived",
                "reason": "waived until 2099-01-01",
            },
        ],
    }
    tap = cli_output.tap(result).splitlines()
    assert tap[:3] == ["TAP version 13", "1..6", "ok 1 - 1.1.1 DB"]
    assert tap[3] == "not ok 2 - 1.4.3 Grafana # TODO warning, failed: none"
    assert tap[4] == "not ok 3 - 4.4.3 HALT # not verified: x → C1"
    assert tap[5] == "not ok 4 - 8.6.1 Time # error: y → C1"
    assert tap[6] == "ok 5 - sop.1.1 CDP # SKIP not applicable: declared out of scope"
    assert tap[7] == "not ok 6 - 1.5.1 Equity # TODO waived: waived until 2099-01-01"
    assert tap[-2:] == ["# C1: the database is unreachable (remedy: start it)", "# verdict NO-GO — 1 cause, 2 items"]
    nagios = cli_output.nagios(result)
    assert nagios.startswith(
        "OPSCHECK CRITICAL - NO-GO — 1 cause, 2 items: 1/6 passed; blockers not passed: "
        "4.4.3, 8.6.1; C1 the database is unreachable | "
    )
    assert nagios.endswith(" total=6 causes=1") and "\n" not in nagios


# ---------------------------------------------------------------- issue 21 part 10: one convention for every command
README = (REPO / "README.md").read_text(encoding="utf-8")
TABLE_HEADING = "### Exit codes and messages"
COLUMNS = ("0", "1", "2", "other", "database unreachable")


def exit_table() -> dict[str, dict[str, str]]:
    """README's table: command → {"0", "1", "2", "other", "database unreachable"} → its cell."""
    section = README.split(TABLE_HEADING, 1)[1].split("\n#", 1)[0]
    rows = [ln for ln in section.splitlines() if ln.startswith("| `")]
    header = next(ln for ln in section.splitlines() if ln.startswith("| command |"))
    assert tuple(c.strip() for c in header.strip("|").split("|"))[1:] == COLUMNS, header
    table = {}
    for row in rows:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))]
        assert len(cells) == 1 + len(COLUMNS), row
        table[cells[0].strip("`")] = dict(zip(COLUMNS, cells[1:], strict=True))
    return table


def app_commands() -> set[str]:
    """Every command an operator can run: the leaves of the Typer app, as typed after ``opscheck``."""

    def leaves(cmd: Any, path: tuple[str, ...]) -> Iterator[str]:
        subs = getattr(cmd, "commands", None)
        if subs and not getattr(cmd, "invoke_without_command", False):
            for name, sub in subs.items():
                yield from leaves(sub, (*path, name))
        else:
            yield " ".join(path)

    return set(leaves(typer.main.get_command(app), ()))


def test_the_readme_table_lists_every_command_once() -> None:
    assert README.count(TABLE_HEADING) == 1
    assert sorted(exit_table()) == sorted(app_commands())


def _documented_codes(row: dict[str, str]) -> set[int]:
    return {int(c) for c in ("0", "1", "2") if row[c] not in ("—", "")}


@pytest.fixture
def unreachable(tmp_path: Path) -> Path:
    """An env file whose database (and bot, metrics, exchange) is a closed port on this host."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: refused at once
    env = tmp_path / "unreachable.env"
    env.write_text(
        f"DB_HOST=127.0.0.1\nDB_PORT={port}\nDB_NAME=autonomous_alpha\nDB_USER=app_trading\n"
        f"DB_PASSWORD=pw-unreachable\nBOT_API_URL=http://127.0.0.1:{port}\n"
        f"METRICS_URL=http://127.0.0.1:{port}/metrics\nVALR_BASE_URL=http://127.0.0.1:{port}\n"
    )
    return env


# what each command needs besides --env-file (the database is never reached, so nothing else must exist)
ARGS: dict[str, tuple[str, ...]] = {
    "env verify": (),
    "secrets rotated": ("VALR_API_KEY", "--by", "A. Operator"),
    "kill-switch status": (),
    "kill-switch activate": ("--reason", "convention test"),
    "kill-switch deactivate": ("--allow-mutations",),
    "kill-switch verify": ("--allow-mutations",),
    "drift": ("--target", "live", "--samples", "1"),
    "transition": ("--to", "DRY_RUN", "--operator", "A. Operator", "--witness", "B. Witness"),
    "incident capture": ("--operator", "A. Operator", "--detection", "convention test"),
    "incident document": ("INC-20240101-001", "--operator", "A. Operator", "--root-cause", "r", "--fix", "f"),
    "incident report": ("INC-20240101-001",),
    "incident resume": ("INC-20240101-001", "--operator", "A. Operator", "--allow-mutations"),
    "audit export": ("--from", "2024-01-01", "--to", "2024-01-02", "--out", "{tmp}/export"),
    "audit verify": ("{tmp}", "--against-db"),
    "audit compliance": ("--month", "2024-01", "--out", "{tmp}/compliance"),
    "init": (),
    "runbook check": ("--runbook", "{tmp}/runbooks"),
    "signoff verify": (),
    "evidence verify": ("{tmp}/reports/20240101T000000Z-000000",),  # a sealed, unsigned run: made below
}
# env vars that would override the env file (real env vars win): unset for the command
_OVERRIDES = (
    "DATABASE_URL",
    "DB_HOST",
    "DB_PORT",
    "DB_NAME",
    "DB_USER",
    "DB_PASSWORD",
    "OPSCHECK_ADMIN_DSN",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "BOT_API_URL",
    "METRICS_URL",
    "VALR_BASE_URL",
)


def sealed_run(run_dir: Path) -> None:
    """A run as ``opscheck preflight`` seals it (``cli/evidence.py``), without the preflight."""
    run_dir.mkdir(parents=True)
    (run_dir / "junit.xml").write_text('<?xml version="1.0"?><testsuites/>')
    (run_dir / "cucumber.json").write_text("[]")
    (run_dir / "allure-results").mkdir()
    (run_dir / "allure-results" / "a-result.json").write_text("{}")
    now = datetime.now(UTC)
    result = verdict.build(
        [verdict.outcome("1.1.1", "passed")],
        target="live",
        started_at=now,
        finished_at=now,
        operator=None,
        witness=None,
    ) | {"run_id": run_dir.name}
    evidence.seal(run_dir, result, target="live", html=False, log_problem=None)


def test_every_command_has_its_arguments_here() -> None:
    assert sorted(ARGS) == sorted(app_commands() - {"preflight", "serve"})  # serve runs until stopped


@pytest.mark.parametrize("command", sorted(ARGS))
def test_every_command_against_an_unreachable_database(command: str, unreachable: Path, tmp_path: Path) -> None:
    """README's table says what each command does when the database cannot be reached; the command does that:
    exit 2 and one line `opscheck <command>: cannot run: … cannot connect …` (nothing on stdout), or, where the
    table says the command does not use the database, one of its documented codes and no word of it."""
    row = exit_table()[command]
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "live-trading-runbook.md").write_text("# runbook\n")
    args = [a.format(tmp=tmp_path) for a in ARGS[command]]
    if command == "evidence verify":
        sealed_run(Path(args[0]))
    r = CliRunner().invoke(
        app, [*command.split(), *args, "--env-file", str(unreachable)], env=dict.fromkeys(_OVERRIDES)
    )
    said = f"{r.stdout}{r.stderr}"
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)  # never an exception
    expected = row["database unreachable"]
    if expected.startswith("not used"):
        assert r.exit_code in _documented_codes(row) and "cannot connect to app_trading@" not in said, said
        return
    code = int(expected.split()[0])
    assert r.exit_code == code, said
    if code == 2:
        assert r.stdout == "", said
        lines = r.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"opscheck {command}: cannot run: "), said
        assert "cannot connect" in lines[0] and "pw-unreachable" not in lines[0], said


def test_preflight_against_an_unreachable_database(unreachable: Path, tmp_path: Path) -> None:
    """The preflight checks the database (1.1.1): unreachable is its NO-GO, as README's table says."""
    code = int(exit_table()["preflight"]["database unreachable"].split()[0])
    env = {k: v for k, v in os.environ.items() if k not in _OVERRIDES}
    r = opscheck(
        "preflight",
        "--target",
        "live",
        "--env-file",
        str(unreachable),
        "--no-html",
        "-q",
        "--reports",
        str(tmp_path / "reports"),
        env=env,
    )
    assert r.returncode == code, r.stdout + r.stderr
    data = json.loads(next((tmp_path / "reports").glob("*/verdict.json")).read_text())
    assert data["verdict"] == "NO-GO" and {i["id"]: i["status"] for i in data["items"]}["1.1.1"] == "failed"


def test_a_path_that_does_not_exist_cannot_run() -> None:
    r = CliRunner().invoke(app, ["audit", "verify", "/nonexistent/opscheck-export"])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == "opscheck audit verify: cannot run: /nonexistent/opscheck-export: not found\n"


def test_the_prefix_names_the_command_as_typed() -> None:
    assert (
        cli_errors.command_from_argv(app, ["kill-switch", "status", "--env-file", "x"]) == "opscheck kill-switch status"
    )
    assert cli_errors.command_from_argv(app, ["drift", "--target", "live"]) == "opscheck drift"
    assert cli_errors.command_from_argv(app, ["--version"]) == "opscheck"
    r = CliRunner().invoke(app, ["transition", "--to", "SIDEWAYS", "--operator", "a", "--witness", "b"])
    assert r.exit_code == 2 and r.stderr == "opscheck transition: cannot run: --to must be LIVE or DRY_RUN\n"
    r = CliRunner().invoke(app, ["transition", "--to", "LIVE", "--operator", "ann", "--witness", " Ann "])
    assert r.exit_code == 1 and r.stderr.startswith("opscheck transition: refused: operator and witness")


def test_a_preflight_signed_by_one_person_is_refused(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["preflight", "--operator", "Ann", "--witness", "ann", "--reports", str(tmp_path)])
    assert r.exit_code == 1 and r.stderr.startswith("opscheck preflight: refused: ") and not any(tmp_path.iterdir())


# ---------------------------------------------------------------- a selection that picks nothing
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--features", "nosuch*.feature"), "--features 'nosuch*.feature' matches no feature file"),
        (("-m", "nosuchmarker"), "-m 'nosuchmarker': unknown marker(s) nosuchmarker"),
        (("-m", "section_1_1 and section_1_2"), "-m 'section_1_1 and section_1_2' selects no runbook item"),
        (("-m", "(section_1_1"), "-m '(section_1_1' is not a marker expression"),
        (
            ("-m", "cadence_weekly"),
            "selects no runbook item (it picks only weekly prevention items: add --cadence weekly)",
        ),
        (("--features", "1_1*.feature", "-m", "section_2_1"), "--features '1_1*.feature' and -m 'section_2_1' selects"),
        (("--features", ""), "--features names nothing"),
        (("-m", " "), "-m names nothing"),
    ],
    ids=["glob", "unknown-marker", "no-item", "syntax", "cadence", "both", "empty-features", "empty-marker"],
)
def test_a_selection_that_picks_nothing_is_one_line_before_anything_starts(
    args: tuple[str, ...], says: str, tmp_path: Path
) -> None:
    r = CliRunner().invoke(app, ["preflight", "--no-html", "--reports", str(tmp_path), *args])
    assert r.exit_code == 2 and r.stdout == "", r.output
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("opscheck preflight: cannot run: "), r.stderr
    assert says in r.stderr and "checking" not in r.output
    assert not any(tmp_path.iterdir())  # no run directory: nothing started


def test_a_selection_resolves_as_pytest_would() -> None:
    assert selection.resolve("1_1*.feature", None) == [f"1.1.{n}" for n in range(1, 7)]
    assert selection.resolve(None, "section_1_3 and mutating") == ["1.3.1"]
    assert selection.resolve(None, "cadence_weekly", "weekly") == [
        "sop.weekly.1",
        "sop.weekly.2",
        "sop.weekly.3",
        "sop.weekly.4",
    ]
    every = selection.resolve(None, "blocker or warning", "weekly,monthly")
    assert every == sorted({i.id for i in catalogue.ITEMS}, key=verdict.sort_key)


def test_the_selection_reads_the_tags_pytest_bdd_binds() -> None:
    """The light reader of the feature files agrees with pytest-bdd's own parser on every scenario's tags (and adds
    the item's registry topics, as the plugin does)."""
    from pytest_bdd.parser import FeatureParser

    ours = {(s.item, s.markers) for s in selection.scenarios(selection.feature_files(None))}
    theirs = set()
    for f in selection.feature_files(None):
        feature = FeatureParser(str(f.parent), f.name).parse()
        for sc in feature.scenarios.values():
            tags = frozenset(feature.tags | sc.tags)
            item = next(i for i in map(catalogue.id_for_tag, sorted(tags)) if i)
            theirs.add((item, tags | set(catalogue.BY_ID[item].topics)))
    assert ours == theirs and len(ours) == len(catalogue.ITEMS)


# ---------------------------------------------------------------- an interrupted run says so in verdict.json
def test_an_interrupted_run_without_a_verdict_gets_a_minimal_one(tmp_path: Path) -> None:
    run_dir = tmp_path / "20260101T000000Z-abcdef"
    run_dir.mkdir()
    path = mark_interrupted(
        run_dir, "SIGTERM", target="sandbox", started_at=datetime.now(UTC), operator=None, witness=None
    )
    assert path is not None
    data = json.loads(path.read_text())
    assert data["interrupted"] is True and data["signal"] == "SIGTERM" and data["verdict"] == "NO-GO"
    assert data["items"] == [] and data["run_id"] == run_dir.name and "interrupted by SIGTERM" in data["warnings"][0]


def test_an_interrupted_runs_verdict_is_marked_and_never_go(tmp_path: Path) -> None:
    items = [verdict.outcome("1.1.1", verdict.PASSED)]
    now = datetime.now(UTC)
    verdict.write(
        tmp_path,
        verdict.build(items, target="sandbox", started_at=now, finished_at=now, operator=None, witness=None)
        | {"verdict": "GO"},
    )
    data = json.loads(
        mark_interrupted(
            tmp_path,
            "SIGINT",
            target="sandbox",
            started_at=now,
            operator=None,  # type: ignore[arg-type]
            witness=None,
        ).read_text()
    )
    assert data["verdict"] == "NO-GO" and data["interrupted"] is True and data["signal"] == "SIGINT"
    assert data["items"][0]["id"] == "1.1.1"  # the child's outcomes are kept


# ---------------------------------------------------------------- runbook check: not reached is not checked
def test_runbook_rows_not_reached_are_not_checked_never_disagreements(unreachable: Path) -> None:
    t = live_target(load_env(unreachable), allow_mutations=False)
    rows = cli_runbook.endpoint_rows(
        t, [cli_runbook.Mention("rb.md:1 (§1.1)", 1, "curl -s http://localhost:8000/health")]
    )
    assert [(r.verdict, r.checked) for r in rows] == [("not checked", False)]
    assert rows[0].reason.startswith("not checked: ")
    assert cli_runbook.exit_code(rows) == 2
    text = cli_runbook.render(rows)
    assert "DISAGREES" not in text and text.endswith("0 checked, 0 conform, 0 disagree; 1 not checked (not reached)")
    disagree = cli_runbook.Row("rb.md:2", "env", "WEBHOOK_SECRET", False, "no bot code reads it")
    assert cli_runbook.exit_code([*rows, disagree]) == 1
    assert cli_runbook.exit_code([cli_runbook.Row("rb.md:3", "env", "DB_HOST", True, "set")]) == 0


# ---------------------------------------------------------------- transition: the names given are recorded
def test_a_sandbox_transition_records_the_names_given(tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    r = opscheck(
        "transition",
        "--target",
        "sandbox",
        "--to",
        "LIVE",
        "--operator",
        " A. Operator",
        "--witness",
        "B. Witness",
        "--reports",
        str(tmp_path),
        env=shared_pg_env,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    records = [json.loads(p.read_text()) for p in tmp_path.glob("*/transitions/TR-*.json")]
    assert len(records) == 2  # to LIVE and back
    assert {(rec["operator"], rec["witness"]) for rec in records} == {("A. Operator", "B. Witness")}
    preflights = [json.loads(p.read_text()) for p in tmp_path.glob("*/reports/*/verdict.json")]
    assert [(v["operator"], v["witness"]) for v in preflights] == [("A. Operator", "B. Witness")]
    assert "sandbox-operator" not in r.stdout and "sandbox-witness" not in r.stdout
