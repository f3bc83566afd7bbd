"""Bounded reads of operator-supplied files (env, waivers, contacts): regular files only, within a size cap.

A path to ``/dev/zero`` would otherwise grow without end, a FIFO would block forever, and a YAML alias bomb
would expand exponentially. Each refusal is a one-line reason that names the path, never the content.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 1024 * 1024  # 1 MiB: far above any real env, waiver or contact file


class UnsafeFile(Exception):
    """The file cannot be read safely; ``str()`` is one line naming the path."""


def read_bytes(path: Path, *, limit: int = MAX_BYTES) -> bytes:
    """Read a regular file of at most ``limit`` bytes, without blocking on FIFOs or devices."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise UnsafeFile(f"{path}: {exc.strerror or exc.__class__.__name__}") from None
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeFile(f"{path}: not a regular file")
    if st.st_size > limit:
        raise UnsafeFile(f"{path}: {st.st_size} bytes, more than the {limit}-byte limit")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise UnsafeFile(f"{path}: {exc.strerror or exc.__class__.__name__}") from None
    if len(data) > limit:
        raise UnsafeFile(f"{path}: more than the {limit}-byte limit")
    return data


def read_text(path: Path, *, limit: int = MAX_BYTES) -> str:
    data = read_bytes(path, limit=limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsafeFile(f"{path}: not UTF-8 text") from None


class _NoAliasLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses anchors and aliases (no billion-laughs expansion)."""

    peek_event: Callable[[], yaml.Event]  # the parser's method, which types-PyYAML leaves untyped

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError(f"{_where(self.peek_event())}YAML aliases are not allowed")
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise yaml.YAMLError(f"{_where(event)}YAML anchors are not allowed")
        return super().compose_node(parent, index)


def _where(event: yaml.Event) -> str:
    """``line N: `` where the parser marked the event (it always does; the type allows no mark)."""
    return f"line {event.start_mark.line + 1}: " if event.start_mark is not None else ""


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` without anchors or aliases; raises ``yaml.YAMLError``."""
    return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
