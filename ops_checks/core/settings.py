"""One typed settings model for every ``OPSCHECK_<THRESHOLD>`` env var (pydantic-settings).

Each tolerance the checks apply is one field: its env var is ``OPSCHECK_`` + the field name in capitals, its type
is ``int`` (ASCII digits only: ``5000.5``, ``1e3``, ``0x10``, ``٣``, ``1_000`` are refused) or ``Decimal`` (money and
tolerances stay exact; only an ASCII decimal number, ``readings.decimal_text``: ``NaN``, ``Infinity``, ``٣``,
``0x10``, ``1_000``, ``1 000`` are refused, and at most 6 decimal places, so ``1e-999999`` is too), and its bounds
are positive and finite (with a sane ceiling per unit). Spaces around a value are ignored; an empty value means
"not set". A bad value, or an ``OPSCHECK_*`` name that is neither a field
nor one of the suite's other ``OPSCHECK_`` variables (a misspelt threshold would otherwise be ignored), raises
``ConfigError`` with one line naming the variable: the run cannot start (exit 2).

``load(env)`` validates a mapping (an env file merged under the environment), never ``os.environ`` behind the
caller's back. ``config.Thresholds.from_env`` reads every field from here, and the checks read ``t.thresholds``:
on live from the env file and the environment, on the sandbox from the environment (``operator_env``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
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


def _whole(unit: str, *, minimum: int = 1, maximum: int) -> Callable[[object], int | None]:
    def parse(raw: object) -> int | None:
        if raw is None:
            return None  # an optional setting left unset (a required one then fails as not an integer)
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw  # a default or an in-process override
        else:
            text = str(raw).strip(_SPACE)
            if not _INT.fullmatch(text):
                raise _reject(f"not a whole number of {unit}")
            value = int(text)
        if not minimum <= value <= maximum:
            raise _reject(f"must be from {minimum} to {maximum} {unit}")
        return value

    return parse


def _number(unit: str, *, maximum: Decimal, allow_zero: bool = False) -> Callable[[object], Decimal]:
    def parse(raw: object) -> Decimal:
        if isinstance(raw, Decimal):
            value = raw
        elif isinstance(raw, int | float) and not isinstance(raw, bool):
            value = Decimal(str(raw))
        else:
            text = str(raw).strip(_SPACE)
            parsed = readings.decimal_text(text)
            if parsed is None:
                finite = text.lower().lstrip("+-") in ("nan", "snan", "inf", "infinity")
                raise _reject(f"not a finite number of {unit}" if finite else f"not a number of {unit}")
            value = parsed
        if not value.is_finite():
            raise _reject(f"not a finite number of {unit}")
        if value < 0 or (value == 0 and not allow_zero) or value > maximum:
            low = "at least 0" if allow_zero else "greater than 0"
            raise _reject(f"must be {low} and at most {maximum} ({unit})")
        exponent = value.normalize().as_tuple().exponent  # an int: the value is finite
        if value != 0 and isinstance(exponent, int) and exponent < -PLACES:
            raise _reject(f"more than {PLACES} decimal places ({unit})")
        return value

    return parse


_BIG = Decimal(10) ** 9
Millis = Annotated[Decimal, BeforeValidator(_number("milliseconds", maximum=_BIG))]
MillisOrZero = Annotated[Decimal, BeforeValidator(_number("milliseconds", maximum=_BIG, allow_zero=True))]
Percent = Annotated[Decimal, BeforeValidator(_number("percent", maximum=Decimal(100)))]
Fraction = Annotated[Decimal, BeforeValidator(_number("a fraction (0.03 = 3 %)", maximum=Decimal(1)))]
Scale = Annotated[Decimal, BeforeValidator(_number("a scale factor", maximum=Decimal(1)))]
Zar = Annotated[Decimal, BeforeValidator(_number("ZAR", maximum=Decimal(10) ** 12))]
Seconds = Annotated[int, BeforeValidator(_whole("seconds", maximum=10**9))]
OptionalSeconds = Annotated[int | None, BeforeValidator(_whole("seconds", maximum=10**9))]
Hours = Annotated[int, BeforeValidator(_whole("hours", maximum=24 * 366 * 100))]
Days = Annotated[int, BeforeValidator(_whole("days", maximum=366 * 100))]
Years = Annotated[int, BeforeValidator(_whole("years", maximum=100))]
Count = Annotated[int, BeforeValidator(_whole("items", maximum=10**6))]
Samples = Annotated[int, BeforeValidator(_whole("samples", minimum=2, maximum=10**4))]

_ENV: ContextVar[Mapping[str, str]] = ContextVar("opscheck_settings_env")


class _MappingSource(EnvSettingsSource):
    """pydantic-settings' env source, reading the given mapping instead of ``os.environ``."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v for k, v in _ENV.get({}).items() if k.startswith(PREFIX) and v != ""}


class Settings(BaseSettings):
    """Every OPSCHECK_ tunable; defaults are the runbook's."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        case_sensitive=False,
        extra="forbid",
        validate_default=True,
        frozen=True,
        protected_namespaces=(),
    )  # settings_reset_max_age_h is a field, not a clash

    # config.Thresholds: the tolerances the checks apply
    drift_max_ms: Millis = Decimal("1000")
    drift_warn_ms: Millis = Decimal("500")
    drift_samples: Count = 7
    kill_switch_max_ms: Millis = Decimal("1000")
    equity_tolerance_pct: Percent = Decimal("1.0")
    balance_cache_tolerance_pct: Percent = Decimal("0.5")
    log_window_s: Seconds = 900
    log_fresh_s: Seconds = 120
    decisions_fresh_s: Seconds = 60
    dry_run_period_h: Hours = 24
    dry_run_max_gap_s: Seconds = 300
    settings_reset_max_age_h: Hours = 26
    max_order_ceiling_zar: Zar = Decimal("5000")
    max_risk_ceiling_zar: Zar = Decimal("5000")
    expected_daily_loss_limit_pct: Fraction = Decimal("0.03")
    expected_max_consecutive_losses: Count = 3
    # read through config.Thresholds by drift.py, drift_metrics.py, drift_logs.py, sop/, audit_settings.py
    drift_agreement_ms: MillisOrZero = Decimal("250")
    metrics_window_s: Seconds = 3600
    time_sync_fresh_s: OptionalSeconds = None  # default: max(log_fresh_s, 10)
    latency_samples: Samples = 12
    backoff_scale: Scale = Decimal("0.1")
    audit_window_days: Days = 30
    audit_max_gap_s: Seconds = 300
    audit_export_hours: Hours = 24
    audit_retention_years: Years = 7
    audit_max_report_rows: Count = 500

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


THRESHOLD_VARS = frozenset(PREFIX + name.upper() for name in Settings.model_fields)


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


def load(env: Mapping[str, str], **overrides: Any) -> Settings:
    """The validated settings of ``env`` (``overrides``: in-process values the env may still override).
    Raises ConfigError with one line naming the first bad or unknown variable."""
    unknown = unknown_names(env)
    if unknown:
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise ConfigError(_unknown_message(unknown[0]) + more)
    try:
        with _reading(env):
            return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc, env)) from None


def operator_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The ``OPSCHECK_`` settings of ``environ`` (a target whose own env is built, the sandbox, applies these)."""
    return {k: v for k, v in environ.items() if k.startswith(PREFIX)}


def check(env: Mapping[str, str]) -> None:
    """Validate ``env``'s OPSCHECK_ settings (ConfigError on the first problem); what a CLI calls up front."""
    load(env)
