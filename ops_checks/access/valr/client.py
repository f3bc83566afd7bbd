"""A small VALR REST client: every call has a timeout, is recorded redacted, and fails with a one-line ValrError."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx

from ops_checks.access.valr.signing import now_ms as wall_clock_ms
from ops_checks.access.valr.signing import signed_headers
from ops_checks.core import http, readings
from ops_checks.core.http import HttpError, Recorder
from ops_checks.core.redaction import Redactor
from ops_checks.core.secret import Secret

DEFAULT_BASE_URL = "https://api.valr.com"
FUNDING_HISTORY_PATH = "/v1/public/futures/funding/history"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ISO = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<clock>\d{2}:\d{2}:\d{2})(?:[.,](?P<frac>\d{1,9}))?"
    r"(?P<tz>Z|z|[+-]\d{2}:?\d{2})?$"
)
_MS_THRESHOLD = 100_000_000_000  # 1e11: as seconds that is the year 5138, as milliseconds 1973


class ValrError(HttpError):
    """A VALR call that gave no usable answer. ``str()`` is a one-line, secret-free reason."""

    def __init__(
        self, reason: str, *, http_status: int | None = None, code: int | None = None, vmessage: str | None = None
    ) -> None:
        super().__init__(" ".join(reason.split()))
        self.http_status = http_status
        self.code = code
        self.vmessage = vmessage


@dataclass(frozen=True)
class ServerTime:
    """VALR's clock. ``server_ns`` is exact (nanoseconds since the epoch); ``source`` says which field gave it:
    "time" (nanosecond ISO-8601), "epochTime(s)" or "epochTime(ms)" (fallbacks, coarse resolution).
    ``sent_ns``/``received_ns`` are the local wall clock just before the request and just after the answer."""

    epoch_time: int | None
    time_iso: str | None
    server_dt: datetime
    server_ns: int
    source: str
    sent_ns: int
    received_ns: int


@dataclass(frozen=True)
class Balance:
    currency: str
    available: Decimal
    reserved: Decimal
    total: Decimal
    updated_at: datetime | None


@dataclass(frozen=True)
class ApiKeyInfo:
    label: str
    permissions: list[str]
    is_sub_account: bool
    allowed_ip_cidr: str | None


def parse_iso_ns(text: str) -> int:
    """ISO-8601 (up to 9 fractional digits; no zone means UTC) → exact nanoseconds since the Unix epoch."""
    m = _ISO.match(text.strip())
    if not m:
        raise ValueError(f"not an ISO-8601 timestamp: {text[:40]!r}")
    base = datetime.fromisoformat(f"{m['date']}T{m['clock']}").replace(tzinfo=UTC)
    tz = m["tz"] or "Z"
    offset_s = 0
    if tz not in ("Z", "z"):
        digits = tz[1:].replace(":", "")
        offset_s = (-1 if tz[0] == "-" else 1) * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    seconds = (base - _EPOCH) // timedelta(seconds=1) - offset_s
    return seconds * 1_000_000_000 + int((m["frac"] or "0").ljust(9, "0"))


def ns_to_datetime(ns: int) -> datetime:
    """Nanoseconds since the epoch → aware UTC datetime (truncated to microseconds)."""
    return _EPOCH + timedelta(microseconds=ns // 1000)


def _dec(value: Any, what: str = "amount") -> Decimal:
    """A balance amount: a finite, non-negative ASCII number (VALR sends strings); ``readings.BadReading`` else."""
    return readings.amount(value, what, text=True)


def _amount(value: Decimal) -> str:
    return format(value, "f")


_PLAUSIBLE_NS = (1_514_764_800 * 10**9, 4_102_444_800 * 10**9)  # [2018-01-01, 2100-01-01) UTC: VALR opened in 2018


def _server_time(data: Any, sent_ns: int, received_ns: int) -> ServerTime:
    if not isinstance(data, dict):
        raise TypeError("expected a JSON object")
    iso, epoch = data.get("time"), data.get("epochTime")
    iso = iso if isinstance(iso, str) else None
    epoch = epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else None
    ns, source = None, "time"
    if iso is not None:
        try:
            ns = parse_iso_ns(iso)
        except ValueError:
            ns = None
    if ns is None and epoch is not None:
        is_ms = abs(epoch) >= _MS_THRESHOLD
        ns, source = epoch * (1_000_000 if is_ms else 1_000_000_000), "epochTime(ms)" if is_ms else "epochTime(s)"
    if ns is None:
        raise ValueError("neither a parsable 'time' nor an integer 'epochTime'")
    if not _PLAUSIBLE_NS[0] <= ns < _PLAUSIBLE_NS[1]:  # e.g. epochTime 0: a broken clock, not a time to judge drift by
        raise ValueError(f"implausible server time {ns_to_datetime(ns).isoformat()} (not between 2018 and 2100)")
    return ServerTime(epoch, iso, ns_to_datetime(ns), ns, source, sent_ns, received_ns)


def _balance(row: Any) -> Balance:
    updated = row.get("updatedAt")
    return Balance(
        currency=str(row["currency"]),
        available=_dec(row["available"], "available"),
        reserved=_dec(row["reserved"], "reserved"),
        total=_dec(row["total"], "total"),
        updated_at=ns_to_datetime(parse_iso_ns(updated)) if isinstance(updated, str) else None,
    )


def _key_info(data: Any) -> ApiKeyInfo:
    perms, cidr = data["permissions"], data.get("allowedIpAddressCidr")
    if not isinstance(perms, list) or not all(isinstance(p, str) for p in perms):
        raise TypeError("permissions is not a list of strings")
    return ApiKeyInfo(
        str(data.get("label", "")), perms, readings.flag(data.get("isSubAccount", False), "isSubAccount"), cidr or None
    )


def _list_of_dicts(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise TypeError("expected a JSON array of objects")
    return data


def _dict(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise TypeError("expected a JSON object")
    return data


def _order_id(data: Any) -> str:
    oid = _dict(data)["id"]
    if not isinstance(oid, str) or not oid:
        raise TypeError("order id is not a non-empty string")
    return oid


class ValrClient:
    """VALR REST calls. Signed calls need ``api_key``/``api_secret``; their values only ever leave in headers."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: Secret | None = None,
        api_secret: Secret | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 5.0,
        recorder: Recorder | None = None,
        now_ms: Callable[[], int] = wall_clock_ms,
        subaccount_id: str = "",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self._secret = api_secret
        self._transport = transport
        self.timeout = timeout
        self.recorder = recorder if recorder is not None else Recorder(Redactor())
        self.recorder.redactor.register(api_key)
        self.recorder.redactor.register(api_secret)
        self._now_ms = now_ms
        self.subaccount_id = subaccount_id

    def __repr__(self) -> str:
        return f"ValrClient({self.base_url!r}, signed={bool(self._key and self._secret)})"

    # -- plumbing -------------------------------------------------------------------------------------------
    def _call(
        self, method: str, path: str, *, body: dict[str, Any] | None = None, signed: bool = False, parse: bool = True
    ) -> Any:
        url = httpx.URL(self.base_url + path)
        content = json.dumps(body, separators=(",", ":")) if body is not None else ""
        headers = {"Accept": "application/json"}
        if content:
            headers["Content-Type"] = "application/json"
        if signed:
            if not self._key or not self._secret:
                raise ValrError(f"VALR {method} {path}: API key/secret not configured")
            signed_path = url.raw_path.decode("ascii")
            headers.update(
                signed_headers(
                    self._key, self._secret, method, signed_path, content, self._now_ms(), self.subaccount_id
                )
            )
        try:
            resp = http.request(
                method,
                str(url),
                recorder=self.recorder,
                transport=self._transport,
                timeout=self.timeout,
                headers=headers,
                content=content.encode("utf-8") if content else None,
            )
        except HttpError as exc:
            raise ValrError(str(exc)) from exc
        if resp.status_code >= 400:
            raise self._rejected(method, path, resp)
        if not parse:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            raise ValrError(
                f"VALR {method} {path}: malformed JSON (HTTP {resp.status_code})", http_status=resp.status_code
            ) from exc

    def _rejected(self, method: str, path: str, resp: httpx.Response) -> ValrError:
        code: int | None = None
        message: str | None = None
        try:
            data = resp.json()
        except ValueError:
            data = None
        if isinstance(data, dict):
            raw_code, raw_msg = data.get("code"), data.get("message")
            code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
            if isinstance(raw_msg, str) and raw_msg.strip():
                message = self.recorder.redactor.text(" ".join(raw_msg.split()))[:200]
        status = resp.status_code
        if status == 429:
            flag = " (x-valr-ratelimited)" if resp.headers.get("x-valr-ratelimited") else ""
            head = f"VALR rate limited {method} {path}: HTTP 429{flag}"
        else:
            head = f"VALR rejected {method} {path}: HTTP {status}"
        detail = (f" code {code}" if code is not None else "") + (f" {message}" if message else "")
        return ValrError(head + detail, http_status=status, code=code, vmessage=message)

    def _parse(self, method: str, path: str, data: Any, parser: Callable[[Any], Any]) -> Any:
        try:
            return parser(data)
        except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
            detail = self.recorder.redactor.text(f"{type(exc).__name__}: {exc}")[:200]
            raise ValrError(f"VALR {method} {path}: unexpected response shape ({detail})", http_status=200) from exc

    def _get(self, path: str, parser: Callable[[Any], Any], *, signed: bool = True) -> Any:
        return self._parse("GET", path, self._call("GET", path, signed=signed), parser)

    # -- public ---------------------------------------------------------------------------------------------
    def public_time(self) -> ServerTime:
        path = "/v1/public/time"
        sent = time.time_ns()
        data = self._call("GET", path)
        received = time.time_ns()
        result: ServerTime = self._parse("GET", path, data, lambda d: _server_time(d, sent, received))
        return result

    def status(self) -> str:
        def parse(data: Any) -> str:
            status = _dict(data)["status"]
            if not isinstance(status, str):
                raise TypeError("status is not a string")
            return status

        result: str = self._get("/v1/public/status", parse, signed=False)
        return result

    # -- signed ---------------------------------------------------------------------------------------------
    def balances(self) -> list[Balance]:
        result: list[Balance] = self._get("/v1/account/balances", lambda d: [_balance(r) for r in _list_of_dicts(d)])
        return result

    def api_key_info(self) -> ApiKeyInfo:
        result: ApiKeyInfo = self._get("/v1/account/api-keys/current", lambda d: _key_info(_dict(d)))
        return result

    def place_market_order(
        self,
        pair: str,
        side: str,
        quote_amount: Decimal | None = None,
        base_amount: Decimal | None = None,
        customer_order_id: str | None = None,
    ) -> str:
        if (quote_amount is None) == (base_amount is None):
            raise ValueError("give exactly one of quote_amount and base_amount")
        body: dict[str, Any] = {"customerOrderId": customer_order_id} if customer_order_id else {}
        body |= {"pair": pair, "side": side.upper()}
        if quote_amount is not None:
            body["quoteAmount"] = _amount(quote_amount)
        if base_amount is not None:
            body["baseAmount"] = _amount(base_amount)
        return self._post_order("/v1/orders/market", body)

    def place_limit_order(
        self,
        pair: str,
        side: str,
        quantity: Decimal,
        price: Decimal,
        customer_order_id: str | None = None,
        *,
        post_only: bool = False,
        time_in_force: str = "GTC",
    ) -> str:
        body: dict[str, Any] = {"customerOrderId": customer_order_id} if customer_order_id else {}
        body |= {
            "pair": pair,
            "side": side.upper(),
            "quantity": _amount(quantity),
            "price": _amount(price),
            "postOnly": post_only,
            "timeInForce": time_in_force,
        }
        return self._post_order("/v1/orders/limit", body)

    def _post_order(self, path: str, body: dict[str, Any]) -> str:
        result: str = self._parse("POST", path, self._call("POST", path, body=body, signed=True), _order_id)
        return result

    def order_status(self, pair: str, customer_order_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._get(f"/v1/orders/{pair}/customerorderid/{customer_order_id}", _dict)
        return result

    def open_orders(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("/v1/orders/open", _list_of_dicts)
        return result

    def open_positions(self) -> list[dict[str, Any]]:
        """Open futures positions (``GET /v1/positions/open``, signed), assumed to list ``{pair, side, quantity,
        markPrice}``; VALR's exact field names should be confirmed against its docs."""
        result: list[dict[str, Any]] = self._get("/v1/positions/open", _list_of_dicts)
        return result

    def funding_history(self, pair: str, limit: int = 2) -> list[dict[str, Any]]:
        """A perpetual pair's funding history, newest first (public; VALR settles hourly):
        ``[{currencyPair, fundingRate, fundingTime}]``."""
        query = urlencode({"currencyPair": pair, "limit": str(limit)})
        result: list[dict[str, Any]] = self._get(f"{FUNDING_HISTORY_PATH}?{query}", _list_of_dicts, signed=False)
        return result

    def cancel_all(self) -> None:
        self._call("DELETE", "/v1/orders", signed=True, parse=False)
