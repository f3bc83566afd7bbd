"""``opscheck serve``: read-only monitoring between sessions (see ops_checks/cli/monitor.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ops_checks import catalogue
from ops_checks.access.config import ConfigError, live_target, load_env
from ops_checks.catalogue import ITEMS, cadence
from ops_checks.cli import errors
from ops_checks.cli import monitor as serve
from ops_checks.core import settings


def mutating_ids() -> set[str]:
    """The items serve never runs: those the registry declares mutating (Item.mutating)."""
    ids = catalogue.mutating_ids()
    if not ids:  # an empty set would let serve run every check, writes included
        raise RuntimeError("the item registry declares no mutating item")
    return ids


def read_only_ids() -> frozenset[str]:
    """The items each serve run must report to count as complete: the daily preflight's, less the mutating ones."""
    return frozenset(i.id for i in ITEMS if cadence.of_item(i.id) is None) - mutating_ids()


def serve_cmd(
    target: Annotated[str, typer.Option(help="sandbox (default) or live")] = "sandbox",
    env_file: Annotated[Path | None, typer.Option("--env-file", help="dotenv file with the live settings")] = None,
    listen: Annotated[str, typer.Option(help="loopback address:port to serve on")] = "127.0.0.1:9109",
    interval: Annotated[float, typer.Option(help="seconds between read-only runs")] = 60.0,
    reports: Annotated[Path, typer.Option(help="where the runs' reports go (last 5 kept)")] = Path("reports/serve"),
) -> None:
    """Serve /healthz (200 GO only; 503 NO-GO, incomplete or no run yet) and /metrics from read-only runs repeated
    every --interval seconds."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    if not serve.loopback(host) or not port.isdigit() or not 0 < int(port) < 65536:
        raise errors.cannot_run(f"--listen must be a loopback address:port, not {listen!r}")
    if not 1 <= interval <= 86_400:  # also refuses nan and inf: a monitor that never runs again must not serve GO
        raise errors.cannot_run(f"--interval must be a number of seconds from 1 to 86400, not {interval}")
    try:  # the settings every run will read: a bad one stops serve now, not each run
        if target == "live":
            live_target(load_env(env_file), allow_mutations=False)
        else:
            settings.check(os.environ)
    except ConfigError as exc:
        raise errors.cannot_run(str(exc)) from None
    monitor = serve.Monitor(
        serve.preflight_argv(target, env_file), reports.resolve(), interval, mutating_ids(), read_only_ids()
    )
    monitor.start()
    typer.echo(
        f"serving http://{listen}/healthz and /metrics; {len(ITEMS)} items known, "
        f"{len(monitor.expected_ids)} read-only items per run, {len(monitor.mutating_ids)} mutating items "
        "never run"
    )
    import uvicorn  # here, not with the module: every opscheck command (a preflight too) imports this one

    try:
        uvicorn.run(
            serve.app(monitor.cache, monitor.stale), host=host, port=int(port), log_level="warning", access_log=False
        )
    except (OSError, SystemExit) as exc:
        raise errors.cannot_run(f"cannot listen on {listen}: {exc}") from None
    finally:
        monitor.stop()
