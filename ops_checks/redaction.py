"""Redactor: every attachment, log line and report passes through it before it is written anywhere."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
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


class Redactor:
    """Replaces each known secret value (and any value of a field named like a secret) with a mask."""

    def __init__(self, secrets: Iterable[Secret | str] = ()) -> None:
        self._values: set[str] = set()
        for s in secrets:
            self.register(s)

    def register(self, secret: Secret | str | None) -> None:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value and len(value) >= 4:
            self._values.add(value)

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
