"""``opscheck incident capture|document|report|resume``: runbook §6 for operators.

- ``capture`` (§6.1, §6.2): opens INC-YYYYMMDD-NNN, confirms (or activates) the kill switch, captures the state
  as checksummed CSV, exports the log tail, notifies, reads open positions. Always allowed: it only halts.
- ``document INC-…`` (§6.3): the root cause and the fix (or why none applies).
- ``report INC-…`` (§6.6): the report, pre-filled from the record and the audit rows.
- ``resume INC-…`` (§6.4, §6.5): the pre-resume checks, then deactivation and the RESUME row; refuses without a
  documented root cause; needs ``--allow-mutations`` (it lets the bot trade again).
Exit codes: 0 done, 1 a check failed or the resume was refused, 2 could not start (a database it cannot reach, a
missing ``--allow-mutations``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ops_checks.access.config import ConfigError, Target, live_target, load_env
from ops_checks.cli import errors
from ops_checks.procedures import incident, incident_report, incident_resume

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Post-incident checklist (runbook §6).")

EnvFile = Annotated[Path | None, typer.Option("--env-file", help="dotenv file with the live settings")]
Operator = Annotated[str, typer.Option(help="who is acting")]


def _incident_id(incident_id: str) -> str:
    if not incident.ID.match(incident_id):
        raise errors.cannot_run(f"not an incident id: {incident_id!r} (INC-YYYYMMDD-NNN)")
    return incident_id


def _target(env_file: Path | None) -> Target:
    """The live target, its database reached once (else one line and exit 2)."""
    try:
        t = live_target(load_env(env_file), allow_mutations=True)
    except ConfigError as exc:
        raise errors.cannot_run(str(exc)) from None
    errors.require_db(t.db, t.redactor)
    return t


@app.command()
def capture(
    operator: Operator,
    detection: Annotated[str, typer.Option(help="how the incident was detected")],
    trigger: Annotated[str | None, typer.Option(help="what initiated it (default: the breaker's reason)")] = None,
    env_file: EnvFile = None,
    out: Annotated[Path, typer.Option(help="incident directory root")] = Path("incidents"),
) -> None:
    """Open an incident and capture the system state (§6.1, §6.2)."""
    t = _target(env_file)
    try:
        cap = incident.capture(t, out_root=out, operator=operator, detection=detection, trigger=trigger)
    except incident.IncidentError as exc:
        raise errors.failed(t.redactor.text(str(exc))) from None
    typer.echo(cap.table())
    typer.echo(f"capture: {cap.dir}")
    typer.echo(f"INCIDENT {cap.incident_id}")
    raise typer.Exit(0 if all(a.ok for a in cap.actions.values()) else 1)


@app.command()
def document(
    incident_id: str,
    operator: Operator,
    root_cause: Annotated[str, typer.Option(help="what caused the incident")],
    fix: Annotated[str, typer.Option(help="the fix deployed, or why none applies")],
    env_file: EnvFile = None,
) -> None:
    """Record the root cause and the fix (§6.3)."""
    _incident_id(incident_id)
    t = _target(env_file)
    try:
        incident.document(t, incident_id, root_cause=root_cause, fix=fix, operator=operator)
    except incident.NoSuchIncident as exc:
        raise errors.cannot_run(str(exc)) from None
    except incident.IncidentError as exc:
        raise errors.failed(t.redactor.text(str(exc))) from None
    typer.echo(f"{incident_id}: root cause and fix recorded")


@app.command()
def report(
    incident_id: str,
    env_file: EnvFile = None,
    out: Annotated[Path | None, typer.Option(help="report file (default incidents/<id>-report.md)")] = None,
) -> None:
    """Write the §6.6 incident report, pre-filled."""
    _incident_id(incident_id)
    t = _target(env_file)
    try:
        path = incident_report.write(t, incident_id, out or Path("incidents") / f"{incident_id}-report.md")
    except incident.NoSuchIncident as exc:
        raise errors.cannot_run(str(exc)) from None
    except incident.IncidentError as exc:
        raise errors.failed(t.redactor.text(str(exc))) from None
    typer.echo(f"report: {path}")


@app.command()
def resume(
    incident_id: str,
    operator: Operator,
    env_file: EnvFile = None,
    allow_mutations: Annotated[bool, typer.Option("--allow-mutations", help="required: resumes trading")] = False,
    reset_daily: Annotated[bool, typer.Option("--reset-daily", help="reset the daily P&L on the same day")] = False,
) -> None:
    """Run the §6.4 checks and resume trading (§6.5); the kill switch stays ACTIVE if any check fails."""
    if not allow_mutations:
        raise errors.cannot_run("resuming deactivates the kill switch; pass --allow-mutations")
    _incident_id(incident_id)
    t = _target(env_file)
    try:
        res = incident_resume.resume(t, incident_id, operator=operator, reset_daily=reset_daily)
    except incident.NoSuchIncident as exc:
        raise errors.cannot_run(str(exc)) from None
    except incident.IncidentError as exc:
        raise errors.failed(t.redactor.text(str(exc))) from None
    typer.echo(t.redactor.text(res.table()))
    typer.echo(f"RESUMED {incident_id}" if res.resumed else f"REFUSED: {t.redactor.text(res.stopped)}")
    raise typer.Exit(0 if res.resumed else 1)
