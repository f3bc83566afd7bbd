"""``opscheck audit``: runbook §7 from the command line (export, verify, monthly compliance report).

The database is the live target's (``DB_*`` or ``DATABASE_URL``, optionally from ``--env-file``); every session is
read-only. Exit codes: 0 done, 1 verification failed or report incomplete, 2 could not run (a database it cannot
reach, a directory that is not there), 130 interrupted.
"""

from __future__ import annotations

import getpass
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from ops_checks.access.config import ConfigError, Target, live_target, load_env
from ops_checks.access.db import DbError
from ops_checks.cli import errors
from ops_checks.procedures import audit_export, audit_verify, compliance

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Runbook §7: audit export, verify, compliance.")

EnvFile = Annotated[Path | None, typer.Option("--env-file", help="dotenv file with the database settings")]
Operator = Annotated[str | None, typer.Option(help="who runs the export (default: the login name)")]


def _target(env_file: Path | None) -> Target:
    """The live target, its database reached once (else one line and exit 2)."""
    try:
        t = live_target(load_env(env_file), allow_mutations=False)
    except ConfigError as exc:
        raise errors.cannot_run(str(exc)) from None
    errors.require_db(t.db, t.redactor)
    return t


def parse_when(text: str) -> datetime:
    """``YYYY-MM-DD`` (midnight UTC) or an ISO-8601 timestamp; a time without a zone is UTC."""
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD) or ISO-8601 timestamp") from exc
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _operator(name: str | None) -> str:
    try:
        return name or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _interrupt_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the export's cleanup runs and no partial directory is left."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


@app.command("export")
def export_cmd(
    from_: Annotated[str, typer.Option("--from", help="first day (inclusive), YYYY-MM-DD UTC")],
    to: Annotated[str, typer.Option("--to", help="end day (exclusive), YYYY-MM-DD UTC")],
    out: Annotated[Path, typer.Option("--out", help="export directory to create (must not exist)")],
    operator: Operator = None,
    env_file: EnvFile = None,
) -> None:
    """Export every §7.1 audit table for [FROM, TO) with a manifest and sha256sum checksums."""
    start, end = parse_when(from_), parse_when(to)
    t = _target(env_file)
    _interrupt_on_sigterm()
    try:
        result = audit_export.export(t.db, t.redactor, start, end, out, _operator(operator))
    except audit_export.ExportError as exc:
        raise errors.cannot_run(str(exc)) from None
    except KeyboardInterrupt:
        typer.echo(f"{errors.command_name()}: interrupted: nothing was left at the target", err=True)
        raise typer.Exit(130) from None
    for f in result.files:
        typer.echo(f"{f.name:32} {f.rows:>12} rows {f.bytes:>14} bytes  {f.sha256}")
    typer.echo(f"export complete: {result.directory} ({result.summary()})")
    typer.echo(f"check it: cd {result.directory} && sha256sum -c {audit_export.CHECKSUMS}")


@app.command("verify")
def verify_cmd(
    directory: Annotated[Path, typer.Argument(help="an export directory")],
    against_db: Annotated[bool, typer.Option("--against-db", help="also compare row counts with the database")] = False,
    env_file: EnvFile = None,
) -> None:
    """Re-hash every file, re-count the CSV records, check the manifest (and the database's counts)."""
    if not directory.is_dir():
        raise errors.cannot_run(f"{directory}: not a directory" if directory.exists() else f"{directory}: not found")
    t = _target(env_file) if against_db else None
    report = audit_verify.verify(directory, db_params=t.db if t else None, redactor=t.redactor if t else None)
    typer.echo(report.render())
    if not report.ok:
        raise errors.failed(report.reason())


@app.command("compliance")
def compliance_cmd(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM (UTC)")],
    out: Annotated[Path | None, typer.Option("--out", help="default compliance_reports/YYYY-MM")] = None,
    operator: Operator = None,
    env_file: EnvFile = None,
) -> None:
    """Generate the §7.4 monthly compliance report (report.md, report.html with the P&L chart, CSVs)."""
    try:
        m = compliance.parse_month(month)
    except compliance.ComplianceError as exc:
        raise typer.BadParameter(str(exc)) from None
    t = _target(env_file)
    target_dir = out or Path("compliance_reports") / f"{m:%Y-%m}"
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        report = compliance.generate(t.db, t.redactor, m, target_dir, _operator(operator))
    except (compliance.ComplianceError, DbError) as exc:
        raise errors.cannot_run(str(exc)) from None
    typer.echo(f"compliance report {m:%Y-%m}: {report.directory} ({', '.join(report.files)})")
    if report.problems:
        raise errors.failed(f"report incomplete: {'; '.join(report.problems)}")
