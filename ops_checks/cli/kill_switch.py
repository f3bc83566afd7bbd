"""``opscheck kill-switch status|activate|deactivate|verify``: the kill switch for operators (runbook §4.2, §4.3).

Safety choices:
- ``activate`` is ALWAYS allowed, on live too, without ``--allow-mutations``: it is the safe direction, and an
  operator in an emergency must not be stopped by a flag (runbook §5.2). It never waits behind a verification (it
  takes no advisory lock); a row lock held elsewhere is retried until ``--deadline`` and each wait is said. On a
  switch that is already ACTIVE it keeps the first reason and time and says so, except over a verification's
  temporary hold, which it takes over: the verification then leaves the switch ACTIVE (compare-and-set).
- ``deactivate`` is the unsafe direction: on live it needs ``--allow-mutations``, and it refuses while a
  verification run holds the advisory lock.
- ``verify`` runs the §4.3 procedure (it activates and deactivates): on live it needs ``--allow-mutations``.
- ``status`` only reads (it writes no event row: a read must stay possible on a read-only role).
Every change writes a ``circuit_breaker_events`` row (MANUAL_LOCK / MANUAL_UNLOCK; a deactivation and its row are one
statement, so an unauditable deactivation does not happen) and records the operator in
``opscheck.ops_operator_actions``; each command prints the state, including the bot's other switches when set.
Exit codes: 0 done, 1 failed (or verification NO-GO), 2 could not start, 130 interrupted (switch left ACTIVE).
"""

from __future__ import annotations

import getpass
import signal
from pathlib import Path
from typing import Annotated

import typer

from ops_checks.access import guardian, kill_switch_state
from ops_checks.access.config import ConfigError, Target, live_target, load_env
from ops_checks.access.db import DbError, connect
from ops_checks.cli import errors
from ops_checks.core import signals
from ops_checks.core.http import Recorder
from ops_checks.procedures import kill_switch

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Read, activate, deactivate, verify the kill switch."
)

EnvFile = Annotated[Path | None, typer.Option("--env-file", help="dotenv file with the live settings")]
Operator = Annotated[str | None, typer.Option(help="who is acting (default: the login name)")]
Via = Annotated[str, typer.Option(help="sql (Method 1, default) or api (Method 2, the guardian API)")]


def _target(env_file: Path | None, allow_mutations: bool) -> Target:
    try:
        return live_target(load_env(env_file), allow_mutations=allow_mutations)
    except ConfigError as exc:
        raise errors.cannot_run(str(exc)) from None


def _operator(name: str | None) -> str:
    if name:
        return name
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown-operator"


def _print_state(t: Target) -> int:
    """The state line that ends every command: read back (bounded), or UNKNOWN with the reason and the SQL."""
    line = kill_switch.state_line(t)
    typer.echo(line)
    return 1 if line.startswith("kill switch: UNKNOWN") else 0


def _activate_sql(t: Target, *, reason: str, operator: str, deadline_s: float) -> int:
    """Method 1 for an operator: retried under a row lock until the deadline; the state line always ends it."""
    problems: list[str] = []

    def waiting(attempt: int, why: str) -> None:
        typer.echo(f"waiting: {t.redactor.text(why)}; retrying (attempt {attempt + 1}, up to {deadline_s:.0f} s)")

    try:
        with connect(t.db, t.redactor, read_only=False) as db:
            done = kill_switch_state.activate_operator(db, reason, deadline_s=deadline_s, on_wait=waiting)
            note = kill_switch_state.record_event(
                db, activated=True, reason=reason, operator=operator, via="opscheck cli"
            )
            if note:
                problems.append(note)
    except kill_switch_state.ActivationTimeout as exc:
        errors.say(
            errors.FAILED,
            f"{t.redactor.text(str(exc))}; activate it by hand: "
            "UPDATE system_settings SET circuit_breaker_active = TRUE WHERE id = 1",
        )
        return max(_print_state(t), 1)
    except DbError as exc:
        problems.append(f"database: {exc}")
    else:
        if done.took_over:
            typer.echo(
                f"took over the kill switch from a running verification ({done.took_over}): it stays ACTIVE "
                "until deactivated"
            )
        elif done.already_active:
            typer.echo(
                "kill switch was already ACTIVE: first reason and time kept; your activation is recorded "
                "as a MANUAL_LOCK event"
            )
    for problem in problems:
        typer.echo(f"WARNING: could not activate cleanly: {t.redactor.text(problem)}", err=True)
    code = _print_state(t)
    return 1 if problems or code else 0


def _change(t: Target, *, activate: bool, reason: str, operator: str, via: str) -> int:
    verb = "activate" if activate else "deactivate"
    if via not in kill_switch.METHODS:
        errors.say(errors.CANNOT_RUN, f"--via must be one of {', '.join(kill_switch.METHODS)}")
        return errors.EXIT_CANNOT_RUN
    problems: list[str] = []
    try:
        with connect(t.db, t.redactor, read_only=False) as db:
            if not activate and not kill_switch_state.try_lock(db):
                errors.say(errors.REFUSED, "a kill-switch verification is running (advisory lock held); try again")
                _print_state(t)
                return errors.EXIT_REFUSED
            if via == "sql":
                _, note = kill_switch_state.deactivate_recorded(
                    db, reason=reason, operator=operator, via="opscheck cli"
                )
                if note:
                    problems.append(note)
            else:
                rec = Recorder(t.redactor)
                problem = kill_switch.method2_problem(t, rec) or guardian.set_kill_switch(
                    t, rec, activate=activate, reason=reason
                )
                if problem:
                    problems.append(problem + ("; use --via sql (Method 1)" if activate else ""))
    except DbError as exc:
        unchanged = (
            "" if activate else " (the deactivation and its MANUAL_UNLOCK event are one statement: nothing changed)"
        )
        problems.append(f"database: {exc}{unchanged}")
    for problem in problems:
        typer.echo(f"WARNING: could not {verb} cleanly: {t.redactor.text(problem)}", err=True)
    code = _print_state(t)
    return 1 if problems or code else 0


@app.command()
def status(env_file: EnvFile = None) -> None:
    """Print the kill switch state from system_settings (read-only)."""
    t = _target(env_file, allow_mutations=False)
    errors.require_db(t.db, t.redactor)  # a database it cannot reach: one line, exit 2
    raise typer.Exit(_print_state(t))


@app.command()
def activate(
    reason: Annotated[str, typer.Option(help="why (recorded in system_settings and circuit_breaker_events)")],
    env_file: EnvFile = None,
    operator: Operator = None,
    via: Via = "sql",
    deadline: Annotated[
        float, typer.Option(help="seconds to keep retrying while another session locks the row")
    ] = 60.0,
) -> None:
    """Activate the kill switch. Always allowed: it is the safe direction."""
    if not 1 <= deadline <= 3600:  # nan and inf included
        raise errors.cannot_run(f"--deadline must be a number of seconds from 1 to 3600, not {deadline}")
    t = _target(env_file, allow_mutations=True)
    if via == "sql":  # Method 1 is the database: one it cannot reach is one line, exit 2, nothing changed
        errors.require_db(
            t.db,
            t.redactor,
            consequence="the kill switch was NOT activated: stop the bot by hand (runbook §5.3: docker stop "
            "autonomous_alpha_bot), or try the guardian API: opscheck kill-switch activate --via api",
        )
        code = _activate_sql(t, reason=reason, operator=_operator(operator), deadline_s=deadline)
    else:
        code = _change(t, activate=True, reason=reason, operator=_operator(operator), via=via)
    raise typer.Exit(code)


@app.command()
def deactivate(
    env_file: EnvFile = None,
    operator: Operator = None,
    reason: Annotated[str, typer.Option(help="why trading may resume")] = "MANUAL_RELEASE",
    allow_mutations: Annotated[bool, typer.Option("--allow-mutations", help="required: resumes trading")] = False,
    via: Via = "sql",
) -> None:
    """Deactivate the kill switch (needs --allow-mutations: it lets the bot trade again)."""
    if not allow_mutations:
        raise errors.cannot_run("deactivating the kill switch resumes trading; pass --allow-mutations")
    t = _target(env_file, allow_mutations=True)
    errors.require_db(t.db, t.redactor)  # a database it cannot reach: one line, exit 2, nothing changed
    raise typer.Exit(_change(t, activate=False, reason=reason, operator=_operator(operator), via=via))


@app.command()
def verify(
    env_file: EnvFile = None,
    operator: Operator = None,
    allow_mutations: Annotated[bool, typer.Option("--allow-mutations", help="required: activates the switch")] = False,
    via: Via = "sql",
) -> None:
    """Run the §4.3 procedure (activate, HALT, test trade rejected, deactivate, ALLOW) and print each step."""
    if not allow_mutations:
        raise errors.cannot_run("the verification activates and deactivates the kill switch; pass --allow-mutations")
    t = _target(env_file, allow_mutations=True)
    errors.require_db(t.db, t.redactor)  # a database it cannot reach: one line, exit 2, nothing changed
    received: list[int] = []

    def interrupt(signum: int, _frame: object) -> None:
        received.append(signum)
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    flow = kill_switch.KillSwitchFlow(via)
    try:
        kill_switch.run_flow(t, kill_switch.FlowOptions(method=via, operator=_operator(operator)), flow)
    except (kill_switch.Interrupted, KeyboardInterrupt) as exc:
        # From here on further signals wait: the state line must print (the re-read is bounded). Whether the switch
        # was touched comes from the flow itself, never from which exception happened to arrive.
        with signals.deferred():
            name = signal.Signals(received[0]).name if received else "SIGINT"
            if isinstance(exc, kill_switch.Interrupted):
                detail = str(exc)
            elif flow.touched:
                detail = "the verification had activated the kill switch; its state, read back now, follows"
            else:
                detail = "the kill switch was not touched"
            typer.echo(f"INTERRUPTED by {name}: {detail}", err=True)
            _print_state(t)  # read back from the database after the fact
        raise typer.Exit(128 + (received[0] if received else signal.SIGINT)) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for item in kill_switch.FLOW_ORDER:
        result = flow.outcome(item)
        if result is None:
            typer.echo(f"NOT VERIFIED {item}: {flow.not_reached(item).reason}")
        else:
            typer.echo(f"{'PASSED' if result.ok else 'FAILED':<12} {item}: {t.redactor.text(result.summary())}")
    if flow.latency_ms is not None:
        typer.echo(f"response time: {flow.latency_ms} ms (limit {t.thresholds.kill_switch_max_ms} ms)")
    code = _print_state(t)
    raise typer.Exit(0 if flow.ok and len(flow.results) == len(kill_switch.FLOW_ORDER) and not code else 1)
