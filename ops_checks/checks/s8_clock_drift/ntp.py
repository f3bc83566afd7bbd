"""Runbook §8.6.3: the host clock is synchronised by NTP (``timedatectl status``, else ``chronyc tracking``,
else ``ntpq -pn``).

The tools are looked up on ``NTP_TOOLS_PATH`` when set (the sandbox points it at its stand-in for the bot
host's ``timedatectl``, whose answer a fault can turn to "not synchronised"), else on ``PATH``. The first tool
that gives an answer decides. When none is present or none works (``timedatectl`` without systemd, say),
the host clock is *not verified* (a cause naming the tools tried), which is NO-GO for a blocker.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from ops_checks.access.config import Target
from ops_checks.core import envfile
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, not_verified, passed

TIMEOUT_S = 3.0
EXPECTED = "System clock synchronized: yes"


@dataclass(frozen=True)
class NtpAnswer:
    tool: str
    synchronized: bool | None  # None: the tool ran but could not say
    detail: str
    output: str


def _timedatectl(out: str) -> tuple[bool | None, str]:
    m = re.search(r"^\s*(?:System clock synchronized|NTP synchronized):\s*(yes|no)\s*$", out, re.M | re.I)
    service = re.search(r"^\s*NTP service:\s*(\S+)", out, re.M | re.I)
    extra = f", NTP service {service.group(1)}" if service else ""
    if not m:
        return None, "no 'System clock synchronized' line"
    return m.group(1).lower() == "yes", f"System clock synchronized: {m.group(1).lower()}{extra}"


def _chronyc(out: str) -> tuple[bool | None, str]:
    leap = re.search(r"^\s*Leap status\s*:\s*(.+?)\s*$", out, re.M)
    offset = re.search(r"^\s*System time\s*:\s*(.+?)\s*$", out, re.M)
    if not leap:
        return None, "no 'Leap status' line"
    detail = f"Leap status: {leap.group(1)}" + (f", system time {offset.group(1)}" if offset else "")
    return leap.group(1).strip().lower() != "not synchronised", detail


def _ntpq(out: str) -> tuple[bool | None, str]:
    peers = [ln for ln in out.splitlines() if ln[:1] in "*+-#ox.~ " and re.match(r"^.\S", ln)]
    selected = [ln for ln in peers if ln.startswith(("*", "o"))]
    if not peers:
        return None, "no peers listed"
    if selected:
        return True, f"system peer {selected[0][1:].split()[0]}"
    return False, f"{len(peers)} peers, none selected as system peer"


TOOLS: tuple[tuple[str, tuple[str, ...], Callable[[str], tuple[bool | None, str]]], ...] = (
    ("timedatectl", ("status",), _timedatectl),
    ("chronyc", ("tracking",), _chronyc),
    ("ntpq", ("-pn",), _ntpq),
)


def _search_path(t: Target) -> str | None:
    return t.value("NTP_TOOLS_PATH") or None


def probe(t: Target) -> tuple[NtpAnswer | None, list[str]]:
    """The first usable tool's answer, and what was tried (one line per tool)."""
    tried: list[str] = []
    path = _search_path(t)
    env = envfile.environ() | {"LC_ALL": "C", "LANG": "C"}
    for name, args, parse in TOOLS:
        exe = shutil.which(name, path=path)
        if exe is None:
            tried.append(f"{name}: not installed")
            continue
        try:
            proc = subprocess.run([exe, *args], capture_output=True, text=True, timeout=TIMEOUT_S, env=env, check=False)
        except subprocess.TimeoutExpired:
            tried.append(f"{name}: no answer within {TIMEOUT_S:g} s")
            continue
        except OSError as exc:
            tried.append(f"{name}: cannot run ({type(exc).__name__})")
            continue
        output = (proc.stdout + proc.stderr).strip()
        if proc.returncode != 0:
            first = output.splitlines()[0] if output else f"exit {proc.returncode}"
            tried.append(f"{name}: unusable: {first[:160]}")
            continue
        synced, detail = parse(proc.stdout)
        if synced is None:
            tried.append(f"{name}: unexpected output ({detail})")
            continue
        return NtpAnswer(name, synced, detail, t.redactor.text(output)), tried
    return None, tried


IN_CONTAINER_ENV = "OPSCHECK_IN_CONTAINER"  # set by the suite's container image (Containerfile)


def _no_tool(tried: list[str]) -> CheckResult:
    detail = f"no NTP status tool on this host answers ({'; '.join(tried)})"
    remedy = (
        "install timedatectl (systemd), chronyc (chrony) or ntpq (ntp) on the bot host, or set NTP_TOOLS_PATH "
        "in the env file to the directory holding one"
    )
    if os.environ.get(IN_CONTAINER_ENV):
        detail = f"opscheck runs in a container, which sees no NTP status tool of the host ({'; '.join(tried)})"
        remedy = (
            "mount a directory holding a tool that reaches the host's NTP daemon (chronyc or ntpq, with the opscheck "
            "service in network_mode: host) and set NTP_TOOLS_PATH to it; or run opscheck on the bot host itself"
        )
    return not_verified(
        detail,
        cause=Cause("tool_missing", "NTP status tool", detail, remedy),
        expected=EXPECTED,
    )


def tool_missing(t: Target) -> CheckResult | None:
    """Precondition of 8.6.3: None when some NTP tool answers, else why the host clock cannot be verified."""
    answer, tried = probe(t)
    return None if answer is not None else _no_tool(tried)


def ntp_synchronized(t: Target) -> CheckResult:
    """8.6.3: the host's clock is synchronised by NTP, as the first available tool reports."""
    answer, tried = probe(t)
    if answer is None:
        return _no_tool(tried)
    ev = Evidence(f"{answer.tool} output", answer.output)
    observed = f"{answer.tool}: {answer.detail}"
    if not answer.synchronized:
        return failed(
            observed,
            EXPECTED,
            f"host clock not synchronised by NTP ({observed})",
            ev,
            cause=Cause(
                "ntp",
                "host clock",
                f"the host clock is not synchronised by NTP ({observed})",
                "enable NTP and force a sync (runbook §8.4.1: sudo timedatectl set-ntp true; sudo systemctl restart "
                "systemd-timesyncd), then check: timedatectl status",
            ),
        )
    return passed(observed, EXPECTED, observed, ev)
