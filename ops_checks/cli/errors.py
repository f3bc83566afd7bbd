"""One convention for every ``opscheck`` command: its exit codes and the one line it says when it stops.

Exit codes (README "Exit codes and messages" has the table per command):
- 0 done / all checks passed;
- 1 a check failed, or a refusal: the command ran and a runbook safety rule said no (four eyes, a stale preflight,
  an undocumented root cause, a lock somebody holds);
- 2 cannot run: the command did nothing because it could not start: an invalid or missing option or input (a path
  that does not exist, a flag a mutation needs), an unreadable env file or a bad setting, a database it cannot reach.

Messages go to stderr as one line ``opscheck <command>: <kind>: <reason>``, with ``<command>`` as typed
(``opscheck audit export: cannot run: …``) and ``<kind>`` one of ``cannot run`` (exit 2, ``cannot_run``), ``refused``
(exit 1, ``refused``) or ``FAILED`` (exit 1, ``failed``). Results (tables, ``VERDICT:`` lines) go to stdout.

The operator never sees a traceback: ``run`` ends a command that raised.
- ``ConfigError`` (a bad setting, an unreadable env file) → ``opscheck <command>: cannot run: <reason>``, exit 2.
- Any other exception → ``opscheck <command>: internal error: <Type>: <first line> (log: <file>)``, exit 2; the
  traceback goes to that file (mode 0600, redacted), for a bug report.
- Typer/click's own usage errors (exit 2), ``typer.Exit`` and ``SystemExit`` pass through untouched.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from ops_checks.access.config import SECRET_VARS, DbParams
from ops_checks.access.db import DbError, connect
from ops_checks.core.envfile import ConfigError
from ops_checks.core.redaction import Redactor
from ops_checks.core.settings import NON_THRESHOLD_VARS

EXIT_OK, EXIT_FAILED, EXIT_CANNOT_RUN = 0, 1, 2
EXIT_REFUSED = EXIT_FAILED
CANNOT_RUN, REFUSED, FAILED = "cannot run", "refused", "FAILED"
PROGRAM = "opscheck"
_FIRST_LINE_MAX = 200


def _current_context() -> Any:
    """The running command's context: Typer ≥ 0.2x carries its own copy of click, older ones use click's."""
    get_current_context: Callable[..., Any]
    try:
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - a Typer that still runs on click
        from click import get_current_context
    return get_current_context(silent=True)


def command_name() -> str:
    """``opscheck <command> <subcommand>`` as typed, from the running command's context (``opscheck`` alone outside
    a command)."""
    ctx = _current_context()
    names: list[str] = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join([PROGRAM, *reversed([n for n in names if n])])


def command_from_argv(app: object, argv: list[str]) -> str:
    """The command ``argv`` names in ``app`` (a Typer app), as ``command_name`` spells it: for a line said after
    the command's context is gone (``run``)."""
    names: list[str] = []
    if isinstance(app, typer.Typer):
        group: Any = typer.main.get_command(app)
        for arg in argv:
            sub = getattr(group, "commands", {}).get(arg)
            if sub is None:
                break
            names.append(arg)
            group = sub
    return " ".join([PROGRAM, *names])


def one_line(message: str) -> str:
    return " ".join(ln.strip() for ln in str(message).splitlines() if ln.strip()) or "(no message)"


def say(kind: str, message: str, command: str | None = None) -> None:
    """``opscheck <command>: <kind>: <message>`` on stderr, one line."""
    typer.echo(f"{command or command_name()}: {kind}: {one_line(message)}", err=True)


def cannot_run(message: str) -> typer.Exit:
    """Say ``cannot run`` and return the exit (2) to raise: ``raise errors.cannot_run("…") from None``."""
    say(CANNOT_RUN, message)
    return typer.Exit(EXIT_CANNOT_RUN)


def refused(message: str) -> typer.Exit:
    """Say ``refused`` and return the exit (1) to raise."""
    say(REFUSED, message)
    return typer.Exit(EXIT_REFUSED)


def failed(message: str) -> typer.Exit:
    """Say ``FAILED`` and return the exit (1) to raise."""
    say(FAILED, message)
    return typer.Exit(EXIT_FAILED)


def require_db(params: DbParams, redactor: Redactor, *, consequence: str = "") -> None:
    """Stop with ``cannot run: cannot connect to …[; consequence]`` (exit 2) unless the database answers: one
    connection (3 s timeout), opened read-only and closed at once, before the command changes or reports anything.
    A database that cannot be reached is never a failed check, a refusal or a disagreement."""
    try:
        with connect(params, redactor, read_only=True):
            pass
    except DbError as exc:
        raise cannot_run(redactor.text(str(exc)) + (f"; {consequence}" if consequence else "")) from None


def _redactor() -> Redactor:
    r = Redactor.everything_known()
    for name in (*SECRET_VARS, *NON_THRESHOLD_VARS):
        r.register(os.environ.get(name))
    return r


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    line = lines[0] if lines else "(no message)"
    return line if len(line) <= _FIRST_LINE_MAX else line[:_FIRST_LINE_MAX] + "…"


def _write_log(exc: BaseException, redactor: Redactor) -> Path | None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = Path(tempfile.gettempdir()) / f"opscheck-internal-{stamp}-{os.getpid()}.log"
    text = "".join(traceback.format_exception(exc))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"opscheck {' '.join(sys.argv[1:2])} failed at {stamp}\n{redactor.text(text)}\n")
    except OSError:
        return None
    return path


def internal_error_line(exc: BaseException, command: str = PROGRAM) -> str:
    """The one line for an unexpected exception; its traceback is written to a log file it names."""
    redactor = _redactor()
    log = _write_log(exc, redactor)
    where = f"log: {log}" if log is not None else "no log written"
    return f"{command}: internal error: {type(exc).__name__}: {redactor.text(_first_line(exc))} ({where})"


def run(app: Callable[[], object]) -> None:
    """Run the Typer app; a command's ConfigError or unexpected exception ends in one line and exit 2."""
    try:
        app()
    except ConfigError as exc:
        print(f"{command_from_argv(app, sys.argv[1:])}: {CANNOT_RUN}: {_first_line(exc)}", file=sys.stderr)
        sys.exit(EXIT_CANNOT_RUN)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, never a traceback
        print(internal_error_line(exc, command_from_argv(app, sys.argv[1:])), file=sys.stderr)
        sys.exit(EXIT_CANNOT_RUN)
