"""A strict env-file parser with dotenv semantics; an error names the file and line, never the value.

Accepted (as python-dotenv): blank lines, ``#`` comments (whole line, or after whitespace on an unquoted
value), an optional ``export`` prefix, whitespace around ``=``, empty values (``KEY=``), single-quoted values
(literal), double-quoted values (escapes ``\\n \\t \\r \\" \\\\ \\'``; other backslashes kept), quoted values
spanning lines. Rejected, where python-dotenv guesses: a line without ``=``, an invalid name, a stray or
unterminated quote, text after a closing quote, ``${...}`` expansion (not performed: use single quotes for a
literal ``$``), a name defined twice, NUL bytes, a file that is not UTF-8.
"""

from __future__ import annotations

import re
from pathlib import Path

from ops_checks.core import safe_read

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXPORT = re.compile(r"export\s+")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'"}


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
        text = rest[1:]
        taken = 1
        while True:
            end = _closing(text, quote)
            if end is not None:
                break
            if index + taken >= len(lines):
                raise _Syntax(number, f"{name}: unterminated {_quote_name(quote)} value")
            if "\x00" in lines[index + taken]:
                raise _Syntax(index + taken + 1, "NUL byte")
            text += "\n" + lines[index + taken]
            taken += 1
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
    i = 0
    while i < len(text):
        ch = text[i]
        if quote == '"' and ch == "\\":
            i += 2
            continue
        if ch == quote:
            return i
        i += 1
    return None


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[0]), value, flags=re.S)


def _quote_name(quote: str) -> str:
    return "single-quoted" if quote == "'" else "double-quoted"
