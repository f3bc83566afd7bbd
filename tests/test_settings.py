"""Issues 13 §8 / 15 §4: one typed settings model; every configuration error is exit 2 with one line.

Every ``OPSCHECK_<THRESHOLD>`` is validated (type, positive, finite), a misspelt ``OPSCHECK_`` name is refused,
``DATABASE_URL``/``DB_PORT`` ports are checked, and the CLI turns each into ``opscheck: cannot run: …`` with no
traceback. A property test feeds generated environments to the loader and ``live_target``: ConfigError or a
target, never another exception.
"""

from __future__ import annotations

import ast
import os
import re
import stat
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from ops_checks.access.config import ConfigError, live_target
from ops_checks.cli import errors as cli_errors
from ops_checks.core import settings
from ops_checks.core.settings import Thresholds
from ops_checks.sandbox.environment import SANDBOX_THRESHOLDS, sandbox_thresholds
from tests.preflight_runner import preflight

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "pw-Zq7-never-shown"

INT_VARS = (
    "OPSCHECK_LOG_WINDOW_S",
    "OPSCHECK_DRY_RUN_MAX_GAP_S",
    "OPSCHECK_DRIFT_SAMPLES",
    "OPSCHECK_AUDIT_WINDOW_DAYS",
)
DECIMAL_VARS = (
    "OPSCHECK_DRIFT_MAX_MS",
    "OPSCHECK_MAX_ORDER_CEILING_ZAR",
    "OPSCHECK_EQUITY_TOLERANCE_PCT",
    "OPSCHECK_BACKOFF_SCALE",
)
BAD_INTS = ("abc", "5000.5", "0x10", "NaN", "Infinity", "-5", "0", "1e3", "1_000", "99999999999999999999", " ")
BAD_DECIMALS = ("abc", "NaN", "sNaN", "Infinity", "-Infinity", "inf", "-1", "0", "1e400", "1.2.3", "0x10")


def _load_error(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as err:
        settings.load(env)
    message = str(err.value)
    assert "\n" not in message and message.strip() == message
    return message


# ---------------------------------------------------------------- values
@pytest.mark.parametrize("value", BAD_INTS)
@pytest.mark.parametrize("name", INT_VARS)
def test_a_bad_whole_number_names_the_variable(name: str, value: str) -> None:
    message = _load_error({name: value})
    assert message.startswith(f"{name}={value!r}: "), message
    assert "whole number" in message or "must be from" in message


@pytest.mark.parametrize("value", BAD_DECIMALS)
@pytest.mark.parametrize("name", DECIMAL_VARS)
def test_a_bad_number_names_the_variable(name: str, value: str) -> None:
    message = _load_error({name: value})
    assert message.startswith(f"{name}={value!r}: "), message


@pytest.mark.parametrize(
    "value",
    [
        "1e-999999",
        "1e-999",
        "0.0000001",
        "1 000",
        "1_000",
        "0x10",
        "+Inf",
        "1e5000",
        "1e+99999",
        "5e",
        ".",
        "1..2",
        "--1",
    ],
)
def test_only_plain_ascii_decimals_in_a_sane_range(value: str) -> None:
    """Issue 21 §9: Decimal() reads all of these (or their exponents blow the range); the settings do not."""
    message = _load_error({"OPSCHECK_DRIFT_MAX_MS": value})
    assert message.startswith(f"OPSCHECK_DRIFT_MAX_MS={value!r}: "), message
    assert any(w in message for w in ("not a number", "not a finite number", "decimal places", "at most")), message


@pytest.mark.parametrize("value", ["٣", "١٢", "３", "5\u00a0000", "1\u2009000"])
@pytest.mark.parametrize("name", ["OPSCHECK_DRIFT_MAX_MS", "OPSCHECK_LOG_WINDOW_S"])
def test_digits_of_other_scripts_are_not_numbers(name: str, value: str) -> None:
    """Arabic-Indic, full-width digits and non-ASCII spaces: int() and Decimal() read them; the settings do not."""
    message = _load_error({name: value})
    assert message.startswith(f"{name} (value not shown: ") and (
        "not a number" in message or "not a whole number" in message
    ), message


def test_plain_decimals_still_load() -> None:
    s = settings.load(
        {
            "OPSCHECK_DRIFT_MAX_MS": "1e-3",
            "OPSCHECK_KILL_SWITCH_MAX_MS": "+5",
            "OPSCHECK_BACKOFF_SCALE": ".5",
            "OPSCHECK_EQUITY_TOLERANCE_PCT": "0.000001",
        }
    )
    assert s.drift_max_ms == Decimal("0.001") and s.kill_switch_max_ms == 5 and s.backoff_scale == Decimal("0.5")
    assert s.equity_tolerance_pct == Decimal("0.000001")


def test_the_messages_say_what_is_wrong() -> None:
    assert _load_error({"OPSCHECK_DRIFT_MAX_MS": "abc"}) == "OPSCHECK_DRIFT_MAX_MS='abc': not a number of milliseconds"
    assert _load_error({"OPSCHECK_DRIFT_MAX_MS": "NaN"}).endswith("not a finite number of milliseconds")
    assert _load_error({"OPSCHECK_LOG_WINDOW_S": "5000.5"}).endswith("not a whole number of seconds")
    assert "greater than 0" in _load_error({"OPSCHECK_MAX_RISK_CEILING_ZAR": "-5"})
    long = _load_error({"OPSCHECK_LOG_WINDOW_S": "x" * 5000})
    assert long == "OPSCHECK_LOG_WINDOW_S (value not shown: 5000 characters): not a whole number of seconds"
    pasted = _load_error({"OPSCHECK_DRIFT_MAX_MS": f"postgresql://app:{PASSWORD}@h/db"})
    assert pasted.startswith("OPSCHECK_DRIFT_MAX_MS (value not shown: ") and PASSWORD not in pasted


def test_two_bad_values_report_the_first_and_count_the_rest() -> None:
    message = _load_error({"OPSCHECK_DRIFT_MAX_MS": "abc", "OPSCHECK_LOG_WINDOW_S": "x"})
    assert message.startswith("OPSCHECK_DRIFT_MAX_MS=") and message.endswith("(and 1 more)")


def test_good_values_load_with_their_types() -> None:
    s = settings.load(
        {
            "OPSCHECK_DRIFT_MAX_MS": " 750.5 ",
            "OPSCHECK_LOG_WINDOW_S": "60",
            "OPSCHECK_MAX_ORDER_CEILING_ZAR": "1234.56",
            "OPSCHECK_DRIFT_AGREEMENT_MS": "0",
            "OPSCHECK_DRY_RUN_MAX_GAP_S": "",
        }
    )  # empty = not set
    assert s.drift_max_ms == Decimal("750.5") and s.log_window_s == 60 and s.dry_run_max_gap_s == 300
    assert s.max_order_ceiling_zar == Decimal("1234.56") and isinstance(s.max_order_ceiling_zar, Decimal)
    assert s.drift_agreement_ms == 0


def test_thresholds_keep_their_names_and_types() -> None:
    t = settings.load({"OPSCHECK_DRIFT_MAX_MS": "2000", "OPSCHECK_LOG_WINDOW_S": "60"})
    assert t.drift_max_ms == Decimal(2000) and isinstance(t.drift_max_ms, Decimal)
    assert t.log_window_s == 60 and type(t.log_window_s) is int
    assert t == Thresholds(drift_max_ms=Decimal(2000), log_window_s=60)
    assert settings.load({}) == Thresholds() == settings.DEFAULTS
    for name, info in Thresholds.model_fields.items():  # the default is the declared one, of the declared type
        assert getattr(settings.DEFAULTS, name) == info.default and type(getattr(settings.DEFAULTS, name)) is type(
            info.default
        )


def test_sandbox_overrides_apply_and_the_env_still_wins() -> None:
    assert settings.load({}, **SANDBOX_THRESHOLDS).log_window_s == 300
    assert settings.load({"OPSCHECK_LOG_WINDOW_S": "42"}, **SANDBOX_THRESHOLDS).log_window_s == 42
    with pytest.raises(ConfigError, match="OPSCHECK_LOG_WINDOW_S='x'"):
        settings.load({"OPSCHECK_LOG_WINDOW_S": "x"}, **SANDBOX_THRESHOLDS)


def test_every_setting_reaches_the_thresholds_the_checks_read() -> None:
    """Issue 21 §9: one validated value per setting, on ``t.thresholds`` (the checks never re-read ``t.env``)."""
    assert {f.upper() for f in Thresholds.model_fields} == {
        n.removeprefix("OPSCHECK_") for n in settings.THRESHOLD_VARS
    }
    env = {
        "OPSCHECK_DRIFT_AGREEMENT_MS": "40",
        "OPSCHECK_LATENCY_SAMPLES": "3",
        "OPSCHECK_BACKOFF_SCALE": "0.5",
        "OPSCHECK_AUDIT_WINDOW_DAYS": "9",
        "OPSCHECK_TIME_SYNC_FRESH_S": "15",
        "OPSCHECK_METRICS_WINDOW_S": "60",
    }
    t = settings.load(env)
    assert (t.drift_agreement_ms, t.latency_samples, t.backoff_scale) == (Decimal(40), 3, Decimal("0.5"))
    assert (t.audit_window_days, t.time_sync_fresh_s, t.metrics_window_s) == (9, 15, 60)


def test_the_sandbox_target_applies_the_environments_thresholds() -> None:
    """The sandbox builds its own env; the operator's OPSCHECK_ settings still reach its thresholds."""
    th = sandbox_thresholds(
        {
            "OPSCHECK_KILL_SWITCH_MAX_MS": "1",
            "OPSCHECK_DRIFT_MAX_MS": "0.001",
            "OPSCHECK_LOG_WINDOW_S": "42",
            "PATH": "/bin",
        }
    )
    assert th.kill_switch_max_ms == 1 and th.drift_max_ms == Decimal("0.001") and th.log_window_s == 42
    assert th.log_fresh_s == 2 and th.backoff_scale == Decimal("0.001")  # the sandbox's own, not overridden
    assert sandbox_thresholds({}) == settings.load({}, **SANDBOX_THRESHOLDS)
    with pytest.raises(ConfigError, match="^OPSCHECK_DRIFT_MAX_MS="):
        sandbox_thresholds({"OPSCHECK_DRIFT_MAX_MS": "1e-999999"})


@pytest.mark.slow
def test_lowered_thresholds_fail_their_items_on_the_sandbox(shared_pg_env: dict[str, str], tmp_path: Path) -> None:
    """Issue 21 §9: OPSCHECK_KILL_SWITCH_MAX_MS=1 fails 4.5.1 and OPSCHECK_DRIFT_MAX_MS=0.001 fails 8.6.2 (and
    8.6.4 rests on it): the thresholds are applied where they are checked, not only validated."""
    env = dict(shared_pg_env, OPSCHECK_KILL_SWITCH_MAX_MS="1", OPSCHECK_DRIFT_MAX_MS="0.001")
    run = preflight(tmp_path, "--no-html", "-m", "section_4_5 or section_8_6", env=env)
    status = run.status_of()
    assert status["4.5.1"] == "failed" and status["8.6.2"] == "failed", run.output[-3000:]
    assert status["8.6.4"] != "passed" and run.exit_code == 1, run.output[-3000:]
    reasons = {i["id"]: i["reason"] for i in run.verdict["items"]}  # type: ignore[index]
    assert "(limit 1 ms)" in reasons["4.5.1"] and "0.001 ms tolerance" in reasons["8.6.2"], reasons


# ---------------------------------------------------------------- one definition
def _literal(node: ast.expr | None) -> object:
    """The value of a number literal, ``None`` or ``Decimal(<literal>)``; ``_NOT`` for anything else."""
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return Decimal(str(node.value))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Decimal":
        if len(node.args) == 1 and isinstance(node.args[0], ast.Constant):
            return Decimal(str(node.args[0].value))
    return _NOT


_NOT = object()


def threshold_copies(root: Path) -> list[str]:
    """Places under ``root``'s ``ops_checks/`` and ``steps/`` (but ``core/settings.py``) that define a threshold a
    second time: an ``"OPSCHECK_<THRESHOLD>"`` literal (a reader of its own), or a field, constant or keyword default
    named like a threshold (``audit_window_days``, or without its first word: ``window_days``, ``samples``) whose
    literal value is that threshold's default (a copy of it)."""
    defaults: dict[str, set[object]] = {}
    for name, info in Thresholds.model_fields.items():
        for alias in (name, name.split("_", 1)[1]):
            defaults.setdefault(alias, set()).add(None if info.default is None else Decimal(str(info.default)))
    found: list[str] = []

    def copy(name: str, value: ast.expr | None, where: str) -> None:
        if _literal(value) in defaults.get(name.lower(), set()):
            found.append(f"{where}: {name} = {ast.unparse(value) if value else ''}")

    files = [*(root / "ops_checks").rglob("*.py"), *(root / "steps").rglob("*.py")]
    for path in sorted(f for f in files if f != root / "ops_checks" / "core" / "settings.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(root)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Constant) and node.value in settings.THRESHOLD_VARS:
                found.append(f"{where}: {node.value!r}")
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                copy(node.target.id, node.value, where)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        copy(target.id, node.value, where)
            elif isinstance(node, ast.arguments):
                positional = [*node.posonlyargs, *node.args]
                with_defaults = zip(positional[len(positional) - len(node.defaults) :], node.defaults, strict=True)
                for arg, default in [*with_defaults, *zip(node.kwonlyargs, node.kw_defaults, strict=True)]:
                    copy(arg.arg, default, f"{path.relative_to(root)}:{arg.lineno}")
    return found


def test_no_threshold_is_defined_twice() -> None:
    """Issue 23 §4: a threshold's name, default, type and bounds live in ``core/settings.py`` alone; the rest of the
    suite reads ``t.thresholds`` (or ``settings.DEFAULTS``), and README has one row per threshold."""
    assert threshold_copies(REPO) == []
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = {name: readme.count(f"\n| `{name}` |") for name in settings.THRESHOLD_VARS}
    assert {name: n for name, n in rows.items() if n != 1} == {}


def test_the_scan_finds_a_copy(tmp_path: Path) -> None:
    """The scan above is not vacuous: a planted dataclass copy, an env read and a keyword default are found."""
    planted = tmp_path / "ops_checks" / "checks" / "planted.py"
    planted.parent.mkdir(parents=True)
    planted.write_text(
        "import os\nfrom dataclasses import dataclass\nfrom decimal import Decimal\n\n\n"
        "@dataclass\nclass Audit:\n    window_days: int = 30\n    drift_max_ms: Decimal = Decimal('1000')\n\n\n"
        "def gap() -> str:\n    return os.environ.get('OPSCHECK_AUDIT_MAX_GAP_S', '300')\n\n\n"
        "def measure(samples: int = 7, *, scale: float = 1.0) -> None:\n    pass\n",
        encoding="utf-8",
    )
    assert sorted(
        (line.split(":", 1)[1] for line in threshold_copies(tmp_path)), key=lambda x: int(x.split(":")[0])
    ) == [
        "8: window_days = 30",
        "9: drift_max_ms = Decimal('1000')",
        "13: 'OPSCHECK_AUDIT_MAX_GAP_S'",
        "16: samples = 7",
    ]


# ---------------------------------------------------------------- names
@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("OPSCHECK_DRIFT_MAX_M", "OPSCHECK_DRIFT_MAX_MS"),
        ("OPSCHECK_LOG_WINDOW_SECONDS", "OPSCHECK_LOG_WINDOW_S"),
        ("OPSCHECK_DRYRUN_MAX_GAP_S", "OPSCHECK_DRY_RUN_MAX_GAP_S"),
    ],
)
def test_a_misspelt_name_is_refused_with_a_suggestion(name: str, suggestion: str) -> None:
    message = _load_error({name: "secret-looking-value"})
    assert message.startswith(f"{name}: unknown setting") and f"did you mean {suggestion}?" in message
    assert "secret-looking-value" not in message


def test_the_suites_other_opscheck_variables_are_accepted() -> None:
    env = {name: "anything" for name in settings.NON_THRESHOLD_VARS}
    env["OPSCHECK_SANDBOX_SOVEREIGN_SECRET"] = "x"
    settings.load(env)


def test_every_opscheck_name_the_project_mentions_is_known() -> None:
    """A new OPSCHECK_ variable must be added to settings.py, or every run that sets it would stop."""
    token = re.compile(r"\bOPSCHECK_[A-Z0-9_]*[A-Z0-9]\b")
    files = [
        REPO / "README.md",
        *(REPO / "ops_checks").rglob("*.py"),
        *(REPO / "tests").rglob("*.py"),
        *(REPO / "scripts").glob("*"),
        *(REPO / "docs").glob("*.md"),
    ]
    deliberate = (Path(__file__).name, "test_envfile.py")  # these two misspell names on purpose
    seen = {
        m
        for f in files
        if f.is_file() and f.name not in deliberate
        for m in token.findall(f.read_text(encoding="utf-8", errors="replace"))
    }
    not_env = {"OPSCHECK_SCHEMA", "OPSCHECK_AUDIT", "OPSCHECK_SANDBOX", "OPSCHECK_THRESHOLD"}  # constants, families
    known = settings.THRESHOLD_VARS | settings.NON_THRESHOLD_VARS | not_env
    assert sorted(n for n in seen - known if not n.startswith(settings.NON_THRESHOLD_PREFIXES)) == []


# ---------------------------------------------------------------- DATABASE_URL / DB_PORT
@pytest.mark.parametrize("port", ["abc", "99999", "0", "-1", "5432,5433", "0x10"])
def test_database_url_with_a_bad_port_is_a_config_error_without_the_password(port: str) -> None:
    with pytest.raises(ConfigError) as err:
        live_target({"DATABASE_URL": f"postgresql://app:{PASSWORD}@db.example:{port}/aa"}, allow_mutations=False)
    assert str(err.value) == "DATABASE_URL: the port is not a port number from 1 to 65535"


def test_database_url_port_in_the_query_and_an_unparsable_url() -> None:
    with pytest.raises(ConfigError, match="^DATABASE_URL: the port"):
        live_target({"DATABASE_URL": f"postgresql://app:{PASSWORD}@h/aa?port=x"}, allow_mutations=False)
    with pytest.raises(ConfigError) as err:
        live_target({"DATABASE_URL": f"not a url {PASSWORD}"}, allow_mutations=False)
    assert str(err.value) == "DATABASE_URL is not a valid libpq URL"


@pytest.mark.parametrize("port", ["abc", "70000", "0", "5432.0", "NaN"])
def test_db_port_must_be_a_port(port: str) -> None:
    with pytest.raises(ConfigError) as err:
        live_target({"DB_PORT": port, "DB_PASSWORD": PASSWORD}, allow_mutations=False)
    assert str(err.value) == f"DB_PORT={port!r} is not a port number from 1 to 65535"


def test_good_ports() -> None:
    assert live_target({"DB_PORT": " 6543 "}, allow_mutations=False).db.port == 6543
    assert live_target({}, allow_mutations=False).db.port == 5432
    url = f"postgresql://app:{PASSWORD}@h:6000/aa"
    assert live_target({"DATABASE_URL": url}, allow_mutations=False).db.port == 6000


# ---------------------------------------------------------------- the CLI
def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OPSCHECK_") and not k.startswith("DB_") and k != "DATABASE_URL"
    }
    return subprocess.run(
        [sys.executable, "-m", "ops_checks.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **env},
    )


def _one_line(proc: subprocess.CompletedProcess[str], expected: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.splitlines() == [expected], proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("target", ["sandbox", "live"])
def test_preflight_with_a_bad_threshold_exits_2_with_one_line(target: str, tmp_path: Path) -> None:
    proc = _cli("preflight", "--target", target, "--reports", str(tmp_path), OPSCHECK_DRIFT_MAX_MS="abc")
    _one_line(proc, "opscheck preflight: cannot run: OPSCHECK_DRIFT_MAX_MS='abc': not a number of milliseconds")
    assert proc.stdout == "" and not any(tmp_path.iterdir())  # nothing started, no run directory


def test_preflight_with_a_misspelt_name_exits_2(tmp_path: Path) -> None:
    proc = _cli("preflight", "--reports", str(tmp_path), OPSCHECK_LOG_WINDOW="60")
    _one_line(
        proc,
        "opscheck preflight: cannot run: OPSCHECK_LOG_WINDOW: unknown setting (did you mean OPSCHECK_LOG_WINDOW_S?)",
    )


def test_preflight_live_with_a_bad_database_url_port_exits_2(tmp_path: Path) -> None:
    proc = _cli(
        "preflight",
        "--target",
        "live",
        "--reports",
        str(tmp_path),
        DATABASE_URL=f"postgresql://app:{PASSWORD}@h:port/aa",
    )
    _one_line(proc, "opscheck preflight: cannot run: DATABASE_URL: the port is not a port number from 1 to 65535")
    assert PASSWORD not in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("env verify", ()),
        ("env verify", ("--target", "sandbox")),
        ("kill-switch status", ()),
        ("audit compliance", ("--month", "2026-01")),
        ("drift", ("--target", "live")),
        ("runbook check", ()),
        ("signoff verify", ()),
        ("incident report", ("INC-20240101-001",)),
        ("init", ()),
        ("serve", ()),
        ("transition", ("--to", "LIVE", "--operator", "A", "--witness", "B")),
    ],
)
def test_subcommands_with_a_bad_threshold_exit_2_with_one_line(
    command: str, args: tuple[str, ...], tmp_path: Path
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DB_HOST=localhost\n")
    args = (*args, "--env-file", str(env_file)) if command in ("transition", "init") else args
    proc = _cli(*command.split(), *args, OPSCHECK_LOG_WINDOW_S="0x10")
    # `opscheck <command>: cannot run:` (README "Exit codes and messages"), every command alike
    _one_line(proc, f"opscheck {command}: cannot run: OPSCHECK_LOG_WINDOW_S='0x10': not a whole number of seconds")


# The five settings the old AuditSettings copy read (issue 23 §4): a malformed one stops the command, never a default.
AUDIT_BAD = [
    ("OPSCHECK_AUDIT_WINDOW_DAYS", "soon", "not a whole number of days"),
    ("OPSCHECK_AUDIT_MAX_GAP_S", "5m", "not a whole number of seconds"),
    ("OPSCHECK_AUDIT_EXPORT_HOURS", "24.5", "not a whole number of hours"),
    ("OPSCHECK_AUDIT_RETENTION_YEARS", "0", "must be from 1 to 100 years"),
    ("OPSCHECK_AUDIT_MAX_REPORT_ROWS", "-1", "not a whole number of items"),
]


@pytest.mark.parametrize(("name", "value", "why"), AUDIT_BAD)
def test_a_malformed_audit_threshold_in_an_env_file_is_exit_2_with_one_line(
    name: str, value: str, why: str, tmp_path: Path
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"DB_HOST=localhost\n{name}={value}\n")
    out = tmp_path / "export"
    window = ("--from", "2026-01-01", "--to", "2026-01-02")
    proc = _cli("audit", "export", *window, "--out", str(out), "--env-file", str(env_file))
    _one_line(proc, f"opscheck audit export: cannot run: {name}={value!r}: {why}")
    assert proc.stdout == "" and not out.exists()


@pytest.mark.parametrize(
    "args",
    [
        ("preflight", "--target", "sandbox", "--reports", "{tmp}"),
        ("preflight", "--target", "live", "--reports", "{tmp}"),
        ("audit", "compliance", "--month", "2026-01", "--out", "{tmp}/report"),
        ("drift", "--target", "sandbox"),
        (
            "transition",
            "--target",
            "sandbox",
            "--to",
            "LIVE",
            "--operator",
            "A",
            "--witness",
            "B",
            "--reports",
            "{tmp}",
        ),
    ],
    ids=lambda args: " ".join(a for a in args if not a.startswith("{")),
)
def test_a_malformed_audit_threshold_in_the_environment_is_exit_2_with_one_line(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    """On either target, before anything starts (no sandbox, no run directory, no report)."""
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    command = " ".join(argv[: 2 if argv[0] in ("audit",) else 1])
    proc = _cli(*argv, OPSCHECK_AUDIT_MAX_GAP_S="5m")
    _one_line(proc, f"opscheck {command}: cannot run: OPSCHECK_AUDIT_MAX_GAP_S='5m': not a whole number of seconds")
    assert not any(tmp_path.iterdir())


def test_a_usage_error_is_still_typers() -> None:
    proc = _cli("preflight", "--no-such-option")
    assert proc.returncode == 2 and "No such option" in proc.stderr and "internal error" not in proc.stderr


# ---------------------------------------------------------------- the last line of defence
def test_an_unexpected_exception_is_one_line_and_a_log(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    monkeypatch.setenv("VALR_API_SECRET", PASSWORD)

    def broken() -> None:
        raise RuntimeError(f"boom with {PASSWORD}\nsecond line")

    with pytest.raises(SystemExit) as ex:
        cli_errors.run(broken)
    assert ex.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and PASSWORD not in err and "Traceback" not in err
    m = re.fullmatch(r"opscheck: internal error: RuntimeError: boom with \S+ \(log: (\S+)\)\n", err)
    assert m, err
    log = Path(m[1])
    assert log.parent == tmp_path and stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text()
    assert "Traceback" in text and "second line" in text and PASSWORD not in text


def test_a_config_error_raised_anywhere_is_cannot_run(capsys: pytest.CaptureFixture[str]) -> None:
    def broken() -> None:
        raise ConfigError("DB_PORT='x' is not a port number from 1 to 65535")

    with pytest.raises(SystemExit) as ex:
        cli_errors.run(broken)
    assert ex.value.code == 2
    assert capsys.readouterr().err == "opscheck: cannot run: DB_PORT='x' is not a port number from 1 to 65535\n"


# ---------------------------------------------------------------- property test
_NAMES = sorted(settings.THRESHOLD_VARS) + [
    "OPSCHECK_DRIFT_MAXMS",
    "OPSCHECK_X",
    "DB_PORT",
    "DATABASE_URL",
    "DB_HOST",
    "BOT_API_URL",
    "LOG_DIR",
]
_SPECIAL = st.sampled_from(
    [
        "NaN",
        "nan",
        "-NaN",
        "sNaN",
        "Infinity",
        "-inf",
        "1e999999",
        "1e-999999",
        "0x10",
        "0",
        "-0",
        "5000.5",
        "1_000",
        "١٢",
        " 7 ",
        "",
        "\x00",
        "9" * 40,
        "postgresql://u:p@h:x/d",
        "postgresql://u:p@[::1]:5432/d",
        "postgresql://u:p@h:5432,h2:5433/d",
        "host=h port=x",
        "postgresql://%zz@h/d",
        "postgresql://u:p@h:/d",
        "=",
    ]
)
_NUMBERS = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
_VALUES = st.one_of(_SPECIAL, _NUMBERS, st.text(max_size=30))
_ENVS = st.dictionaries(st.sampled_from(_NAMES), _VALUES, max_size=6)


@hyp_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ENVS)
def test_any_environment_loads_or_is_a_config_error(env: dict[str, str]) -> None:
    env = {k: v.replace("\x00", "") if k.startswith("DATABASE") else v for k, v in env.items()}
    for load in (lambda: settings.load(env), lambda: live_target(env, allow_mutations=False)):
        try:
            load()
        except ConfigError as err:
            message = str(err)
            assert "\n" not in message and message.startswith(("OPSCHECK_", "DB_PORT", "DATABASE_URL")), message
            if message.startswith("DATABASE_URL"):  # fixed text: nothing of the URL (its password) is shown
                assert message in (
                    "DATABASE_URL is not a valid libpq URL",
                    "DATABASE_URL: the port is not a port number from 1 to 65535",
                )


def test_plain_pytest_with_a_malformed_threshold_stops_in_one_line_before_any_item() -> None:
    """`pytest` at the repository root (the plugin's own configure step): a usage error naming the setting, no item
    run, no traceback."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCHECK_")} | {"OPSCHECK_DRIFT_MAX_MS": "abc"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "section_1_1", "-q", "-p", "no:xdist", "-p", "no:randomly"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 4, out  # pytest's usage error
    assert "OPSCHECK_DRIFT_MAX_MS" in out and "Traceback" not in out and "passed" not in out
