"""Bounds before work (issue 21 §5): a gzip bomb and an unterminated env value, wall time and peak RSS.

    .venv/bin/python benchmarks/hostile_bounds.py

* a 1 MB gzip body of 1 GiB of zeros on loopback, fetched through ``core.http`` in a child process, and
  ``opscheck drift --target live`` with VALR_BASE_URL at it (peak RSS: the child's own VmHWM);
* an env file just under the 1 MiB cap holding one unterminated double-quoted value (best of 3).

Before issue 21: 2.08 GB / 2.12 GB peak RSS for the two fetches, and 84 s for an unterminated value of 64 KB.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ops_checks.core.envfile import ConfigError, read_env_file

REPO = Path(__file__).resolve().parents[1]
MiB = 1024 * 1024
FETCH = """
import sys
from ops_checks.core import http
from ops_checks.core.redaction import Redactor
try:
    http.request("GET", sys.argv[1], recorder=http.Recorder(Redactor()))
except http.HttpError as exc:
    print(exc)
"""


def gzip_bomb(size: int = 1024 * MiB) -> bytes:
    zeros = b"\0" * MiB
    co = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = co.compress(zeros) + co.flush(zlib.Z_FULL_FLUSH)
    block = co.compress(zeros) + co.flush(zlib.Z_FULL_FLUSH)  # the same for every further MiB after a full flush
    crc = 0
    for _ in range(size // MiB):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + first + block * (size // MiB - 1) + co.flush() + struct.pack("<II", crc, size & 0xFFFFFFFF)


def bomb_server(body: bytes) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    class Quiet(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass

    server = Quiet(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# The child's own peak (VmHWM): a child's ru_maxrss (wait4) starts from its parent's resident size at fork.
MEASURED = """
import atexit, runpy, sys

def _peak(path=sys.argv[1]):
    with open("/proc/self/status") as status:
        kib = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(path, "w") as out:
        out.write(kib)

atexit.register(_peak)
mode, what, sys.argv = sys.argv[2], sys.argv[3], sys.argv[3:]
if mode == "-m":
    runpy.run_module(what, run_name="__main__", alter_sys=True)
else:
    exec(compile(what, "<measured>", "exec"), {"__name__": "__main__"})
"""


def measured(args: list[str], peak_file: Path) -> tuple[float, float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VALR_", "OPSCHECK_"))}
    env["PYTHONPATH"] = str(REPO)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", MEASURED, str(peak_file), *args], capture_output=True, env=env, cwd=REPO, timeout=300
    )
    seconds = time.perf_counter() - t0
    out = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    return seconds, int(peak_file.read_text()) / 1024, out.strip().splitlines()[-1]


def main() -> None:
    bomb = gzip_bomb()
    server = bomb_server(bomb)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        env_file = Path(tmp) / "bomb.env"
        env_file.write_text(f"VALR_BASE_URL={url}\n")
        runs = {
            "core.http fetch": ["-c", FETCH, url + "/v1/public/time"],
            "opscheck drift --target live": [
                "-m",
                "ops_checks.cli",
                "drift",
                "--target",
                "live",
                "--env-file",
                str(env_file),
            ],
        }
        print(f"gzip bomb: {len(bomb):,} bytes on the wire, 1 GiB decoded")
        for name, argv in runs.items():
            seconds, peak_mb, last = measured(argv, Path(tmp) / "peak")
            print(f"  {name:<30} {seconds:6.2f} s  peak RSS {peak_mb:6.1f} MB  | {last}")
        server.shutdown()

        unterminated = Path(tmp) / "unterminated.env"
        unterminated.write_text('A="' + "a\n" * ((MiB - 64) // 2))
        best = min(_parse_seconds(unterminated) for _ in range(3))
        print(f"env file, unterminated value of {unterminated.stat().st_size:,} bytes: {best:.3f} s")


def _parse_seconds(path: Path) -> float:
    t0 = time.perf_counter()
    try:
        read_env_file(path)
    except ConfigError:
        pass
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
