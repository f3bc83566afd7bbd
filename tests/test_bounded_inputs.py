"""Issue 13 §4: operator-supplied files and hostile bodies are read within bounds, never hang or balloon.

No durations are asserted (timing belongs in benchmarks/); a worker thread with a generous join timeout only
catches a hang.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from ops_checks.core.envfile import ConfigError, read_env_file
from ops_checks.core.redaction import MASK, Redactor
from ops_checks.verdict.waivers import WaiverError
from ops_checks.verdict.waivers import load as load_waivers

HANG = 30.0  # seconds: only a hang gets anywhere near this


def finishes(fn, *args):  # type: ignore[no-untyped-def]
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = fn(*args)
        except Exception as exc:  # noqa: BLE001 - the caller inspects it
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(HANG)
    assert not t.is_alive(), f"{fn.__name__} did not finish"
    return box


def test_env_file_at_dev_zero_is_refused() -> None:
    box = finishes(read_env_file, Path("/dev/zero"))
    assert isinstance(box.get("error"), ConfigError)
    assert "not a regular file" in str(box["error"])


def test_env_file_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "env.fifo"
    os.mkfifo(fifo)
    box = finishes(read_env_file, fifo)
    assert isinstance(box.get("error"), ConfigError)
    assert "not a regular file" in str(box["error"])


def test_oversized_env_file_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.env"
    big.write_text("A=" + "x" * (2 * 1024 * 1024) + "\n")
    with pytest.raises(ConfigError, match="limit"):
        read_env_file(big)


def test_yaml_alias_bomb_waivers_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "waivers.yml"
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, 10):
        prev, cur = chr(ord("a") + n - 1), chr(ord("a") + n)
        lines.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    bomb.write_text("\n".join(lines) + "\n")
    box = finishes(load_waivers, bomb)
    assert isinstance(box.get("error"), WaiverError)
    assert "alias" in str(box["error"]) or "anchor" in str(box["error"]) or "YAML" in str(box["error"])


@pytest.mark.parametrize(
    "body",
    [
        "a" * 10_000_000,
        "a-" * 5_000_000,
        "x://" + "a" * 10_000_000,
        "key" * 3_000_000,
        "http://u:" + "p" * 10_000_000,
        "token " * 1_500_000,
    ],
    ids=["alnum", "dashed", "scheme-no-creds", "keywords", "url-no-at", "many-names"],
)
def test_redactor_is_linear_on_hostile_10mb_bodies(body: str) -> None:
    box = finishes(Redactor(["s3cr3t-value"]).text, body)
    assert "error" not in box
    assert len(box["value"]) > 0  # type: ignore[arg-type]


def test_redactor_still_masks_after_the_rewrite() -> None:
    r = Redactor(["s3cr3t-value"])
    out = r.text('postgres://bob:hunter2@db/x api_key=abc123 token="q" s3cr3t-value x-api-key: 9')
    assert "hunter2" not in out and "abc123" not in out and '"q"' not in out and "s3cr3t-value" not in out
    assert out.count(MASK) == 5
