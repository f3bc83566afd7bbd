"""Redactor: every attachment, log line and report passes through it before it is written anywhere."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ops_checks.core.secret import Secret

MASK = "***REDACTED***"
SENSITIVE_NAME = re.compile(r"(key|secret|signature|password|passwd|token|authorization|reset_code|dsn)", re.I)
# Both patterns run in linear time on any input (a hostile 50 MB body must not stall a run): each starts with a
# literal the regex engine searches for directly, and every repetition after it is bounded.
_URL_PASSWORD = re.compile(r"://(?P<user>[^:/@\s]{1,256}):(?P<pw>[^@\s]{1,1024})@")
_SENSITIVE_WORD = re.compile(r"key|secret|signature|password|passwd|token|authorization", re.I)
_NAME_TAIL = re.compile(r"[\w-]{0,64}")
_SEP_VALUE = re.compile(r"(?P<sep>\s{0,8}[=:]\s{0,8})(?P<quote>[\"']?)(?P<value>[^\s\"',;&]+)")


_KNOWN: set[str] = set()  # every secret value registered with any redactor in this process


class Redactor:
    """Replaces each known secret value (and any value of a field named like a secret) with a mask."""

    def __init__(self, secrets: Iterable[Secret | str] = ()) -> None:
        self._values: set[str] = set()
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
        if value and len(value) >= 4:
            self._values.add(value)
            _KNOWN.add(value)

    def text(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, MASK)
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
        scanned = _NAME_TAIL.match(text, word.end()).end()  # type: ignore[union-attr]
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


def scrub_values(text: str, redactor: Redactor) -> str:
    """Replace known secret values only (no pattern rewriting): safe on JSON and XML text."""
    for value in sorted(redactor._values, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


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
