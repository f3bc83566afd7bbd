"""``opscheck signoff verify``: walk the sign-off ledger of a live target and name the first altered row."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ops_checks import signoff, verdict
from ops_checks.config import ConfigError, live_target, load_env

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Tamper-evident sign-off ledger.")


@app.command("verify")
def verify_cmd(
    env_file: Annotated[Path | None, typer.Option("--env-file", help="dotenv file with the live settings")] = None,
) -> None:
    """Recompute every sign-off hash; exit 0 intact, 1 altered or removed rows, 2 unreadable."""
    try:
        target = live_target(load_env(env_file), allow_mutations=False)
        chain = signoff.verify(target.db, target.redactor)
    except (ConfigError, signoff.SignoffError) as exc:
        typer.echo(f"opscheck: cannot run: {exc}", err=True)
        raise typer.Exit(verdict.EXIT_CANNOT_RUN) from None
    if not chain.ok:
        typer.echo(f"LEDGER BROKEN ({chain.rows} rows): {chain.problem}")
        raise typer.Exit(1)
    typer.echo(f"ledger intact: {chain.rows} sign-offs, head {chain.head}")


def record_after_run(result: dict[str, Any], *, target_name: str, env_file: Path | None, run_id: str,
                     operator: str, witness: str) -> tuple[dict[str, Any], str]:
    """Record the run's sign-off; a failure to record makes the run NO-GO. Returns the verdict and a message."""
    if target_name != "live":
        return result, "sign-off: not recorded on the sandbox (its database is thrown away)"
    try:
        target = live_target(load_env(env_file), allow_mutations=False)
        signed = signoff.record(target.db, target.redactor, result, run_id=run_id, operator=operator,
                                witness=witness)
    except (ConfigError, signoff.SignoffError) as exc:
        result = dict(result, verdict=verdict.NO_GO, warnings=[*result.get("warnings", []), str(exc)])
        return result, f"SIGN-OFF FAILED: {exc}: NO-GO"
    return result, f"sign-off recorded: ledger row {signed.id}, head {signed.row_hash}"
