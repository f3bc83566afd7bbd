"""Redactor speed on hostile 10 MB bodies (issue 13 §4; issue 21: echoes): seconds per body, best of 3.

.venv/bin/python benchmarks/redaction.py
"""

from __future__ import annotations

import time

from ops_checks.core.redaction import Redactor

BODIES = {
    "alnum": "a" * 10_000_000,
    "dashed": "a-" * 5_000_000,
    "scheme, no credentials": "x://" + "a" * 10_000_000,
    "keywords": "key" * 3_333_333,
    "url, no @": "http://u:" + "p" * 10_000_000,
    "many names": "token " * 1_666_666,
    "echoed prefixes": "s3cr3t-v " * 1_111_111,  # a peer echoing the secret's first 8 characters, 1.1 M times
    "echoed, reversed": "eulav-t3rc3s " * 769_230,
}


def main() -> None:
    r = Redactor(["s3cr3t-value"])
    for name, body in BODIES.items():
        best = min(_time(r, body) for _ in range(3))
        print(f"{name:<24} {len(body) / 1e6:5.1f} MB  {best:6.3f} s")


def _time(r: Redactor, body: str) -> float:
    t0 = time.perf_counter()
    r.text(body)
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
