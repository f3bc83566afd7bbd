"""Redactor: every attachment, log line and report passes through it before it is written anywhere.

Besides each secret's whole value, what a careless peer echoes back is masked too: the token-like parts of a
secret URL (a webhook's token, which an error names without the URL's query), any run of at least its first
``MIN_ECHO`` characters of a token-like secret of ``MIN_ECHOED_SECRET`` characters or more (an exchange that
answers "key Kv3f9a1c0b2d… not found"), and that secret reversed (or a run of its last characters, reversed).
"""

from __future__ import annotations

import functools
import json
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ops_checks.core.secret import Secret

MASK = "***REDACTED***"
SENSITIVE_NAME = re.compile(r"(key|secret|signature|password|passwd|token|authorization|reset_code|dsn)", re.I)
# Both patterns run in linear time on any input (a hostile 50 MB body must not stall a run): each starts with a
# literal the regex engine searches for directly, and every repetition after it is bounded.
_URL_PASSWORD = re.compile(r"://(?P<user>[^:/@\s]{1,256}):(?P<pw>[^@\s]{1,1024})@")
_SENSITIVE_WORD = re.compile(r"key|secret|signature|password|passwd|token|authorization", re.I)
_NAME_TAIL = re.compile(r"[\w-]{0,64}")
_SEP_VALUE = re.compile(r"(?P<sep>\s{0,8}[=:]\s{0,8})(?P<quote>[\"']?)(?P<value>[^\s\"',;&]+)")


MIN_ECHOED_SECRET = 12  # a token-like secret this long is masked where only part of it shows …
MIN_ECHO = 8  # … any run of at least its first 8 characters (or its last 8, reversed)
# a prefix shaped like a word ("password", "Discord", "PASSWORD") is left alone: masking it would eat ordinary
# text wherever the word appears ("DB_PASSWORD is not set"); random keys and tokens mix cases, digits and signs
_WORDLIKE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+")

_KNOWN: set[str] = set()  # every secret value registered with any redactor in this process


class Redactor:
    """Replaces each known secret value (and any value of a field named like a secret) with a mask."""

    def __init__(self, secrets: Iterable[Secret | str] = ()) -> None:
        self._values: set[str] = set()
        self._plan: tuple[tuple[str, ...], tuple[tuple[str, str], ...]] | None = None
        for s in secrets:
            self.register(s)

    @classmethod
    def everything_known(cls) -> Redactor:
        """A redactor holding every secret any redactor in this process was given (sandboxes, drills, targets)."""
        r = cls()
        r._values = set(_KNOWN)
        return r

    def register(self, secret: Secret | str | None) -> None:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value and len(value) >= 4 and value not in self._values:
            self._values.add(value)
            _KNOWN.add(value)
            self._plan = None

    def known(self) -> list[str]:
        """The secret values this redactor masks (to hand them to another redactor; never to print)."""
        return sorted(self._values)

    def _masks(self) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """The whole values to replace (longest first), and the secrets' echoes: (seed, pattern) pairs, in the
        patterns' order (longest first)."""
        if self._plan is None:
            whole: set[str] = set()
            echoes: set[str] = set()
            for value in self._values:
                derived = _derived(value)
                whole |= derived[0]
                echoes |= derived[1]
            self._plan = (
                tuple(sorted(whole, key=len, reverse=True)),
                tuple(sorted(((b[:MIN_ECHO], _echo_source(b)) for b in echoes), key=lambda e: (-len(e[1]), e[1]))),
            )
        return self._plan

    def values(self, text: str) -> str:
        """Mask known secret values and their echoes only (no pattern rewriting): safe on JSON and XML text."""
        whole, echoes = self._masks()
        for value in whole:
            if value in text:
                text = text.replace(value, MASK)
        if not echoes:
            return text
        # an echo starts with its seed: a text without it has nothing to mask (the pattern, a few ms to compile and
        # a pass over the text, is only needed where the seed occurs); the seeds present are found in one pass
        present = _seeds_in(text)
        for seed, pattern in echoes:
            if seed in present:
                text = _echo_regex(pattern).sub(MASK, text)
                present = _seeds_in(text)  # the text changed: seeds are looked for in what it is now
        return text

    def text(self, text: str) -> str:
        text = self.values(text)
        if "://" in text:
            text = _URL_PASSWORD.sub(lambda m: f"://{m['user']}:{MASK}@", text)
        return _mask_assignments(text)

    def mapping(self, data: Any) -> Any:
        """Redact a JSON-like structure: sensitive field names are masked whole, strings are scrubbed."""
        if isinstance(data, dict):
            return {
                k: (
                    MASK if isinstance(k, str) and SENSITIVE_NAME.search(k) and v not in (None, "") else self.mapping(v)
                )
                for k, v in data.items()
            }
        if isinstance(data, list):
            return [self.mapping(v) for v in data]
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, Secret):
            return MASK
        return data

    def headers(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(k, MASK if SENSITIVE_NAME.search(k) else self.text(v)) for k, v in headers]

    def json(self, data: Any) -> str:
        return json.dumps(self.mapping(data), indent=2, default=str, sort_keys=True)


def _mask_assignments(text: str) -> str:
    """Mask the value of ``<name containing key|secret|…> = value`` (or ``:``); linear in the text's length."""
    out: list[str] = []
    last = 0
    scanned = 0  # the end of the last name examined: later keywords inside it end the same name
    for word in _SENSITIVE_WORD.finditer(text):
        if word.start() < max(last, scanned):
            continue
        tail = _NAME_TAIL.match(text, word.end())  # matches always (possibly empty)
        scanned = tail.end() if tail else word.end()
        m = _SEP_VALUE.match(text, scanned)
        if m is None:
            continue
        out.append(text[last : m.start("value")])
        out.append(MASK)
        last = m.end("value")
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def _token_like(text: str) -> bool:
    return len(text) >= MIN_ECHOED_SECRET and not _WORDLIKE.fullmatch(text) and not any(c.isspace() for c in text)


def _url_parts(value: str) -> set[str]:
    """A secret URL's parts that are secrets on their own: its password, and its token-like path segments and
    query values (a Discord webhook's token; an error may name the URL without its query string)."""
    try:
        url = urlsplit(value)
        parts = {url.password or "", url.fragment, *url.path.split("/")}
        parts |= {v for _, v in parse_qsl(url.query)}
    except ValueError:
        return set()
    return {p for p in parts if _token_like(p) or (p and p == url.password and len(p) >= 4)}


_ECHO_BLOCK = 256  # a longer secret is matched in blocks (a pattern nests one group per character)


@functools.lru_cache(maxsize=4096)
def _derived(value: str) -> tuple[frozenset[str], frozenset[str]]:
    """What masks ``value``: the whole values to replace, and the blocks whose echoes are masked (``_echo_source``)."""
    whole = {value}
    atoms = _url_parts(value) if "://" in value else {value}
    whole |= atoms
    echoes = set()
    for atom in atoms:
        if not _token_like(atom):
            continue
        for text in (atom, atom[::-1]):
            for at in range(0, len(text), _ECHO_BLOCK):
                block = text[at : at + _ECHO_BLOCK + MIN_ECHO]
                seed = block[:MIN_ECHO]
                if len(seed) == MIN_ECHO and not _WORDLIKE.fullmatch(seed) and len(set(seed)) > 2:
                    echoes.add(block)
    return frozenset(whole), frozenset(echoes)


@functools.lru_cache(maxsize=4096)
def _echo_source(secret: str) -> str:
    """A run of at least the first ``MIN_ECHO`` characters of ``secret``, as long as it goes on matching:
    ``seed(?:c(?:c(?:c)?)?)?``; the regex engine searches for the literal seed and extends the match itself, so a
    body full of echoes costs one pass in C, not a Python step per echo. Its source starts with the seed, escaped."""
    tail = ""
    for ch in reversed(secret[MIN_ECHO:]):
        tail = f"(?:{re.escape(ch)}{tail})?"
    return re.escape(secret[:MIN_ECHO]) + tail


_SEED_RUN = re.compile(rf"\S{{{MIN_ECHO},}}")  # a seed holds no whitespace (``_token_like``): it lies in such a run
_SEEDS_UP_TO = 1 << 16  # a longer text is searched seed by seed (a set of its substrings would grow with it)


def _seeds_in(text: str) -> set[str] | str:
    """What ``seed in`` is asked of: every ``MIN_ECHO``-character substring of ``text`` that could be a seed (none
    holds whitespace), found in one pass; a long text itself."""
    if len(text) > _SEEDS_UP_TO:
        return text
    return {run[i : i + MIN_ECHO] for run in _SEED_RUN.findall(text) for i in range(len(run) - MIN_ECHO + 1)}


@functools.lru_cache(maxsize=4096)
def _echo_regex(source: str) -> re.Pattern[str]:
    return re.compile(source)


def scrub_values(text: str, redactor: Redactor) -> str:
    """Replace known secret values (and their echoes) only, no pattern rewriting: safe on JSON and XML text."""
    return redactor.values(text)


def scrub_tree(root: Path, redactor: Redactor) -> int:
    """Rewrite every text file under ``root`` with known secret values masked; returns how many changed.

    The last line of defence for result files written by third-party plugins (Allure step parameters are the
    ``repr`` of every step argument; JUnit and Cucumber carry messages), run before the results are hashed.
    """
    changed = 0
    files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        clean = scrub_values(text, redactor)
        if clean != text:
            path.write_text(clean, encoding="utf-8")
            changed += 1
    return changed


SECRETS_FD_ENV = "OPSCHECK_SECRETS_FD"  # the preflight's child hands its secrets to the CLI over this pipe


def hand_over(fd: int) -> None:
    """Write every secret this process knows (JSON) to ``fd``, the write end of a pipe from the parent process,
    and close it: the parent then masks them in what it wrote from this process's output (never a file)."""
    try:
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(json.dumps(sorted(_KNOWN)).encode())
    except OSError:
        pass
