"""The operator never sees a traceback: how ``opscheck``'s ``main()`` ends a command that raised.

- ``ConfigError`` (a bad setting, an unreadable env file) → ``opscheck: cannot run: <reason>``, exit 2.
- Any other exception → ``opscheck: internal error: <Type>: <first line> (log: <file>)``, exit 2; the traceback
  goes to that file (mode 0600, redacted), for a bug report.
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

from ops_checks.core.envfile import ConfigError
from ops_checks.core.redaction import Redactor
from ops_checks.core.settings import NON_THRESHOLD_VARS
from ops_checks.target.config import SECRET_VARS

EXIT_CANNOT_RUN = 2
_FIRST_LINE_MAX = 200


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


def internal_error_line(exc: BaseException) -> str:
    """The one line for an unexpected exception; its traceback is written to a log file it names."""
    redactor = _redactor()
    log = _write_log(exc, redactor)
    where = f"log: {log}" if log is not None else "no log written"
    return f"opscheck: internal error: {type(exc).__name__}: {redactor.text(_first_line(exc))} ({where})"


def run(app: Callable[[], object]) -> None:
    """Run the Typer app; a command's ConfigError or unexpected exception ends in one line and exit 2."""
    try:
        app()
    except ConfigError as exc:
        print(f"opscheck: cannot run: {_first_line(exc)}", file=sys.stderr)
        sys.exit(EXIT_CANNOT_RUN)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, never a traceback
        print(internal_error_line(exc), file=sys.stderr)
        sys.exit(EXIT_CANNOT_RUN)
