"""Faults for runbook §8 (exchange clock drift): each breaks the sandbox so that exactly one §8 item fails.

A real clock offset also makes the bot log drift lines, count drift events and go NEUTRAL: those items rest
on "the exchange clock is within tolerance" and are *not verified* while it is not, so the drift item owns the
failure. The offset faults widen the simulator's timestamp window (VALR's is unpublished) so the signed
request item keeps testing signing, not the clock. The metric and log faults replay a drift episode that is
over: the run sees only its traces (a rotated log, a restarted process).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from ops_checks.access.profile import REAL_BOT
from ops_checks.sandbox import ntp_host
from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import Fault, bot, chain, knob, set_env

SYNC_WAIT_S = 5.0
# the lines the reference bot writes as the real bot's ExchangeTimeSynchronizer does (see drift_logs.py)
SYNC = REAL_BOT.bot_time_sync_log
EXCEEDED = REAL_BOT.bot_drift_exceeded_log
FAILED = REAL_BOT.bot_time_sync_failed_tag


def _log_text(sb: Sandbox) -> str:
    try:
        return bot(sb).log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _wait_for(sb: Sandbox, predicate: Callable[[str], bool], what: str) -> None:
    deadline = time.monotonic() + SYNC_WAIT_S
    while not predicate(_log_text(sb)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"sandbox fault: the bot did not log {what} within {SYNC_WAIT_S:g} s")
        time.sleep(0.05)


def _in_tolerance(text: str) -> bool:
    """A within-tolerance sync line (DEBUG ``Exchange time sync: drift_ms=N``) is in ``text``."""
    return any(SYNC in line and " DEBUG " in line for line in text.splitlines())


def _synced_after(marker: str, text: str) -> bool:
    """A new within-tolerance sync line follows the last occurrence of ``marker``."""
    return _in_tolerance(text[text.rfind(marker) + len(marker) :] if marker in text else text)


def bot_synced(sb: Sandbox) -> None:
    """Wait for two more sync lines: the second one began after the change (the first may not have)."""
    start = len(_log_text(sb))
    _wait_for(sb, lambda text: text[start:].count(SYNC) >= 2, "two time syncs")


def drift_episode(sb: Sandbox) -> None:
    """The exchange clock jumps 1.5 s ahead until the bot goes NEUTRAL, then comes back."""
    assert sb.valr is not None
    sb.valr.timestamp_window_ms = 5000
    sb.valr.clock_offset_ms = 1500
    _wait_for(sb, lambda text: EXCEEDED in text, f"'{EXCEEDED}'")
    sb.valr.clock_offset_ms = 0
    _wait_for(sb, lambda text: _synced_after(EXCEEDED, text), "a sync back within tolerance")
    sb.valr.timestamp_window_ms = 1000


def sync_failure_episode(sb: Sandbox) -> None:
    """VALR's time endpoint answers 503 until the bot's time sync has failed, then recovers."""
    assert sb.valr is not None
    sb.valr.fail = {"/v1/public/time": 503}
    _wait_for(sb, lambda text: FAILED in text, "a time-sync failure")
    sb.valr.fail = {}
    _wait_for(sb, lambda text: _synced_after(FAILED, text), "a successful sync")


def rotate_logs(sb: Sandbox) -> None:
    """logrotate's copytruncate: the old lines move to bot.log.1, bot.log starts empty."""
    path = bot(sb).log_path
    shutil.copyfile(path, path.with_name(path.name + ".1"))
    with path.open("r+", encoding="utf-8") as fh:
        fh.truncate(0)
    _wait_for(sb, _in_tolerance, "a sync into the new log")


def restart_bot_process(sb: Sandbox) -> None:
    """The bot process restarted: its counters start again from zero (its log file stays)."""
    bot(sb).restart_metrics()
    bot_synced(sb)


def ntp_unsynchronised(sb: Sandbox) -> None:
    ntp_host.set_synchronized(Path(sb.env["NTP_TOOLS_PATH"]), False)


FAULTS: tuple[Fault, ...] = (
    Fault(
        "drift_gauge_not_exported",
        "8.5.1",
        "the bot no longer exports exchange_clock_drift_ms (the dashboard's drift panel is blind)",
        knob("bot", omit_metrics=("exchange_clock_drift_ms",)),
    ),
    Fault(
        "drift_exceeded_earlier",
        "8.5.2",
        "a 1.5 s drift episode earlier in the hour, its log lines since rotated away",
        chain(drift_episode, rotate_logs),
    ),
    Fault(
        "time_sync_failed_earlier",
        "8.5.3",
        "VALR's time endpoint failed the bot's sync earlier in the hour (recovered since)",
        sync_failure_episode,
    ),
    Fault(
        "exchange_time_down",
        "8.6.1",
        "VALR's public time endpoint answers 503",
        knob("valr", fail={"/v1/public/time": 503}),
    ),
    Fault(
        "exchange_clock_ahead_1500",
        "8.6.2",
        "the exchange clock is 1.5 s ahead of ours",
        chain(knob("valr", clock_offset_ms=1500, timestamp_window_ms=5000), bot_synced),
    ),
    Fault(
        "exchange_clock_behind_1500",
        "8.6.2",
        "the exchange clock is 1.5 s behind ours",
        chain(knob("valr", clock_offset_ms=-1500, timestamp_window_ms=5000), bot_synced),
    ),
    Fault("host_ntp_unsynchronised", "8.6.3", "the bot host's clock is not synchronised by NTP", ntp_unsynchronised),
    Fault(
        "bot_logged_drift_then_restarted",
        "8.6.4",
        "the bot logged '[TPP-006] Exchange clock drift exceeded threshold' minutes ago and was restarted since (its "
        "counters reset)",
        chain(drift_episode, restart_bot_process),
    ),
    Fault(
        "valr_api_secret_stale",
        "8.6.5",
        "the operator's VALR_API_SECRET is not the key's secret (rotated key): VALR rejects the signature",
        set_env("VALR_API_SECRET", "0" * 64),
    ),
    Fault(
        "exchange_too_slow_to_band",
        "8.7.1",
        "VALR answers with a 1.2 s round trip: the drift bound (±600 ms) straddles the 500 ms band edge",
        knob("valr", latency_up_ms=600, latency_down_ms=600),
        verdict="GO",
    ),
    Fault(
        "exchange_clock_ahead_700",
        "8.7.2",
        "the exchange clock is 700 ms ahead of ours (warning band)",
        chain(knob("valr", clock_offset_ms=700), bot_synced),
        verdict="GO",
    ),
    Fault(
        "exchange_clock_ahead_900",
        "8.7.3",
        "the exchange clock is 900 ms ahead of ours (critical band)",
        chain(knob("valr", clock_offset_ms=900, timestamp_window_ms=5000), bot_synced),
        verdict="GO",
    ),
    Fault(
        "bot_container_clock_skewed",
        "8.7.4",
        "the bot container's clock is 600 ms behind the host's: its NEUTRAL guard reads another clock",
        chain(knob("bot", clock_offset_ms=-600), bot_synced),
    ),
)
