"""``opscheck drift``: one measurement of the exchange clock offset (runbook §8.2, done right).

Prints offset ± bound, round trip, band and every sample. Exit code 0 when the largest offset consistent with
the measurement is below the tolerance (``OPSCHECK_DRIFT_MAX_MS``, default 1000 ms: the threshold 8.6.2 applies),
1 when it is not, 2 when nothing could be measured or a setting is malformed.
``--target sandbox`` starts only a VALR simulator (no database, no bot) whose clock offset and round trip are
set by ``--sandbox-offset-ms`` and ``--sandbox-latency-ms`` (split evenly between the two legs).
"""

from __future__ import annotations

import os
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from ops_checks.access.clock import OffsetEstimate, bands, estimate_offset
from ops_checks.access.config import ConfigError, load_env
from ops_checks.access.valr.client import DEFAULT_BASE_URL, ValrClient, ValrError
from ops_checks.cli import errors
from ops_checks.core import settings
from ops_checks.core.http import Recorder
from ops_checks.core.redaction import Redactor

TOLERANCE_MS = settings.DEFAULTS.drift_max_ms  # the runbook's 1000 ms, unless OPSCHECK_DRIFT_MAX_MS says otherwise
EXIT_OK, EXIT_BEYOND, EXIT_CANNOT = 0, 1, 2

app = typer.Typer(add_completion=False, help="Measure the exchange clock offset once and print it.")


def report(est: OffsetEstimate, tolerance: Decimal = TOLERANCE_MS) -> str:
    within = est.worst_ms < tolerance
    return "\n".join(
        [
            f"offset {est.offset_ms:+.1f} ms ± {est.bound_ms:.1f} ms   rtt {est.rtt_ms:.1f} ms   band {est.band}",
            f"|offset| between {est.least_ms:.1f} and {est.worst_ms:.1f} ms: "
            + (f"within the {tolerance} ms tolerance" if within else f"NOT within the {tolerance} ms tolerance"),
            "",
            est.render(),
        ]
    )


@app.callback(invoke_without_command=True)
def drift(
    target: Annotated[str, typer.Option(help="sandbox (default) or live")] = "sandbox",
    env_file: Annotated[Path | None, typer.Option("--env-file", help="live: dotenv file (VALR_BASE_URL)")] = None,
    samples: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=100,
            help=f"requests to sample (default OPSCHECK_DRIFT_SAMPLES, {settings.DEFAULTS.drift_samples})",
        ),
    ] = None,
    sandbox_offset_ms: Annotated[float, typer.Option(help="sandbox: VALR clock minus ours, ms")] = 0.0,
    sandbox_latency_ms: Annotated[float, typer.Option(min=0, help="sandbox: simulated round trip, ms")] = 0.0,
) -> None:
    """Measure the offset of VALR's clock from this host's and print offset ± bound, round trip and band."""
    rec = Recorder(Redactor())
    if target == "sandbox":
        if env_file is not None:
            raise _cannot("--env-file applies to --target live only")
        try:
            thresholds = settings.load(settings.operator_env(os.environ))  # as the sandbox target does
        except ConfigError as exc:
            raise _cannot(str(exc)) from None
        from ops_checks.sandbox.valr_sim import ValrSimulator  # not with the module: every command imports it

        sim = ValrSimulator(secrets.token_hex(16), secrets.token_hex(32))
        sim.clock_offset_ms = sandbox_offset_ms
        sim.latency_up_ms = sim.latency_down_ms = sandbox_latency_ms / 2
        client = ValrClient(sim.base_url, transport=sim.transport(), recorder=rec)
        knobs = f"clock offset {sandbox_offset_ms:+g} ms, round trip {sandbox_latency_ms:g} ms"
        typer.echo(f"target sandbox: VALR simulator, {knobs}")
    elif target == "live":
        try:
            env = load_env(env_file)
            thresholds = settings.load(env)  # a bad OPSCHECK_ setting is exit 2 here as everywhere
        except ConfigError as exc:
            raise _cannot(str(exc)) from None
        base = (env.get("VALR_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        client = ValrClient(base, recorder=rec)
        typer.echo(f"target live: {base}")
    else:
        raise _cannot(f"--target must be sandbox or live, not {target!r}")
    tolerance = thresholds.drift_max_ms
    try:
        table = bands(thresholds.drift_warn_ms, tolerance)  # §8.7's bands at the same thresholds
        est = estimate_offset(client, samples or thresholds.drift_samples, table=table)
    except ValrError as exc:
        raise _cannot(f"not measured: {exc}") from None
    typer.echo(report(est, tolerance))
    raise typer.Exit(EXIT_OK if est.worst_ms < tolerance else EXIT_BEYOND)


def _cannot(message: str) -> typer.Exit:
    return errors.cannot_run(message)  # exit 2 (EXIT_CANNOT)
