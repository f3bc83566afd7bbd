"""A run's seal: one SHA-256 over every file of the run, shown by the run's own claim.

``results.sha256`` (``sha256sum`` format) lists every file of the run but itself, each path prefixed with the run
id (``<run-id>/junit.xml``): the paths are relative to the folder that holds the run (``reports/``). Its SHA-256
is *the* hash of the run, ``results_sha256``: in ``verdict.json``, on the sign-off page and in the ledger row.

A file cannot hold its own hash, so the two files that show it, ``verdict.json`` and ``html/index.html``, hold it
on one *seal line* each, together with the sign-off (ledger row, head hash, whether the MAC key was set, or "not
signed" and why). The manifest lists their *canonical form*: the file with its seal line replaced by a fixed
placeholder. Everything else in them is hashed byte for byte; the seal line itself is checked by rendering it
again from its values (``opscheck evidence verify``), so no byte of either file goes unchecked.

- ``verdict.json``'s seal line is its last member, on one line: ``  "results_sha256": "<hex>", "signoff": {…}``;
  canonical: ``  "results_sha256": "sealed", "signoff": "sealed"``.
- ``html/index.html``'s seal line starts with ``<section id="seal">``; canonical:
  ``<section id="seal">sealed</section>``.

A file with no seal line, or more than one, has no canonical form (``SealError``).
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

VERDICT_FILE, MANIFEST, LOG_FILE, PAGE = "verdict.json", "results.sha256", "pytest.log", "html/index.html"
SEAL_KEYS = ("results_sha256", "signoff")  # verdict.json's members on its seal line, in this order
JSON_SEAL_PREFIX = '  "results_sha256": '
JSON_PLACEHOLDER = '  "results_sha256": "sealed", "signoff": "sealed"'
PAGE_SEAL_PREFIX = '<section id="seal">'
PAGE_PLACEHOLDER = '<section id="seal">sealed</section>'
#: the files that show the run's hash, each with the start of its seal line and the line that stands in for it
SEALED = {VERDICT_FILE: (JSON_SEAL_PREFIX, JSON_PLACEHOLDER), PAGE: (PAGE_SEAL_PREFIX, PAGE_PLACEHOLDER)}


class SealError(ValueError):
    """A claim file without exactly one seal line; ``str()`` names the file."""


def json_seal_line(results_sha256: str | None, signoff: dict[str, Any] | None) -> str:
    """verdict.json's seal line (no newline: JSON strings escape theirs)."""
    return f'{JSON_SEAL_PREFIX}{json.dumps(results_sha256)}, "signoff": {json.dumps(signoff, sort_keys=True)}'


def dumps(verdict: dict[str, Any]) -> str:
    """verdict.json's text: the verdict with two-space indentation, the seal line its last member."""
    body = {k: v for k, v in verdict.items() if k not in SEAL_KEYS}
    seal = json_seal_line(verdict.get("results_sha256"), verdict.get("signoff"))
    text = json.dumps(body, indent=2)
    return (text[:-2] + ",\n" if body else "{\n") + seal + "\n}\n"


def seal_line_index(lines: list[str], prefix: str, name: str) -> int:
    """The index of the one line starting with ``prefix``; SealError when there is none or more than one."""
    found = [n for n, line in enumerate(lines) if line.startswith(prefix)]
    if len(found) != 1:
        raise SealError(f"{name}: {len(found)} seal lines ({prefix.strip()!r}), one expected")
    return found[0]


def canonical(rel: str, data: bytes) -> bytes:
    """What the manifest hashes of the file at ``rel`` (relative to the run): its bytes, or for a claim file its
    bytes with the seal line replaced by the placeholder."""
    if rel not in SEALED:
        return data
    prefix, placeholder = SEALED[rel]
    lines = data.split(b"\n")
    n = seal_line_index([line.decode("utf-8", "replace") for line in lines], prefix, rel)
    lines[n] = placeholder.encode()
    return b"\n".join(lines)


def replace_seal_line(text: str, rel: str, line: str) -> str:
    """``text`` (the claim file at ``rel``) with its seal line replaced by ``line``."""
    if "\n" in line or not line.startswith(SEALED[rel][0]):
        raise SealError(f"{rel}: not a seal line")
    lines = text.split("\n")
    lines[seal_line_index(lines, SEALED[rel][0], rel)] = line
    return "\n".join(lines)


def run_files(run_dir: Path) -> list[str]:
    """Every file of the run but the manifest, as paths relative to the run (``/``-separated), sorted."""
    files = (p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file())
    return sorted(rel for rel in files if rel != MANIFEST)


def file_digest(run_dir: Path, rel: str, *, sync: bool = False) -> str:
    """The manifest's digest of one file: SHA-256 of its canonical form. ``sync``: fsync it first."""
    with (run_dir / rel).open("rb") as f:
        data = f.read()
        if sync:
            os.fsync(f.fileno())
    return hashlib.sha256(canonical(rel, data)).hexdigest()


SYNC_THREADS = 16  # fsyncs in flight at once: the filesystem commits them together (~1/8 of the time one by one)


def manifest_text(run_dir: Path, files: list[str], *, sync: bool = False) -> str:
    """``sha256sum`` lines for ``files`` (relative to the run), each path prefixed with the run's folder name.
    ``sync``: every file is fsync'd before it is hashed, several at a time (each still its own fsync; a run has
    ~600 files, and one by one they cost ~4 ms each on a VM's disk)."""
    if sync and len(files) > 1:
        with ThreadPoolExecutor(max_workers=SYNC_THREADS, thread_name_prefix="fsync") as pool:
            digests = list(pool.map(lambda rel: file_digest(run_dir, rel, sync=True), files))
    else:
        digests = [file_digest(run_dir, rel, sync=sync) for rel in files]
    return "".join(f"{digest}  {run_dir.name}/{rel}\n" for digest, rel in zip(digests, files, strict=True))


def digest_of(manifest: str) -> str:
    """The run's hash: SHA-256 of the manifest's bytes (``sha256sum results.sha256``)."""
    return hashlib.sha256(manifest.encode()).hexdigest()
