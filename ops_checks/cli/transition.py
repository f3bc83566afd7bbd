"""``opscheck transition --to LIVE|DRY_RUN --operator A --witness B --env-file F``: runbook §3.2 with §3.4 rollback.

Live (the default): refuses unless operator ≠ witness and, for LIVE, a GO preflight of the live target finished less
than ``--max-preflight-age-min`` minutes ago (the newest under ``--reports``, or ``--preflight RUN_DIR``) shows every
§3.1 requirement met. Stopping and starting the services (docker-compose) and the real test order are confirmed by
the operator at the prompt; ``--yes`` is refused on live. ``--target sandbox`` runs the whole drill on a throwaway
sandbox (pre-transition preflight, LIVE, back to DRY_RUN) and accepts ``--yes``.

The §3.3 checklist is printed and written as JSON and markdown under ``--reports``; env values are never printed.
The operator and witness recorded are the names given, on the sandbox too.
Exit codes: 0 complete, 1 failed (rolled back) or refused, 2 could not start (bad options, ``--yes`` on live, a
database it cannot reach).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from ops_checks.access.config import ConfigError, live_target, load_env
from ops_checks.checks.s3_transition import transition_gate
from ops_checks.cli import errors
from ops_checks.core.http import HttpError, Recorder, request
from ops_checks.core.redaction import Redactor
from ops_checks.procedures import transition

app = typer.Typer(add_completion=False, help="DRY_RUN to LIVE transition (runbook §3).")


class LiveServices:
    """docker-compose on the operator's host: the operator does it, opscheck verifies through the bot's API."""

    manual = True

    def __init__(self, bot_url: str, health_path: str, redactor: Redactor, timeout_s: float) -> None:
        self.url = bot_url + health_path
        self.redactor = redactor
        self.timeout_s = timeout_s

    def _answers(self) -> bool:
        try:
            resp = request("GET", self.url, recorder=Recorder(self.redactor), timeout=3)
        except HttpError:
            return False
        return resp.status_code == 200

    def _wait(self, up: bool) -> bool:
        import time

        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            if self._answers() == up:
                return True
            time.sleep(1)
        return False

    def stop(self) -> list[str]:
        return [] if self._wait(up=False) else [f"the bot's API still answers after {self.timeout_s:g} s"]

    def start(self) -> list[str]:
        return [] if self._wait(up=True) else [f"the bot's API is not healthy within {self.timeout_s:g} s"]


def _print(tr: transition.Transition) -> None:
    typer.echo(tr.markdown())
    for f in tr.record_files:
        typer.echo(f"record: {f}")
    typer.echo(f"TRANSITION {tr.id}: {'COMPLETE' if tr.ok else 'REFUSED' if tr.refused else 'FAILED'}")


@app.command()
def transition_cmd(
    to: Annotated[str, typer.Option("--to", help="LIVE or DRY_RUN")],
    operator: Annotated[str, typer.Option(help="operator doing the transition")],
    witness: Annotated[str, typer.Option(help="second authorised operator (four eyes)")],
    env_file: Annotated[Path | None, typer.Option("--env-file", help="the bot's .env (edited in place)")] = None,
    target: Annotated[str, typer.Option(help="live (default) or sandbox (a throwaway drill)")] = "live",
    yes: Annotated[bool, typer.Option("--yes", help="answer every confirmation yes (sandbox and tests only)")] = False,
    max_preflight_age_min: Annotated[float, typer.Option("--max-preflight-age-min")] = 30.0,
    reports: Annotated[Path, typer.Option(help="preflight runs and transition records")] = Path("reports"),
    preflight: Annotated[Path | None, typer.Option(help="the preflight run dir (default: newest)")] = None,
    backups: Annotated[Path, typer.Option(help="backup root (§3.2 Step 3)")] = Path("backups"),
) -> None:
    """Walk §3.2's ten steps with four-eyes evidence; roll back (§3.4) on any failure."""
    to = to.strip().upper()
    if to not in transition.MODES:
        raise errors.cannot_run("--to must be LIVE or DRY_RUN")
    if target not in ("live", "sandbox"):
        raise errors.cannot_run("--target must be live or sandbox")
    if not operator.strip() or not witness.strip():
        raise errors.cannot_run("--operator and --witness need a name each")
    if transition_gate.same_person(operator, witness):
        raise errors.refused("operator and witness must be two different people (four eyes)")
    if target == "sandbox":
        raise typer.Exit(_sandbox(reports, operator.strip(), witness.strip()))
    if yes:
        raise errors.cannot_run("--yes is for the sandbox and tests; on live every manual step is confirmed")
    if env_file is None:
        raise errors.cannot_run("--env-file is required on live")
    try:
        t = live_target(load_env(env_file), allow_mutations=True)
    except ConfigError as exc:
        raise errors.cannot_run(str(exc)) from None
    pf = None
    if to == "LIVE":
        try:
            pf = transition_gate.load(preflight) if preflight else transition_gate.latest(reports, "live")
        except transition_gate.GateError as exc:
            raise errors.refused(str(exc)) from None
    errors.require_db(t.db, t.redactor)  # a database it cannot reach: one line, exit 2, before any step
    opts = transition.Options(
        to=to,
        operator=operator,
        witness=witness,
        env_file=env_file,
        backup_root=backups,
        record_dir=reports / "transitions",
        services=LiveServices(t.bot_api_url, t.bot_health_path, t.redactor, 60),
        confirm=lambda q: typer.confirm(q, default=False),
        preflight=pf,
        max_preflight_age_min=max_preflight_age_min,
    )
    tr = transition.run(t, opts)
    _print(tr)
    raise typer.Exit(0 if tr.ok else 1)


def _sandbox(reports: Path, operator: str, witness: str) -> int:
    # imported here, not with the module: every opscheck command (a preflight too) imports this one to register it
    from ops_checks.drills import transition_drill
    from ops_checks.sandbox.environment import Sandbox

    with Sandbox() as sb:
        transition_drill.write_env_file(sb, sb.workdir / transition_drill.ENV_FILE)
        work = Path(tempfile.mkdtemp(prefix="opscheck-transition-", dir=reports if reports.is_dir() else None))
        drill = transition_drill.run(sb, work, operator=operator, witness=witness)
    for tr in (drill.to_live, drill.back):
        if tr is not None:
            _print(tr)
    ok = drill.to_live is not None and drill.to_live.ok and drill.back is not None and drill.back.ok
    return 0 if ok else 1
