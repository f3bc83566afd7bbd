"""Numbers and flags read from the bot, the exchange, the metrics or the database: one validated parse each.

A check compares what it read with a limit (``age > 5``, ``drift < 1000``). A value no real system produces
(NaN, ±Infinity, a negative age, ``null``, ``true`` where a number belongs, a list, a string) must never slip
through that comparison: ``NaN > 5`` is False, so is ``-inf > 5``, and the check would pass. Every such read
goes through one of these functions, which return the value or raise ``BadReading`` with one line naming the
field and the value; the check turns it into a failed item.

- ``number``: a finite float (ages, latencies, drifts, counts), non-negative unless ``signed``.
- ``amount``: the same as an exact ``Decimal`` (money, fractions, database numerics).
- ``flag``: exactly ``true``/``false`` (JSON, database booleans): ``null``, ``1``, ``"true"`` are refused.
- ``gauge_flag``: a Prometheus 0/1 gauge: exactly 0 or 1.
- ``age_s``: seconds from a recorded time to now; a time zone is required, and a time in the future (beyond a
  small clock skew between hosts) is refused, never a negative age that passes every "not older than".
- ``decimal_text``: the one grammar of a number written as text (ASCII digits, an optional sign, point and
  short exponent): ``٣``, ``0x10``, ``1_000``, ``NaN``, ``Infinity``, ``1e-999999`` are not numbers. The
  settings model uses it too.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

FUTURE_SLACK_S = 60  # how far another host's clock may run ahead of ours before its "now" is a future time
# A plausibility ceiling for any reading: a trillion (seconds, milliseconds, ZAR, events). Larger is a broken
# exporter (1e308, 2**70), never a value to compare with a limit.
CEILING = 10**12
_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?", re.ASCII)
_MAX_TEXT = 40  # characters: longer text is no reading


class BadReading(ValueError):
    """A value read from the bot, the exchange, the metrics or the database that no check may compare;
    ``str()`` is one line naming the field and the value."""


def shown(value: object) -> str:
    """The value as a short one-line repr (JSON's words for null/true/false)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value) if not isinstance(value, float) else format(value, "g")
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "..."


def decimal_text(text: str) -> Decimal | None:
    """``text`` as a finite Decimal when it is a plain ASCII number (``12``, ``-0.5``, ``1e-3``), else None."""
    if len(text) > _MAX_TEXT or not _TEXT.fullmatch(text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern only admits what Decimal reads
        return None
    return value if value.is_finite() else None


def _decimal(value: object, what: str, text: bool) -> Decimal:
    if isinstance(value, bool):
        raise BadReading(f"{what} is {shown(value)}: a boolean, not a number")
    if isinstance(value, int):
        return Decimal(max(-(10**60), min(10**60, value)))  # clamped far beyond any ceiling: refused below
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BadReading(f"{what} is {shown(value)}: not a finite number")
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise BadReading(f"{what} is {value}: not a finite number")
        return value
    if isinstance(value, str) and text:
        parsed = decimal_text(value)
        if parsed is None:
            raise BadReading(f"{what} is {shown(value)}: not a number")
        return parsed
    if value is None:
        raise BadReading(f"{what} is null: no value")
    kind = type(value).__name__
    raise BadReading(f"{what} is {kind} {shown(value)}: not a number")


def amount(
    value: object,
    what: str,
    *,
    signed: bool = False,
    whole: bool = False,
    maximum: Decimal | int | float = CEILING,
    text: bool = False,
) -> Decimal:
    """``value`` as a finite Decimal in [0, maximum] (``signed``: [-maximum, maximum]); ``whole``: an integer.
    ``text``: a string is accepted when it is a plain ASCII number (VALR sends amounts as strings)."""
    number_ = _decimal(value, what, text)
    if not signed and number_ < 0:
        raise BadReading(f"{what} is {shown(value)}: negative")
    if abs(number_) > Decimal(str(maximum)):
        raise BadReading(f"{what} is {shown(value)}: implausibly large (more than {maximum:g})")
    if whole and number_ != number_.to_integral_value():
        raise BadReading(f"{what} is {shown(value)}: not a whole number")
    return number_


def number(
    value: object,
    what: str,
    *,
    signed: bool = False,
    whole: bool = False,
    maximum: float = CEILING,
    text: bool = False,
) -> float:
    """``value`` as a finite float in [0, maximum] (``signed``: [-maximum, maximum]); see ``amount``."""
    return float(amount(value, what, signed=signed, whole=whole, maximum=maximum, text=text))


def count(value: object, what: str, *, maximum: int = CEILING) -> int:
    """A non-negative whole number (rows, events, entries)."""
    return int(amount(value, what, whole=True, maximum=maximum))


def flag(value: object, what: str) -> bool:
    """Exactly a boolean (JSON ``true``/``false``, a database boolean); anything else is refused."""
    if isinstance(value, bool):
        return value
    raise BadReading(f"{what} is {shown(value)}: not true or false")


def gauge_flag(value: object, what: str) -> bool:
    """A Prometheus 0/1 gauge: exactly 0 (False) or 1 (True)."""
    got = number(value, what, signed=True)
    if got not in (0.0, 1.0):
        raise BadReading(f"{what} is {shown(value)}: not 0 or 1")
    return got == 1.0


def age_s(at: object, now: datetime, what: str, *, slack_s: float = FUTURE_SLACK_S) -> float:
    """Seconds from ``at`` (an aware datetime read from the database, a log or an API) to ``now``, at least 0;
    BadReading when ``at`` is not an aware datetime or lies more than ``slack_s`` in the future."""
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise BadReading(f"{what} is {shown(at)}: not a time with a time zone")
    seconds = (now - at).total_seconds()
    if seconds < -slack_s:
        raise BadReading(f"{what} {at.isoformat(timespec='seconds')} is {-seconds:.0f} s in the future")
    return max(0.0, seconds)


def seconds_ago(value: object, what: str, *, slack_s: float = FUTURE_SLACK_S) -> float:
    """An age in seconds computed elsewhere (``EXTRACT(EPOCH FROM now() - t)``): finite, at least 0 (a value up to
    ``slack_s`` below 0 is clock skew and counts as 0; further below, or ±Infinity from a timestamp 'infinity', is
    refused)."""
    got = number(value, what, signed=True)
    if got < -slack_s:
        raise BadReading(f"{what} is {shown(value)} s: a time {-got:.0f} s in the future")
    return max(0.0, got)
