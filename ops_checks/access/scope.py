"""The operator's declared scope: the parts of the runbooks this deployment does not use, declared as waivers are
(by the operator, in writing), never guessed by the suite.

``OPSCHECK_SCOPE`` in the env file (or the environment; the sandbox takes it from the environment), e.g.::

    OPSCHECK_SCOPE=exchanges=valr; perpetuals=none; websocket_feed=none

* ``exchanges`` — the exchanges the bot trades on (``valr``, ``coinbase``): without ``coinbase``, Coinbase CDP is
  out of scope (sop.1.1, sop.1.2 not applicable; sop.3.1 asks no CDP standby key);
* ``perpetuals`` — ``none``: no perpetual futures (sop.6.1 not applicable); ``used``: in scope;
* ``websocket_feed`` — ``none``: no market-data websocket (sop.2.1–sop.2.4 not applicable); ``used``: in scope.

An item out of the declared scope is *not applicable* (it never blocks); an absence nobody declared (Coinbase CDP not
configured, ``PERPETUAL_PAIRS`` unset) is *not verified*, its cause naming the line to declare; a declaration the
configuration contradicts (CDP keys set, yet ``exchanges=valr``) is *not verified* too. The declaration is printed in
the run's header, recorded in ``verdict.json`` (``scope``) and shown on the sign-off page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ops_checks.core.envfile import ConfigError
from ops_checks.core.result import Cause, CheckResult, not_applicable, not_verified

ENV = "OPSCHECK_SCOPE"
EXCHANGES = ("valr", "coinbase")
_ALIASES = {"coinbase_cdp": "coinbase", "cdp": "coinbase"}
USED, NONE = "used", "none"


@dataclass(frozen=True)
class Dimension:
    """One thing a deployment may not use: its key in the declaration, what it is, the items it decides."""

    key: str
    what: str
    items: tuple[str, ...]
    example: str  # the declaration that puts it out of scope


COINBASE = Dimension("exchanges", "Coinbase CDP", ("sop.1.1", "sop.1.2"), "exchanges=valr")
PERPETUALS = Dimension("perpetuals", "perpetual futures", ("sop.6.1",), "perpetuals=none")
WEBSOCKET = Dimension(
    "websocket_feed",
    "a market-data websocket feed",
    ("sop.2.1", "sop.2.2", "sop.2.3", "sop.2.4"),
    "websocket_feed=none",
)
DIMENSIONS = (COINBASE, PERPETUALS, WEBSOCKET)


@dataclass(frozen=True)
class Scope:
    """What was declared (key -> values, in the order written); empty: nothing declared, every item applies."""

    declared: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def get(self, key: str) -> tuple[str, ...] | None:
        return next((v for k, v in self.declared if k == key), None)

    def in_scope(self, dim: Dimension) -> bool | None:
        """True: declared used; False: declared out of scope; None: nothing declared about it."""
        values = self.get(dim.key)
        if values is None:
            return None
        if dim is COINBASE:
            return "coinbase" in values
        return values != (NONE,)

    def text(self) -> str:
        """The declaration as written back: ``exchanges=valr; perpetuals=none``."""
        return "; ".join(f"{k}={','.join(v)}" for k, v in self.declared)

    def out(self) -> list[Dimension]:
        return [d for d in DIMENSIONS if self.in_scope(d) is False]

    def not_applicable_items(self) -> list[str]:
        return [i for d in self.out() for i in d.items]

    def describe(self) -> str:
        """One line for the run's header."""
        if not self.declared:
            return f"scope: nothing declared out of scope ({ENV} unset): every item applies"
        out = self.out()
        tail = (
            (
                f": out of scope {', '.join(d.what for d in out)} (not applicable: "
                f"{', '.join(self.not_applicable_items())})"
            )
            if out
            else ": every item applies"
        )
        return f"scope ({ENV}): {self.text()}{tail}"

    def as_json(self) -> dict[str, Any]:
        return {
            "source": ENV if self.declared else None,
            "declared": {k: list(v) for k, v in self.declared},
            "out_of_scope": [d.what for d in self.out()],
            "not_applicable": self.not_applicable_items(),
        }


_PAIR = re.compile(r"^\s*([A-Za-z_]+)\s*[=:]\s*(.*?)\s*$")


def parse(text: str | None) -> Scope:
    """``OPSCHECK_SCOPE``'s value; ConfigError (one line) for a key or value it does not know."""
    if not text or not text.strip():
        return Scope()
    declared: list[tuple[str, tuple[str, ...]]] = []
    for part in re.split(r"[;\n]", text):
        if not part.strip():
            continue
        m = _PAIR.match(part)
        if m is None:
            raise ConfigError(f"{ENV}: {part.strip()[:40]!r} is not key=value (e.g. exchanges=valr; perpetuals=none)")
        key = m.group(1).lower()
        values = tuple(v.lower() for v in re.split(r"[\s,]+", m.group(2).strip("[] ")) if v)
        if key in (k for k, _ in declared):
            raise ConfigError(f"{ENV}: {key} is declared twice")
        if key == COINBASE.key:
            values = tuple(dict.fromkeys(_ALIASES.get(v, v) for v in values))
            unknown = [v for v in values if v not in EXCHANGES]
            if not values or unknown:
                raise ConfigError(f"{ENV}: exchanges must list {' and/or '.join(EXCHANGES)}, not {m.group(2)[:40]!r}")
        elif key in (PERPETUALS.key, WEBSOCKET.key):
            if values not in ((NONE,), (USED,)):
                raise ConfigError(f"{ENV}: {key} must be {NONE} or {USED}, not {m.group(2)[:40]!r}")
        else:
            known = ", ".join(d.key for d in DIMENSIONS)
            raise ConfigError(f"{ENV}: unknown key {key!r} (known: {known})")
        declared.append((key, values))
    return Scope(tuple(declared))


def from_env(env: Mapping[str, str]) -> Scope:
    return parse(env.get(ENV))


def gate(env: Mapping[str, str], dim: Dimension, configured: bool | None, settings: str) -> CheckResult | None:
    """Whether an item of ``dim`` runs: None (run it), *not applicable* (declared out of scope, nothing configured),
    or *not verified* (an undeclared absence, a declaration the configuration contradicts, a malformed
    declaration). ``configured``: whether ``settings`` (the env lines that configure it) are set; None: the suite
    cannot tell (the item runs unless declared out)."""
    try:
        scope = from_env(env)
    except ConfigError as exc:
        return not_verified(
            str(exc),
            cause=Cause(
                "setting",
                ENV,
                str(exc),
                f"correct {ENV} in the env file (e.g. OPSCHECK_SCOPE=exchanges=valr; perpetuals=none)",
            ),
        )
    declared = scope.in_scope(dim)
    if declared is False:
        if configured:
            detail = f"{dim.what} is declared out of scope ({ENV}: {scope.text()}) yet configured ({settings})"
            return not_verified(
                detail,
                cause=Cause(
                    "scope_conflict",
                    dim.what,
                    detail,
                    f"remove {settings} from the env file, or declare {dim.what} in scope in {ENV}",
                ),
            )
        return not_applicable(
            f"out of the declared scope: {ENV} {dim.key}={','.join(scope.get(dim.key) or ())} ({dim.what} not used)"
        )
    if configured is False:
        if declared:
            detail = f"{dim.what} is declared in scope ({ENV}: {scope.text()}) but not configured ({settings} unset)"
            return not_verified(detail, cause=Cause("setting", dim.what, detail, f"set {settings} in the env file"))
        detail = f"{dim.what} is not configured ({settings} unset) and not declared out of scope ({ENV})"
        return not_verified(
            detail,
            cause=Cause(
                "scope_undeclared",
                dim.what,
                detail,
                f"declare it: {ENV}={dim.example} in the env file (combine with '; ' as in "
                f"{ENV}=exchanges=valr; perpetuals=none; websocket_feed=none) — or configure it: set {settings}",
            ),
        )
    return None
