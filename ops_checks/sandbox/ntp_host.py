"""The sandbox's stand-in for the bot host's NTP status: a ``timedatectl`` on ``NTP_TOOLS_PATH``.

The sandbox host is a CI box or a laptop whose clock the suite must not depend on (containers often have
no systemd, so a real ``timedatectl`` cannot answer there). The bot host of the sandbox is simulated, so its
NTP status is too: a small executable prints what ``timedatectl status`` prints, from a state file, and the
check runs it exactly as it runs the real tool on live (same lookup, same parsing). A fault rewrites the
state file to "not synchronised".
"""

from __future__ import annotations

import stat
from pathlib import Path

STATUS_FILE = "timedatectl.status"
TEMPLATE = """\
               Local time: (sandbox)
           Universal time: (sandbox)
                 RTC time: n/a
                Time zone: Etc/UTC (UTC, +0000)
System clock synchronized: {synced}
              NTP service: {service}
          RTC in local TZ: no
"""
SCRIPT = """#!/bin/sh
# sandbox stand-in for the bot host's timedatectl: prints the host's NTP status
exec cat "$(dirname "$0")/timedatectl.status"
"""


def install(workdir: Path) -> Path:
    """Create the stand-in under ``workdir``; returns the directory to put on ``NTP_TOOLS_PATH``."""
    bin_dir = workdir / "ntp-host-bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    exe = bin_dir / "timedatectl"
    exe.write_text(SCRIPT, encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    set_synchronized(bin_dir, True)
    return bin_dir


def set_synchronized(bin_dir: Path, synced: bool) -> None:
    text = TEMPLATE.format(synced="yes" if synced else "no", service="active" if synced else "inactive")
    (bin_dir / STATUS_FILE).write_text(text, encoding="utf-8")
