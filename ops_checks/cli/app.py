"""``opscheck``: the operator's command line.

``opscheck preflight`` runs the runbook scenarios (pytest-bdd) against the chosen target in a subprocess,
then prints the verdict, leaves ``reports/<run-id>/`` (verdict.json, junit.xml, allure-results, html/) and
exits 0 GO, 1 NO-GO, 2 when the run itself could not start.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from ops_checks import __version__
from ops_checks.access import scope as scopes
from ops_checks.access.config import ConfigError, live_target, load_env
from ops_checks.catalogue import cadence as cadences
from ops_checks.catalogue import runbook_text
from ops_checks.cli import audit as cli_audit
from ops_checks.cli import drift as cli_drift
from ops_checks.cli import env as cli_env
from ops_checks.cli import errors as cli_errors
from ops_checks.cli import evidence, supervise
from ops_checks.cli import evidence_verify as cli_evidence_verify
from ops_checks.cli import incident as cli_incident
from ops_checks.cli import init as cli_init
from ops_checks.cli import kill_switch as cli_killswitch
from ops_checks.cli import output as cli_output
from ops_checks.cli import runbook as cli_runbook
from ops_checks.cli import serve as cli_serve
from ops_checks.cli import signoff as cli_signoff
from ops_checks.cli import transition as cli_transition
from ops_checks.core import settings, signals
from ops_checks.pytest_plugin import PLUGIN, features_dir, selection, steps_dir
from ops_checks.sandbox import postgres
from ops_checks.verdict import verdict, waivers

RUN_TIMEOUT_S = 900

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Executable runbook checks for the trading bot.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"opscheck {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Executable runbook checks for the trading bot."""


def _fail_to_start(message: str) -> typer.Exit:
    return cli_errors.cannot_run(message)  # one line, exit 2 (verdict.EXIT_CANNOT_RUN)


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def pytest_argv(
    run_dir: Path,
    *,
    target: str,
    env_file: Path | None,
    allow_mutations: bool,
    operator: str | None,
    witness: str | None,
    faults: list[str],
    select: str | None,
    cadence: str | None = None,
) -> list[str]:
    # the installed package's steps and features: no ini file, conftest or working directory of the caller counts
    argv = [
        sys.executable,
        "-m",
        "pytest",
        str(steps_dir()),
        "-c",
        os.devnull,
        "--rootdir",  # holds both: the repository (a checkout) or the plugin package (the wheel)
        str(features_dir().parent),
        "--confcutdir",
        str(steps_dir()),
        # only the plugins a preflight uses (no other installed plugin is loaded), and no assertion rewriting:
        # checks return results and the Then step raises its own failure, so rewriting every module of the
        # package on import (pytest does that for a plugin's whole distribution) would only cost time
        "--disable-plugin-autoload",
        "-p",
        "pytest_bdd.plugin",
        "-p",
        "allure_pytest_bdd.plugin",
        "-p",
        PLUGIN,
        "--assert=plain",
        "--strict-markers",
        "-o",
        f"bdd_features_base_dir={features_dir()}",
        "-o",
        "xfail_strict=true",
        "-q",
        "-rN",
        "--tb=no",
        "--no-header",
        "-p",
        "no:cacheprovider",
        "--target",
        target,
        "--run-dir",
        str(run_dir),
        "--junitxml",
        str(run_dir / "junit.xml"),
        "--cucumberjson",
        str(run_dir / "cucumber.json"),
        "--alluredir",
        str(run_dir / "allure-results"),
    ]
    if env_file is not None:
        argv += ["--env-file", str(env_file)]
    if allow_mutations:
        argv.append("--allow-mutations")
    for opt, value in (("--operator", operator), ("--witness", witness)):
        if value:
            argv += [opt, value]
    for fault in faults:
        argv += ["--sandbox-fault", fault]
    if select:
        argv += ["-m", select]
    if cadence:
        argv += ["--cadence", cadence]
    return argv


@app.command()
def preflight(
    target: Annotated[str, typer.Option(help="sandbox (default) or live")] = "sandbox",
    env_file: Annotated[Path | None, typer.Option("--env-file", help="dotenv file with the live settings")] = None,
    allow_mutations: Annotated[bool, typer.Option("--allow-mutations", help="live: allow the writing checks")] = False,
    operator: Annotated[str | None, typer.Option(help="operator running the preflight")] = None,
    witness: Annotated[str | None, typer.Option(help="second operator (four eyes)")] = None,
    reports: Annotated[Path, typer.Option(help="directory for run reports")] = Path("reports"),
    sandbox_fault: Annotated[
        list[str] | None, typer.Option("--sandbox-fault", help="break the sandbox (tests)")
    ] = None,
    select: Annotated[str | None, typer.Option("-m", help="pytest marker expression, e.g. section_1_3")] = None,
    html: Annotated[bool, typer.Option(help="render the single-file HTML report")] = True,
    waivers_file: Annotated[
        Path | None, typer.Option("--waivers", help="approved waivers (YAML); or env OPSCHECK_WAIVERS; none by default")
    ] = None,
    runbook: Annotated[
        Path | None,
        typer.Option(
            help=f"runbook directory (default ${runbook_text.ENV}, else ../shared/runbooks beside the checkout)"
        ),
    ] = None,
    cadence: Annotated[
        str | None, typer.Option(help="also run the SOP prevention items of this cadence: weekly, monthly")
    ] = None,
    features: Annotated[
        str | None, typer.Option(help="only these feature files (comma-separated globs, e.g. '1_*.feature')")
    ] = None,
    migrations: Annotated[
        Path | None,
        typer.Option(help="sandbox: build the bot's schema from DIR/*.sql (lexical order) instead of the model"),
    ] = None,
    output_format: Annotated[
        str | None, typer.Option("--format", help="also print the verdict on stdout: json, junit, tap or nagios")
    ] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="print only the VERDICT line")] = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="one line per item as it is checked")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="no colour (also: env NO_COLOR)")] = False,
    deadline: Annotated[
        float, typer.Option(help="seconds the whole run may take; then it ends in a NO-GO verdict")
    ] = RUN_TIMEOUT_S,
) -> None:
    """Run the go/no-go checks and print the verdict."""
    if output_format is not None and output_format not in cli_output.FORMATS:
        raise _fail_to_start(f"--format must be one of {', '.join(cli_output.FORMATS)}, not {output_format!r}")
    if not 0 < deadline <= 24 * 3600:
        raise _fail_to_start(f"--deadline must be between 0 and 86400 seconds, not {deadline}")
    console = cli_output.Console(quiet=quiet, verbose=verbose, color=not no_color, fmt=output_format)
    if target not in ("sandbox", "live"):
        raise _fail_to_start(f"--target must be sandbox or live, not {target!r}")
    try:
        cadences.parse(cadence)
    except ValueError as exc:
        raise _fail_to_start(str(exc)) from None
    if waivers_file is None and os.environ.get(waivers.ENV):
        waivers_file = Path(os.environ[waivers.ENV])  # never a file found by chance in the working directory
    if waivers_file is not None:
        try:
            loaded = waivers.load(waivers_file)
        except waivers.WaiverError as exc:
            raise _fail_to_start(str(exc)) from None
        console.say(waivers.banner(waivers_file, loaded))
    if target == "live":
        try:
            live_target(load_env(env_file), allow_mutations=allow_mutations)
            declared = scopes.from_env(load_env(env_file))
        except ConfigError as exc:
            raise _fail_to_start(str(exc)) from None
    elif env_file is not None:
        raise _fail_to_start("--env-file applies to --target live only")
    else:
        try:
            settings.check(os.environ)  # the OPSCHECK_ thresholds, before anything starts
            declared = scopes.from_env(os.environ)  # the sandbox passes OPSCHECK_SCOPE through
        except ConfigError as exc:
            raise _fail_to_start(str(exc)) from None
    if migrations is not None and target != "sandbox":
        raise _fail_to_start("--migrations applies to --target sandbox only")
    if bool(operator) != bool(witness):
        raise _fail_to_start("a signed run needs both --operator and --witness (two different people)")
    if operator and operator.strip().lower() == (witness or "").strip().lower():
        raise cli_errors.refused("--operator and --witness must be two different people (four eyes)")
    if operator and (features or select):
        raise _fail_to_start(
            "a selection (--features/-m) gives a PARTIAL verdict, which is never signed: "
            "drop --operator/--witness or run the whole preflight"
        )
    for flag, given in (("--features", features), ("-m", select)):
        if given is not None and not given.strip(" ,"):  # `--features ''` is a mistake, not "everything"
            raise _fail_to_start(f"{flag} names nothing: give a selection or leave the option out")
    if features or select:  # a selection that is malformed or picks no item: one line, before anything starts
        try:
            selection.resolve(features, select, cadence)
        except selection.SelectionError as exc:
            raise _fail_to_start(str(exc)) from None
    server = _migrations_server(migrations) if migrations is not None else _container_server(target)
    evidence.private_umask()  # the run's folders and files (its child's and Allure's too): 0750/0640 at most
    run_dir = (reports / new_run_id()).resolve()
    run_dir.mkdir(parents=True)
    argv = pytest_argv(
        run_dir,
        target=target,
        env_file=env_file,
        allow_mutations=allow_mutations,
        operator=operator,
        witness=witness,
        faults=sandbox_fault or [],
        select=select,
        cadence=cadence,
    )
    if waivers_file is not None:
        argv += ["--waivers", str(waivers_file.resolve())]
    runbooks = runbook_text.resolve_dir(runbook)
    argv += ["--runbook", str(runbooks)]
    try:  # the system checked, as the claim records it (the env file as it was when the run started)
        identity = evidence.target_identity(target, env_file, runbooks)
    except (ConfigError, OSError) as exc:
        if server is not None:
            server.stop()
        why = getattr(exc, "strerror", None) or exc
        raise _fail_to_start(f"the system checked cannot be recorded: {why}") from None
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    if features:
        env["OPSCHECK_FEATURES"] = features
    if server is not None:  # a server of its own for the operator's migrations, or in a container
        env[postgres.DSN_ENV] = server.admin_dsn
    if migrations is not None:
        env[postgres.MIGRATIONS_ENV] = str(migrations.resolve())
    if target == "sandbox":  # which Postgres the sandbox used, as the claim records it
        identity["sandbox_postgres"] = server.describe() if server is not None else _sandbox_postgres_kind()
    console.say(f"opscheck {__version__}: preflight against the {target}; run {run_dir.name}")
    console.say(declared.describe())
    note = runbook_text.missing_note(runbooks)
    if note:
        console.say(note)
    started = datetime.now(UTC)
    redactor = evidence.run_redactor()  # pytest.log is masked as it is written, and again once the child ends
    handover = evidence.SecretsPipe()  # with every secret the child knew: it hands them over when it ends
    env.update(handover.env())
    try:
        ran = supervise.run(
            argv,
            cwd=Path.cwd(),
            env=env,
            timeout_s=deadline,
            on_line=console.child_line,
            log_path=run_dir / verdict.LOG_FILE,
            redact=redactor.text,
            pass_fds=(handover.write_fd,),
        )
    finally:
        if server is not None:
            server.stop()
    unseen = handover.receive(redactor)  # and what the child did not know: its files are masked with it too
    log_problem = evidence.finish_log(run_dir / verdict.LOG_FILE, redactor, ran.log_error)
    if ran.interrupted:
        with signals.deferred():  # the state line always prints: its read is bounded, further signals wait for it
            typer.echo(f"\nINTERRUPTED by {ran.signal_name()}: the run was stopped before it finished.", err=True)
            mark_interrupted(
                run_dir, ran.signal_name(), target=target, started_at=started, operator=operator, witness=witness
            )
            typer.echo(kill_switch_left(target, env_file), err=True)
        raise typer.Exit(128 + int(ran.signal or 0))
    verdict_path = run_dir / verdict.VERDICT_FILE
    if ran.timed_out:  # the run's deadline ends in a verdict (never GO), not in a kill
        typer.echo(kill_switch_left(target, env_file), err=True)
        if not verdict_path.exists():
            raise _fail_to_start(f"the checks did not finish within {deadline:.0f} s and wrote no verdict")
        try:
            late = evidence.read_verdict(run_dir)
            late["warnings"] = [
                *late.get("warnings", []),
                f"the run's deadline ({deadline:.0f} s) was reached: items not finished are not verified",
            ]
            late["verdict"] = verdict.NO_GO
            verdict.write(run_dir, late)
        except (evidence.EvidenceError, OSError) as exc:
            raise _evidence_incomplete(run_dir, exc) from None
    if not verdict_path.exists():  # one line, never the log's tail (an INTERNALERROR's traceback)
        cause = evidence.last_error(run_dir / verdict.LOG_FILE) or log_problem
        where = f"log: {run_dir / verdict.LOG_FILE}" if log_problem is None else "no log kept"
        raise _fail_to_start(f"the checks produced no verdict{f': {cause}' if cause else ''} ({where})")
    # evidence before claims: every file whole, private, fsync'd, the claim written, all of it in the manifest and
    # the seal naming its hash; only then the sign-off, whose commit is the run's last write
    try:
        result = evidence.read_verdict(run_dir)
        unsigned = evidence.unsigned_reason(result, target=target, operator=operator, witness=witness)
        sealed = evidence.seal(
            run_dir,
            result,
            target=target,
            html=html,
            log_problem=log_problem,
            unseen=unseen,
            identity=identity,
            quotes=evidence.runbook_quotes(result, runbooks),
            unsigned=unsigned,
        )
    except evidence.EvidenceError as exc:
        raise _evidence_incomplete(run_dir, exc) from None
    for note in sealed.notes:
        typer.echo(note, err=True)
    if operator and witness and result["verdict"] != verdict.PARTIAL:
        try:  # the row's id and head hash go into the seal before the row is committed
            signed, message = cli_signoff.record_after_run(
                result,
                target_name=target,
                env_file=env_file,
                run_id=run_dir.name,
                operator=operator,
                witness=witness,
                before_commit=evidence.signing(run_dir, result, html=html),
            )
        except evidence.EvidenceError as exc:
            raise _evidence_incomplete(run_dir, exc) from None
        if signed is not result:  # not signed, so NO-GO: sealed again, the seal saying why
            result = signed
            try:
                evidence.reseal(run_dir, result, sealed, html=html, unsigned=str(result["warnings"][-1]))
            except evidence.EvidenceError as exc:
                raise _evidence_incomplete(run_dir, exc) from None
        console.say(message)
    console.say(f"results SHA-256 {result['results_sha256']} (check it: opscheck evidence verify {run_dir})")
    console.verdict(result, run_dir=run_dir, html=sealed.page)
    raise typer.Exit(verdict.EXIT_CODES.get(result["verdict"], verdict.EXIT_NO_GO))


def mark_interrupted(
    run_dir: Path, signal_name: str, *, target: str, started_at: datetime, operator: str | None, witness: str | None
) -> Path | None:
    """An interrupted run's verdict.json says so: ``"interrupted": true`` and the ``"signal"``, and its verdict is
    NO-GO (the items not finished are not verified; never GO). The child's verdict is kept and marked; when it
    wrote none, a minimal one (no items) is written. Returns the file, or None when it could not be written."""
    path = run_dir / "verdict.json"
    why = f"interrupted by {signal_name}: the run was stopped before it finished; items not finished are not verified"
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict):
        data = verdict.build(
            [], target=target, started_at=started_at, finished_at=datetime.now(UTC), operator=operator, witness=witness
        ) | {"run_id": run_dir.name}
    data.update(verdict=verdict.NO_GO, interrupted=True, signal=signal_name, warnings=[*data.get("warnings", []), why])
    try:
        return verdict.write(run_dir, data)
    except OSError as exc:
        typer.echo(f"verdict.json not marked interrupted: {exc}", err=True)
        return None


def _evidence_incomplete(run_dir: Path, exc: BaseException) -> typer.Exit:
    """Exit 2, one line: a run whose evidence is not whole on disk claims nothing and is never signed."""
    why = str(exc) if isinstance(exc, evidence.EvidenceError) else f"{getattr(exc, 'strerror', None) or exc}"
    aside = evidence.set_aside(run_dir)
    return _fail_to_start(f"the run's evidence could not be written whole ({why}): not signed{aside} (run {run_dir})")


def _migrations_server(directory: Path) -> postgres.Server:
    """``--migrations DIR``: prove the files apply (stop on error) and the seed fits, on a throwaway database,
    before any check runs; the pytest run then gets this server and the directory through its environment."""
    try:
        server = postgres.start_server()
    except postgres.ProvisionError as exc:
        raise _fail_to_start(f"--migrations: no Postgres server: {exc}") from None
    try:
        db = postgres.create_database(server, migrations=directory.resolve())
    except postgres.ProvisionError as exc:
        server.stop()
        raise _fail_to_start(f"--migrations {directory}: {exc}") from None
    postgres.drop_database(db)
    return server


def _container_server(target: str) -> postgres.Server | None:
    """The sandbox's Postgres in a container when a Docker engine answers (testcontainers), started here so that a
    failure to pull or start it is one line and exit 2 (not every item in error); the checks get it by DSN."""
    if target != "sandbox" or os.environ.get(postgres.DSN_ENV) or not postgres.docker_answers():
        return None
    try:
        return postgres.start_testcontainer()
    except postgres.ProvisionError as exc:
        raise _fail_to_start(f"the sandbox's Postgres: {exc}") from None


def _sandbox_postgres_kind() -> dict[str, str]:
    """The sandbox's Postgres when this process did not start one: the operator's DSN, else local server binaries."""
    return {"kind": "dsn"} if os.environ.get(postgres.DSN_ENV) else {"kind": "local-cluster"}


def kill_switch_left(target: str, env_file: Path | None) -> str:
    """The kill-switch state a stopped run leaves behind, read back from the database after the fact (bounded; a
    further signal waits until the line is printed), or UNKNOWN with the reason and the SQL to check by hand."""
    if target != "live":
        return "kill switch: the sandbox's throwaway database went with the run (nothing live was touched)"
    from ops_checks.access.kill_switch_state import CHECK_BY_HAND
    from ops_checks.procedures.kill_switch import state_line

    try:
        t = live_target(load_env(env_file), allow_mutations=False)
    except ConfigError as exc:
        return (
            f"kill switch: UNKNOWN — cannot read it back ({exc}); treat it as ACTIVE and check by hand: {CHECK_BY_HAND}"
        )
    return state_line(t)


# Sub-commands of other areas register here, one line each: app.add_typer(<module>.app, name="<name>")
app.add_typer(cli_signoff.app, name="signoff")
app.add_typer(cli_evidence_verify.app, name="evidence")  # opscheck evidence verify RUN_DIR: a run's seal
app.command("serve")(cli_serve.serve_cmd)
app.add_typer(cli_env.app)  # opscheck env verify, opscheck secrets rotated
app.add_typer(cli_drift.app, name="drift")  # opscheck drift: one offset measurement (runbook §8)
app.add_typer(cli_killswitch.app, name="kill-switch")  # opscheck kill-switch status|activate|deactivate|verify
app.add_typer(cli_audit.app, name="audit")  # opscheck audit export|verify|compliance (runbook §7)
app.command("transition")(cli_transition.transition_cmd)  # opscheck transition --to LIVE|DRY_RUN (§3)
app.add_typer(cli_incident.app, name="incident")  # opscheck incident capture|document|report|resume (§6)
app.add_typer(cli_runbook.app, name="runbook")  # opscheck runbook check: the runbook against the system
app.command("init")(cli_init.init_cmd)  # opscheck init: the suite's own schema and the bot role's grants


def main() -> None:
    cli_errors.run(app)  # a ConfigError or an unexpected exception: one line and exit 2, never a traceback


if __name__ == "__main__":
    main()
