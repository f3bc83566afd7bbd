"""``opscheck signoff verify``: walk the sign-off ledger of a live target and name the first altered row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from ops_checks.access.config import ConfigError, live_target, load_env
from ops_checks.cli import errors
from ops_checks.procedures import signoff
from ops_checks.verdict import verdict

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Tamper-evident sign-off ledger.")


@app.command("verify")
def verify_cmd(
    env_file: Annotated[Path | None, typer.Option("--env-file", help="dotenv file with the live settings")] = None,
    expect_head: Annotated[
        str | None, typer.Option(help="a head hash a sign-off printed: it must be in the ledger")
    ] = None,
    anchor: Annotated[
        Path | None, typer.Option(help="anchor file of signed heads (default OPSCHECK_SIGNOFF_ANCHOR)")
    ] = None,
) -> None:
    """Recompute every sign-off hash (and MAC, with OPSCHECK_SIGNOFF_KEY); check the heads anchored for this
    database are all still there. Exit 0 intact, 1 altered or removed rows or no anchor for a ledger with rows,
    2 cannot run (bad settings, unreachable database, unreadable anchor file)."""
    try:
        env = load_env(env_file)
        target = live_target(env, allow_mutations=False)
        key = signoff.key_from(env)
        target.redactor.register(key)
        path = anchor or signoff.anchor_path(env)
        if anchor is not None and not anchor.is_file():
            raise signoff.SignoffError(f"cannot read the anchor file {anchor}: no such file")
        chain = signoff.verify(target.db, target.redactor, key=key, anchor_file=path, expect_head=expect_head)
    except (ConfigError, signoff.SignoffError, OSError) as exc:  # an unreachable database included: exit 2
        raise errors.cannot_run(str(exc)) from None
    if not chain.ok:
        typer.echo(f"LEDGER {'NOT VERIFIED' if chain.unanchored else 'BROKEN'} ({chain.rows} rows): {chain.problem}")
        for note in chain.notes:
            typer.echo(f"note: {note}")
        raise typer.Exit(1)
    checked = (
        ["hash chain"]
        + (["MACs"] if key else [])
        + ([f"{chain.anchored} anchored heads ({chain.ledger.describe()})"] if chain.anchored and chain.ledger else [])
        + (["expected head"] if expect_head else [])
    )
    typer.echo(f"ledger intact: {chain.rows} sign-offs, head {chain.head} ({', '.join(checked)} checked)")
    for note in chain.notes:
        typer.echo(f"note: {note}")
    if not key:
        typer.echo(f"note: {signoff.KEY_ENV} not set: a chain rewritten by someone with write access would pass")


def record_after_run(
    result: dict[str, Any],
    *,
    target_name: str,
    env_file: Path | None,
    run_id: str,
    operator: str,
    witness: str,
    before_commit: Callable[[signoff.Signed], None] | None = None,
) -> tuple[dict[str, Any], str]:
    """Record the run's sign-off; a failure to record makes the run NO-GO. Returns the verdict (``result`` itself
    when signed or on the sandbox, a new NO-GO verdict naming the failure as its last warning when not) and a
    message. ``before_commit`` (``signoff.record``) writes the row into the run's seal; an OSError it raises is
    raised again, and nothing is signed."""
    if target_name != "live":
        return result, "sign-off: not recorded on the sandbox (its database is thrown away)"
    try:
        env = load_env(env_file)
        target = live_target(env, allow_mutations=False)
        key = signoff.key_from(env)
        target.redactor.register(key)
        signed = signoff.record(
            target.db,
            target.redactor,
            result,
            run_id=run_id,
            operator=operator,
            witness=witness,
            key=key,
            before_commit=before_commit,
        )
    except (ConfigError, signoff.SignoffError) as exc:
        result = dict(result, verdict=verdict.NO_GO, warnings=[*result.get("warnings", []), str(exc)])
        return result, f"SIGN-OFF FAILED: {exc}: NO-GO"
    anchor = signoff.anchor_path(env)
    try:
        signoff.append_anchor(anchor, signed, run_id)
        where = f"anchored in {anchor}"
    except OSError as exc:
        where = f"NOT anchored ({anchor}: {exc.strerror or exc}): keep this head hash with the report"
    return result, f"sign-off recorded: ledger row {signed.id}, head {signed.row_hash} ({where})"
