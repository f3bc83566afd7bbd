"""The one definition of every ``OPSCHECK_<THRESHOLD>``: the typed model ``Thresholds`` (pydantic-settings).

Each tolerance the checks apply is one field, and nowhere else: its env var is ``OPSCHECK_`` + the field name in
capitals, its default is the runbook's, its meaning the docstring under it (README's thresholds table is
``readme_table()``, checked by tests/test_readme.py), its type is ``int`` (ASCII digits only: ``5000.5``, ``1e3``,
``0x10``, ``٣``, ``1_000`` are refused) or ``Decimal`` (money and tolerances stay exact; only an ASCII decimal
number, ``readings.decimal_text``: ``NaN``, ``Infinity``, ``٣``, ``0x10``, ``1_000``, ``1 000`` are refused, and at
most 6 decimal places, so ``1e-999999`` is too), and its bounds (``Whole``, ``Number``) are positive and finite
(with a sane ceiling per unit). Spaces around a value are ignored; an empty value means "not set". A bad value, or
an ``OPSCHECK_*`` name that is neither a field nor one of the suite's other ``OPSCHECK_`` variables (a misspelt
threshold would otherwise be ignored), raises ``ConfigError`` with one line naming the variable: the command cannot
start (exit 2).

``load(env)`` validates a mapping (an env file merged under the environment), never ``os.environ`` behind the
caller's back: on live from the env file and the environment (``access.config.live_target``), on the sandbox from
the environment (``operator_env``) over the sandbox's short windows. The checks read ``t.thresholds``; a default
elsewhere reads ``DEFAULTS``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationError
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from ops_checks.core import readings
from ops_checks.core.envfile import ConfigError

PREFIX = "OPSCHECK_"

# The suite's OPSCHECK_ variables that are not thresholds (grep OPSCHECK_ across ops_checks/, README.md, tests/,
# scripts/). A new one must be added here, or every run that sets it stops with "unknown setting".
NON_THRESHOLD_VARS = frozenset(
    {
        "OPSCHECK_ADMIN_DSN",  # opscheck init: a role that may create the schema
        "OPSCHECK_FEATURES",  # preflight --features, passed to the pytest run
        "OPSCHECK_IN_CONTAINER",  # set by the container image: host-only items say what to mount
        "OPSCHECK_KILL_SWITCH_METHOD",  # sql | api (runbook §4.2 Method 1 or 2)
        "OPSCHECK_OPERATOR",  # who the kill-switch and audit records name
        "OPSCHECK_REAL_BOT_WORK",  # scripts/real-bot-check.sh work directory
        "OPSCHECK_RUNBOOK_DIR",  # the runbooks the report quotes (preflight --runbook)
        "OPSCHECK_SCOPE",  # the operator's declared scope (target/scope.py): what is not applicable
        "OPSCHECK_SECRETS_FD",  # the preflight child hands the secrets it knew to the CLI over this pipe
        "OPSCHECK_SIGNOFF_ANCHOR",  # the sign-off anchor file
        "OPSCHECK_SIGNOFF_KEY",  # the sign-off MAC key (secret: never echoed)
        "OPSCHECK_TARGET",  # pytest --target default
        "OPSCHECK_WAIVERS",  # approved waivers file
    }
)
NON_THRESHOLD_PREFIXES = ("OPSCHECK_SANDBOX_",)  # the sandbox's DSN, migrations and secret overrides

_INT = re.compile(r"[0-9]{1,18}", re.ASCII)
_SPACE = " \t\r\n"  # around a value (never inside it)
PLACES = 6  # decimal places a Decimal setting may have: 0.000001 ms is a nanosecond
# A bad value is quoted only when it is short and number-like: a threshold is no secret, but a value pasted into
# the wrong variable (a URL with its password, a token) may be.
_SHOWABLE = re.compile(r"[\w.+\- ]{0,24}", re.ASCII)


def _reject(message: str) -> PydanticCustomError:
    return PydanticCustomError("opscheck_setting", message)


@dataclass(frozen=True)
class Whole:
    """A whole number of ``unit`` from ``minimum`` to ``maximum``: a field's validator and its README bounds."""

    unit: str
    maximum: int
    minimum: int = 1

    def __call__(self, raw: object) -> int | None:
        if raw is None:
            return None  # an optional setting left unset (a required one then fails as not an integer)
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw  # a default or an in-process override
        else:
            text = str(raw).strip(_SPACE)
            if not _INT.fullmatch(text):
                raise _reject(f"not a whole number of {self.unit}")
            value = int(text)
        if not self.minimum <= value <= self.maximum:
            raise _reject(f"must be from {self.minimum} to {self.maximum} {self.unit}")
        return value

    def bounds(self) -> str:
        return f"whole {self.unit}, {self.minimum} to {self.maximum:,}"


@dataclass(frozen=True)
class Number:
    """A Decimal of ``unit``, greater than 0 (or at least 0) and at most ``maximum``, with at most ``PLACES``
    decimal places: a field's validator and its README bounds."""

    unit: str
    maximum: Decimal
    allow_zero: bool = False

    def __call__(self, raw: object) -> Decimal:
        if isinstance(raw, Decimal):
            value = raw
        elif isinstance(raw, int | float) and not isinstance(raw, bool):
            value = Decimal(str(raw))
        else:
            text = str(raw).strip(_SPACE)
            parsed = readings.decimal_text(text)
            if parsed is None:
                finite = text.lower().lstrip("+-") in ("nan", "snan", "inf", "infinity")
                raise _reject(f"not a finite number of {self.unit}" if finite else f"not a number of {self.unit}")
            value = parsed
        if not value.is_finite():
            raise _reject(f"not a finite number of {self.unit}")
        if value < 0 or (value == 0 and not self.allow_zero) or value > self.maximum:
            low = "at least 0" if self.allow_zero else "greater than 0"
            raise _reject(f"must be {low} and at most {self.maximum} ({self.unit})")
        exponent = value.normalize().as_tuple().exponent  # an int: the value is finite
        if value != 0 and isinstance(exponent, int) and exponent < -PLACES:
            raise _reject(f"more than {PLACES} decimal places ({self.unit})")
        return value

    def bounds(self) -> str:
        low = "0" if self.allow_zero else "> 0"
        return f"{self.unit}, {low} to {self.maximum:,}, at most {PLACES} decimal places"


_BIG = Decimal(10) ** 9
Millis = Annotated[Decimal, BeforeValidator(Number("milliseconds", maximum=_BIG))]
MillisOrZero = Annotated[Decimal, BeforeValidator(Number("milliseconds", maximum=_BIG, allow_zero=True))]
Percent = Annotated[Decimal, BeforeValidator(Number("percent", maximum=Decimal(100)))]
Fraction = Annotated[Decimal, BeforeValidator(Number("a fraction (0.03 = 3 %)", maximum=Decimal(1)))]
Scale = Annotated[Decimal, BeforeValidator(Number("a scale factor", maximum=Decimal(1)))]
Zar = Annotated[Decimal, BeforeValidator(Number("ZAR", maximum=Decimal(10) ** 12))]
Seconds = Annotated[int, BeforeValidator(Whole("seconds", maximum=10**9))]
OptionalSeconds = Annotated[int | None, BeforeValidator(Whole("seconds", maximum=10**9))]
Hours = Annotated[int, BeforeValidator(Whole("hours", maximum=24 * 366 * 100))]
Days = Annotated[int, BeforeValidator(Whole("days", maximum=366 * 100))]
Years = Annotated[int, BeforeValidator(Whole("years", maximum=100))]
Count = Annotated[int, BeforeValidator(Whole("items", maximum=10**6))]
Samples = Annotated[int, BeforeValidator(Whole("samples", minimum=2, maximum=10**4))]

_ENV: ContextVar[Mapping[str, str]] = ContextVar("opscheck_settings_env")


class _MappingSource(EnvSettingsSource):
    """pydantic-settings' env source, reading the given mapping instead of ``os.environ``."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v for k, v in _ENV.get({}).items() if k.startswith(PREFIX) and v != ""}


class Thresholds(BaseSettings):
    """Every ``OPSCHECK_<THRESHOLD>``: the one definition of its name, default (the runbook's), type, bounds and
    meaning (the docstring under each field, which README's thresholds table shows). The checks read them from
    ``Target.thresholds``; build them with ``load(env)``."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        case_sensitive=False,
        extra="forbid",
        validate_default=True,
        frozen=True,
        protected_namespaces=(),  # settings_reset_max_age_h is a field, not a clash
        use_attribute_docstrings=True,
    )

    drift_max_ms: Millis = Decimal("1000")
    """§8.6.2: the clock offset tolerance (|offset| + bound); §8.7 NEUTRAL above it; `opscheck drift` exits 1 at it"""
    drift_warn_ms: Millis = Decimal("500")
    """§8.7: the warning band's lower edge (healthy up to it)"""
    drift_samples: Count = 7
    """§8: requests sampled per clock offset measurement (`opscheck drift --samples`)"""
    kill_switch_max_ms: Millis = Decimal("1000")
    """§4.5.1: the kill switch's response time limit"""
    equity_tolerance_pct: Percent = Decimal("1.0")
    """1.5.1: recorded starting equity vs the ZAR balance on VALR"""
    balance_cache_tolerance_pct: Percent = Decimal("0.5")
    """1.2.3: the bot's cached balance vs VALR's"""
    log_window_s: Seconds = 900
    """§1.3, sop.daily.1, §8.6.4: how far back the bot's log lines are read"""
    log_fresh_s: Seconds = 120
    """1.4.4: the newest log line's age"""
    decisions_fresh_s: Seconds = 60
    """1.6.3 (and the Givens that need a running bot): the latest PolicyDecision's age"""
    dry_run_period_h: Hours = 24
    """1.6.4: the DRY_RUN period reviewed"""
    dry_run_max_gap_s: Seconds = 300
    """1.6.4: the longest gap between decisions in that period"""
    settings_reset_max_age_h: Hours = 26
    """1.1.2: the daily P&L reset's age in `system_settings`"""
    max_order_ceiling_zar: Zar = Decimal("5000")
    """1.5.3: the ceiling `MAX_ORDER_ZAR` must stay within"""
    max_risk_ceiling_zar: Zar = Decimal("5000")
    """1.5.4: the ceiling `MAX_RISK_ZAR` must stay within"""
    expected_daily_loss_limit_pct: Fraction = Decimal("0.03")
    """1.3.2: the circuit breaker's expected `daily_loss_limit_pct`"""
    expected_max_consecutive_losses: Count = 3
    """1.3.2: the circuit breaker's expected `max_consecutive_losses`"""
    drift_agreement_ms: MillisOrZero = Decimal("250")
    """8.7.4: how closely the bot's drift reading must agree with ours, beyond our bound"""
    metrics_window_s: Seconds = 3600
    """§8.5.2/8.5.3: the counters' increase() window"""
    time_sync_fresh_s: OptionalSeconds = None
    """8.6.4: the bot's latest `Exchange time sync` line's age (unset: the larger of `OPSCHECK_LOG_FRESH_S` and 10)"""
    latency_samples: Samples = 12
    """sop.5.1: VALR requests timed for p50/p95/p99"""
    backoff_scale: Scale = Decimal("0.1")
    """sop.1.4: multiplies the SOP §1 backoff delays (1 s, 2 s, … 16 s) of the auth probe (1: the SOP's full 31 s)"""
    audit_window_days: Days = 30
    """7.3.x, 7.5.x: the days the audit checks read"""
    audit_max_gap_s: Seconds = 300
    """7.5.2, 7.6.1: the longest silence in the decision log while the bot runs"""
    audit_export_hours: Hours = 24
    """7.2.1: the preflight's audit export (the last hours, up to the last whole minute)"""
    audit_retention_years: Years = 7
    """7.6.1: how long audit rows are kept (runbook §7.1)"""
    audit_max_report_rows: Count = 500
    """7.3.x, 7.5.3: rows attached to a report section (counts always cover every row)"""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (_MappingSource(settings_cls), init_settings)  # the env wins over overrides


THRESHOLD_VARS = frozenset(PREFIX + name.upper() for name in Thresholds.model_fields)
DEFAULTS = Thresholds()  # the runbook's values, for a default that must not be a copy (``DEFAULTS.drift_max_ms``)


@contextmanager
def _reading(env: Mapping[str, str]) -> Iterator[None]:
    token = _ENV.set(env)
    try:
        yield
    finally:
        _ENV.reset(token)


def unknown_names(env: Mapping[str, str]) -> list[str]:
    """OPSCHECK_ names in ``env`` that are neither a setting nor one of the suite's other variables."""
    return sorted(
        k
        for k in env
        if k.startswith(PREFIX)
        and k not in THRESHOLD_VARS
        and k not in NON_THRESHOLD_VARS
        and not k.startswith(NON_THRESHOLD_PREFIXES)
    )


def _unknown_message(name: str) -> str:
    known = sorted(n.removeprefix(PREFIX) for n in THRESHOLD_VARS | NON_THRESHOLD_VARS)
    close = difflib.get_close_matches(name.removeprefix(PREFIX), known, n=1, cutoff=0.75)
    hint = f"did you mean {PREFIX}{close[0]}?" if close else "the suite's settings are in ops_checks/core/settings.py"
    return f"{name}: unknown setting ({hint})"  # never the value: it may be anything


def _one_line(exc: ValidationError, env: Mapping[str, str]) -> str:
    errors = exc.errors(include_url=False)
    first = errors[0]
    field = str(first["loc"][0]) if first["loc"] else "?"
    name = PREFIX + field.upper()
    raw = env.get(name)
    if raw is None:
        shown = " (in-process value)"
    elif _SHOWABLE.fullmatch(raw):
        shown = f"={raw!r}"
    else:
        shown = f" (value not shown: {len(raw)} characters)"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{name}{shown}: {first['msg']}{more}"


def load(env: Mapping[str, str], **overrides: Any) -> Thresholds:
    """The validated settings of ``env`` (``overrides``: in-process values the env may still override).
    Raises ConfigError with one line naming the first bad or unknown variable."""
    unknown = unknown_names(env)
    if unknown:
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise ConfigError(_unknown_message(unknown[0]) + more)
    try:
        with _reading(env):
            return Thresholds(**overrides)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc, env)) from None


def operator_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The ``OPSCHECK_`` settings of ``environ`` (a target whose own env is built, the sandbox, applies these)."""
    return {k: v for k, v in environ.items() if k.startswith(PREFIX)}


def check(env: Mapping[str, str]) -> None:
    """Validate ``env``'s OPSCHECK_ settings (ConfigError on the first problem); what a CLI calls up front."""
    load(env)


def readme_table() -> str:
    """README's thresholds table: one row per field, from the model (tests/test_readme.py checks they agree)."""
    rows = ["| variable | default | type and bounds | meaning |", "|---|---|---|---|"]
    for name, info in Thresholds.model_fields.items():
        check = next(m.func for m in info.metadata if isinstance(m, BeforeValidator))
        bounds = check.bounds() if isinstance(check, Whole | Number) else "?"
        default = "unset" if info.default is None else str(info.default)
        meaning = (info.description or "").replace("|", "\\|")
        rows.append(f"| `{PREFIX}{name.upper()}` | {default} | {bounds} | {meaning} |")
    return "\n".join(rows)


if __name__ == "__main__":  # python -m ops_checks.core.settings: the table to paste into README.md
    print(readme_table())
