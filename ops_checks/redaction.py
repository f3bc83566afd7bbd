"""Redactor: every attachment, log line and report passes through it before it is written anywhere."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ops_checks.secret import Secret

MASK = "***REDACTED***"
SENSITIVE_NAME = re.compile(r"(key|secret|signature|password|passwd|token|authorization|reset_code|dsn)", re.I)
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]+):(?P<pw>[^@\s]+)@", re.I)
_ASSIGNMENT = re.compile(
    r"(?P<name>\b[\w-]*(?:key|secret|signature|password|passwd|token|authorization)[\w-]*)"
    r"(?P<sep>\s*[=:]\s*)(?P<quote>[\"']?)(?P<value>[^\s\"',;&]+)",
    re.I,
)


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
        text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
        return _ASSIGNMENT.sub(lambda m: f"{m['name']}{m['sep']}{m['quote']}{MASK}", text)

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
