"""A strict env-file parser with dotenv semantics; an error names the file and line, never the value.

Accepted (as python-dotenv): blank lines, ``#`` comments (whole line, or after whitespace on an unquoted
value), an optional ``export`` prefix, whitespace around ``=``, empty values (``KEY=``), single-quoted values
(literal), double-quoted values (escapes ``\\n \\t \\r \\" \\\\ \\'``; other backslashes kept), quoted values
spanning lines. Rejected, where python-dotenv guesses: a line without ``=``, an invalid name, a stray or
unterminated quote, text after a closing quote, ``${...}`` expansion (not performed: use single quotes for a
literal ``$``), a name defined twice, NUL bytes, a file that is not UTF-8.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ops_checks.core import safe_read

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXPORT = re.compile(r"export\s+")
_DOUBLE_STOP = re.compile(r'["\\]')  # what can end or escape within a double-quoted value
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'"}


def environ() -> dict[str, str]:
    """A copy of the process environment that is safe while other threads change it. Copying ``os.environ`` lists
    its keys, then reads each: a key another thread removes in between (pytest's ``PYTEST_CURRENT_TEST``, set and
    removed around every test while a drill's sandbox starts in a background thread) raises KeyError. Retried."""
    while True:
        try:
            return dict(os.environ)
        except (KeyError, RuntimeError):  # changed mid-copy: copy again
            continue


class ConfigError(Exception):
    """The configuration itself cannot be read: the run cannot start (exit 2). ``str()`` is one secret-free line."""


class _Syntax(Exception):
    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


def read_env_file(path: Path) -> dict[str, str]:
    """Parse ``path``; raises ConfigError("<path>:<line>: <problem>") for anything but a clean file."""
    try:
        raw = safe_read.read_bytes(path)
    except safe_read.UnsafeFile as exc:
        raise ConfigError(f"cannot read env file: {exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text") from None
    try:
        return parse(text)
    except _Syntax as exc:
        raise ConfigError(f"{path}:{exc.line}: {exc.problem}") from None


def parse(text: str) -> dict[str, str]:
    """Parse env-file text. Raises ``_Syntax`` (line, problem); use ``read_env_file`` for a ConfigError."""
    lines = text.removeprefix("\ufeff").split("\n")
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    values: dict[str, str] = {}
    defined_on: dict[str, int] = {}
    i = 0
    while i < len(lines):
        number = i + 1
        line = lines[i]
        if "\x00" in line:
            raise _Syntax(number, "NUL byte")
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        body = _EXPORT.sub("", stripped, count=1) if _EXPORT.match(stripped) else stripped
        name, sep, rest = body.partition("=")
        name = name.strip()
        if not sep:
            raise _Syntax(number, "expected NAME=VALUE (no '=')")
        if not NAME.fullmatch(name):
            raise _Syntax(number, "invalid variable name (letters, digits and _; not starting with a digit)")
        if name in defined_on:
            raise _Syntax(number, f"{name} is already defined on line {defined_on[name]}")
        value, consumed = _value(rest.lstrip(), lines, i, name)
        values[name] = value
        defined_on[name] = number
        i += consumed
    return values


def _value(rest: str, lines: list[str], index: int, name: str) -> tuple[str, int]:
    """The value starting at ``rest`` (line ``index``); returns it and how many lines it took."""
    number = index + 1
    if rest[:1] in ("'", '"'):
        quote = rest[0]
        # Each line is scanned once and joined once (issue 21: rescanning the growing value for every further
        # line made an unterminated 64 KB value take 84 s). Scanning a line on its own is exact: a backslash
        # that ends a line escapes the newline between it and the next, so the next line starts unescaped.
        parts = [rest[1:]]
        end = _closing(parts[0], quote)
        while end is None:
            if index + len(parts) >= len(lines):
                raise _Syntax(number, f"{name}: unterminated {_quote_name(quote)} value")
            line = lines[index + len(parts)]
            if "\x00" in line:
                raise _Syntax(index + len(parts) + 1, "NUL byte")
            parts.append(line)
            end = _closing(line, quote)
        taken = len(parts)
        end += sum(len(part) + 1 for part in parts[:-1])  # the closing quote's index in the joined value
        text = "\n".join(parts)
        value, after = text[:end], text[end + 1 :].strip()
        if after and not after.startswith("#"):
            where = f" (the value opened here closes on line {number + taken - 1})" if taken > 1 else ""
            raise _Syntax(number, f"{name}: unexpected text after the closing quote{where}")
        if quote == "'":
            return value, taken
        if "${" in value:
            raise _Syntax(number, f"{name}: ${{...}} expansion is not supported (single-quote a literal $)")
        return _unescape(value), taken
    value = re.split(r"\s#", rest, maxsplit=1)[0].strip()
    if any(q in value for q in ("'", '"')):
        raise _Syntax(number, f"{name}: stray quote in an unquoted value (quote the whole value)")
    if "${" in value:
        raise _Syntax(number, f"{name}: ${{...}} expansion is not supported (single-quote a literal $)")
    return value, 1


def _closing(text: str, quote: str) -> int | None:
    """Index of the closing quote in ``text`` (backslash escapes count inside double quotes only)."""
    if quote == "'":
        end = text.find("'")
        return None if end < 0 else end
    i = 0
    while (stop := _DOUBLE_STOP.search(text, i)) is not None:
        if stop[0] == '"':
            return stop.start()
        i = stop.start() + 2  # a backslash escapes the next character, a quote included
    return None


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[0]), value, flags=re.S)


def _quote_name(quote: str) -> str:
    return "single-quoted" if quote == "'" else "double-quoted"
