"""Edit an env file in place (runbook §3.2 Step 4): change only the named variables, keep everything else.

Comments, blank lines, order, ``export`` prefixes, spacing around ``=``, trailing comments, other variables'
quoting (single, double, multi-line) and the line-ending style survive byte for byte. A variable that is only
present commented out (``# LIVE_TRADING_CONFIRMED=TRUE``) is uncommented in its place; a missing one is
appended; ``None`` comments a variable out. The result is re-parsed with the strict parser and compared with
the original: every other variable must keep its value. The file is rewritten in place (same inode, same mode:
a bind-mounted ``.env`` keeps working). Errors never contain a value.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ops_checks.core.envfile import ConfigError, _Syntax, parse, read_env_file

_SAFE = re.compile(r"[A-Za-z0-9_.,:/@+-]*")
_ASSIGN = re.compile(r"^(?P<indent>\s*)(?P<export>export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<eq>\s*=\s*)")
_COMMENTED = re.compile(r"^\s*#\s*(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=")


class EnvEditError(Exception):
    """The edit cannot be made safely; ``str()`` is one line without any value."""


def _quote(value: str) -> str:
    if _SAFE.fullmatch(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    if "${" in escaped:
        return "'" + value + "'" if "'" not in value and "\n" not in value else escaped
    return f'"{escaped}"'


def _value_extent(lines: list[str], i: int, rest: str) -> tuple[int, str]:
    """How many lines the value starting at ``rest`` (on line ``i``) spans, and the text after it on its last line
    (a trailing comment, kept)."""
    if rest[:1] not in ("'", '"'):
        m = re.search(r"\s+#", rest)
        return 1, rest[m.start() :] if m else rest[len(rest.rstrip()) :]
    quote, text, taken = rest[0], rest[1:], 1
    while True:
        j, escaped = 0, False
        while j < len(text):
            ch = text[j]
            if escaped:
                escaped = False
            elif quote == '"' and ch == "\\":
                escaped = True
            elif ch == quote:
                return taken, text[j + 1 :]
            j += 1
        if i + taken >= len(lines):
            raise EnvEditError("unterminated quoted value")
        text = lines[i + taken]
        taken += 1


def edit_text(text: str, changes: dict[str, str | None]) -> str:
    """Return ``text`` with ``changes`` applied (value, or None to comment the variable out)."""
    try:
        before = parse(text)
    except _Syntax as exc:  # line and problem, never a value
        raise EnvEditError(f"env file does not parse: line {getattr(exc, 'line', '?')}: {exc}") from None
    newline = "\r\n" if "\r\n" in text else "\n"
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom) :]
    ends_with_newline = body.endswith("\n")
    lines = body.split("\n")
    if ends_with_newline:
        lines = lines[:-1]
    cr = [ln.endswith("\r") for ln in lines]
    lines = [ln[:-1] if c else ln for ln, c in zip(lines, cr, strict=True)]
    out: list[str] = []
    done: set[str] = set()
    commented_at: dict[str, list[int]] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _ASSIGN.match(line)
        if m and not line.lstrip().startswith("#"):
            rest = line[m.end() :]
            taken, tail = _value_extent(lines, i, rest)
            name = m["name"]
            if name in changes:
                new = changes[name]
                if new is None:
                    out.extend("# " + lines[k] for k in range(i, i + taken))
                else:
                    out.append(f"{m['indent']}{m['export'] or ''}{name}{m['eq']}{_quote(new)}{tail}")
                done.add(name)
            else:
                out.extend(lines[i : i + taken])
            i += taken
            continue
        c = _COMMENTED.match(line)
        if c and c["name"] in changes:
            commented_at.setdefault(c["name"], []).append(len(out))
        out.append(line)
        i += 1
    for name, new in changes.items():
        if name in done or new is None:
            continue
        spots = commented_at.get(name, [])
        if len(spots) == 1:
            out[spots[0]] = f"{name}={_quote(new)}"
        else:
            out.append(f"{name}={_quote(new)}")
    result = bom + newline.join(out) + (newline if ends_with_newline or len(out) > len(lines) else "")
    _check(before, result, changes)
    return result


def _check(before: dict[str, str], result: str, changes: dict[str, str | None]) -> None:
    try:
        after = parse(result)
    except _Syntax as exc:  # a bug in the editor must not write a broken file
        raise EnvEditError(f"edited env file would not parse (line {getattr(exc, 'line', '?')}): not written") from None
    for name, value in changes.items():
        if after.get(name) != value:
            raise EnvEditError(f"{name} would not read back as intended: not written")
    for name in set(before) | set(after):
        if name not in changes and before.get(name) != after.get(name):
            raise EnvEditError(f"the edit would change {name} too: not written")


def edit_file(path: Path, changes: dict[str, str | None]) -> list[str]:
    """Apply ``changes`` to ``path`` in place (same inode and mode); returns the names changed (never values)."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EnvEditError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or type(exc).__name__}") from None
    new = edit_text(text, changes).encode("utf-8")
    if new == raw:
        return []
    try:
        with path.open("r+b") as fh:
            fh.seek(0)
            fh.write(new)
            fh.truncate()
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise EnvEditError(f"{path}: cannot write: {exc.strerror or type(exc).__name__}") from None
    try:
        read_env_file(path)
    except ConfigError as exc:
        raise EnvEditError(str(exc)) from None
    return sorted(changes)
