"""A stateful VALR simulator, exposed as a respx router and injected into clients as an httpx transport.

Nothing is patched globally: give ``sim.transport()`` to a client (``ValrClient(transport=...)``), so real HTTP
(e.g. to the reference bot on loopback) keeps working. Thread-safe: state changes happen under one lock, while
latency sleeps happen outside it so concurrent callers overlap as they would against a real server.

Knobs (public attributes, restored by ``reset()``):
- ``clock_offset_ms``: server clock = local wall clock + this offset.
- ``latency_up_ms`` / ``latency_down_ms``: sleep before / after the server clock is read (asymmetric latency).
- ``timestamp_window_ms``: largest allowed |X-VALR-TIMESTAMP - server clock| for signed calls.
- ``status``: "online" or "read-only" (read-only: anything but GET/OPTIONS answers 503).
- ``permissions``, ``label``, ``is_sub_account``, ``allowed_ip_cidr``: what the current API key reports; the
  permissions are enforced ("View access" for account reads, "Trade" for orders).
- ``client_ip``: the caller's address as the simulator sees it, checked against ``allowed_ip_cidr``.
- ``key_revoked``: the configured key is rejected as unknown.
- ``echo_key``: a careless debug mode: every answer to a request that carried an API key echoes that key's first
  12 characters and the whole key reversed (an ``X-Debug-Caller`` header, and the message of every error).
- ``balances``: total holdings per currency (open limit orders reserve part of them).
- ``prices``: fill price per supported pair (market orders fill at it).
- ``fail``: request path (or endpoint template) -> HTTP status to answer (429 answers VALR's rate-limit shape).
- ``malformed``: paths whose successful answers carry a non-JSON body.
- ``omit_fields``: path -> JSON fields left out of the answer (also in each object of an array answer).
- ``hang``: paths that time out (``httpx.ReadTimeout`` raised at once: the client's timeout is not knowable).
- ``funding_rates``: perpetual pair -> funding rate per settlement; ``funding_interval_h`` hours between
  settlements (VALR settles hourly). ``positions``: the open futures positions ``GET /v1/positions/open`` lists
  (assumed shape: pair, side, quantity, averageEntryPrice, markPrice — VALR's docs were not at hand).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

import httpx
import respx

DEFAULT_BASE_URL = "https://api.valr.com"

# Error codes VALR documents or is known to answer with:
CODE_UNAUTHORIZED = -93
CODE_UNSUPPORTED_PAIR = -21
CODE_INSUFFICIENT_BALANCE = -6
CODE_INVALID_SIGNATURE = -11252
CODE_IP_NOT_ALLOWED = -11272
CODE_DUPLICATE_CUSTOMER_ORDER_ID = -11502
# The simulator's own codes, for cases whose VALR code is not published:
CODE_TIMESTAMP = -99001
CODE_BAD_REQUEST = -99002
CODE_NOT_FOUND = -99003
CODE_READ_ONLY = -99004
CODE_SIMULATED_FAILURE = -99005

_QUOTES = ("USDC", "USDT", "ZAR", "BTC", "ETH")
_CID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_VIEW, _TRADE = "View access", "Trade"

Answer = tuple[int, Any]


@dataclass(frozen=True)
class SimRequest:
    method: str
    path: str
    at: datetime  # local wall clock (UTC) when the request arrived


def expected_signature(secret: str, timestamp: str, verb: str, path: str, body: str, subaccount_id: str) -> str:
    """VALR's signature, computed independently of ops_checks.access.valr.signing so the simulator really checks it."""
    message = (timestamp + verb.upper() + path + body + subaccount_id).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha512).hexdigest()


def _err(status: int, code: int, message: str) -> Answer:
    return status, {"code": code, "message": message}


def _iso_ns(ns: int) -> str:
    seconds, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{frac:09d}Z"


def _iso_ms(ns: int) -> str:
    return _iso_ns(ns)[:23] + "Z"


def _s(value: Decimal) -> str:
    return format(value, "f")


class ValrSimulator:
    """VALR's REST API (the endpoints ops_checks uses) with fault knobs; see the module docstring."""

    def __init__(self, api_key: str, api_secret: str, *, base_url: str = DEFAULT_BASE_URL) -> None:
        self.api_key = api_key
        self._api_secret = api_secret
        self.base_url = base_url.rstrip("/")
        self._lock = threading.RLock()
        self.requests: list[SimRequest] = []
        self.orders: list[dict[str, Any]] = []
        self.reset()
        self.router = respx.MockRouter(base_url=self.base_url, assert_all_called=False)
        self._routes()

    def __repr__(self) -> str:
        return f"ValrSimulator({self.base_url!r}, orders={len(self.orders)})"

    def reset(self) -> None:
        """Restore every knob to its default and forget orders and recorded requests."""
        with self._lock:
            self.clock_offset_ms: float = 0
            self.latency_up_ms: float = 0
            self.latency_down_ms: float = 0
            # VALR does not publish how far X-VALR-TIMESTAMP may be from its clock: 1000 ms is our assumption.
            self.timestamp_window_ms: float = 1000
            self.status: str = "online"
            self.permissions: list[str] = [_VIEW, _TRADE]
            self.label: str = "ops-checks sandbox key"
            self.is_sub_account: bool = False
            self.allowed_ip_cidr: str | None = "127.0.0.1/32"
            self.client_ip: str = "127.0.0.1"
            self.key_revoked: bool = False
            self.echo_key: bool = False
            self.balances: dict[str, Decimal] = {"ZAR": Decimal("100000.00"), "BTC": Decimal("0.05")}
            self.prices: dict[str, Decimal] = {
                "BTCZAR": Decimal(1200000),
                "ETHZAR": Decimal(60000),
                "USDTZAR": Decimal("18.50"),
                "BTCUSDC": Decimal(65000),
            }
            self.fail: dict[str, int] = {}
            self.malformed: set[str] = set()
            self.omit_fields: dict[str, set[str]] = {}
            self.hang: set[str] = set()
            self.funding_rates: dict[str, Decimal] = {"BTCUSDTPERP": Decimal("0.0000125")}  # 0.01 % per 8 h
            self.funding_interval_h: int = 1
            self.positions: list[dict[str, str]] = []
            self.requests.clear()
            self.orders.clear()
            if hasattr(self, "router"):
                self.router.reset()

    def server_now_ns(self) -> int:
        """The simulated server clock: local wall clock plus ``clock_offset_ms``."""
        return time.time_ns() + round(self.clock_offset_ms * 1_000_000)

    def transport(self) -> httpx.MockTransport:
        """An httpx transport answering from this simulator (inject it; nothing is patched globally)."""
        return httpx.MockTransport(self.router.handler)

    # -- routing --------------------------------------------------------------------------------------------
    def _routes(self) -> None:
        table: list[tuple[str, str, str, Callable[..., Answer], str | None]] = [
            ("GET", "/v1/public/time", "time", self._time, None),
            ("GET", "/v1/public/status", "status", self._status, None),
            ("GET", "/v1/account/balances", "balances", self._balances, _VIEW),
            ("GET", "/v1/account/api-keys/current", "api_key", self._api_key, ""),
            ("POST", "/v1/orders/market", "market_order", self._market, _TRADE),
            ("POST", "/v1/orders/limit", "limit_order", self._limit, _TRADE),
            ("GET", "/v1/orders/open", "open_orders", self._open_orders, _VIEW),
            ("GET", "/v1/orders/{pair}/customerorderid/{cid}", "order_status", self._order_status, _VIEW),
            ("DELETE", "/v1/orders", "cancel_all", self._cancel_all, _TRADE),
            ("GET", "/v1/public/futures/funding/history", "funding_history", self._funding_history, None),
            ("GET", "/v1/positions/open", "open_positions", self._open_positions, _VIEW),
        ]
        for method, template, name, handler, permission in table:
            if "{" in template:
                regex = r"^/v1/orders/(?P<pair>[A-Za-z0-9]+)/customerorderid/(?P<cid>[^/]+)$"
                route = self.router.route(method=method, path__regex=regex, name=name)
            else:
                route = self.router.route(method=method, path=template, name=name)
            route.mock(side_effect=self._effect(template, handler, permission))
        self.router.route(name="not_found").mock(
            side_effect=self._effect("*", lambda req, now, **kw: _err(404, CODE_NOT_FOUND, "Not found"), None)
        )

    def _effect(
        self, template: str, handler: Callable[..., Answer], permission: str | None
    ) -> Callable[..., httpx.Response]:
        def effect(request: httpx.Request, **params: str) -> httpx.Response:
            return self._serve(request, template, handler, permission, params)

        return effect

    def _serve(
        self,
        request: httpx.Request,
        template: str,
        handler: Callable[..., Answer],
        permission: str | None,
        params: dict[str, str],
    ) -> httpx.Response:
        path = request.url.path
        keys = (path, template)
        with self._lock:
            self.requests.append(SimRequest(request.method, path, datetime.now(UTC)))
            hang = any(k in self.hang for k in keys)
        if hang:
            raise httpx.ReadTimeout(f"simulated hang on {path}", request=request)
        _sleep(self.latency_up_ms)
        with self._lock:
            now = self.server_now_ns()
            response = self._answer(request, keys, handler, permission, params, now)
        _sleep(self.latency_down_ms)
        return response

    def _answer(
        self,
        request: httpx.Request,
        keys: tuple[str, str],
        handler: Callable[..., Answer],
        permission: str | None,
        params: dict[str, str],
        now: int,
    ) -> httpx.Response:
        failure = next((self.fail[k] for k in keys if k in self.fail), None)
        if failure == 429:
            html = b"<html><body><h1>429 Too Many Requests</h1></body></html>"
            return _response(429, html, "text/html", {"x-valr-ratelimited": "true"})
        if failure is not None:
            status, payload = _err(failure, CODE_SIMULATED_FAILURE, f"Simulated HTTP {failure}")
        elif self.status == "read-only" and request.method not in ("GET", "OPTIONS"):
            status, payload = _err(503, CODE_READ_ONLY, "VALR is read-only: only GET and OPTIONS are accepted")
        else:
            denied = self._authenticate(request, permission, now) if permission is not None else None
            status, payload = denied or handler(request, now, **params)
        if status < 400 and any(k in self.malformed for k in keys):
            return _response(status, b'{"oops": <html>')
        omit = set().union(*(self.omit_fields.get(k, set()) for k in keys))
        if omit:
            payload = _without(payload, omit)
        key = request.headers.get("X-VALR-API-KEY", "")
        echo = f"caller {key[:12]}... ({key[::-1]})" if self.echo_key and key else ""
        if echo and status >= 400 and isinstance(payload, dict) and "message" in payload:
            payload = {**payload, "message": f"{payload['message']} [{echo}]"}
        body = b"" if payload is None else json.dumps(payload).encode("utf-8")
        return _response(status, body, headers={"X-Debug-Caller": echo} if echo else None)

    def _authenticate(self, request: httpx.Request, permission: str, now: int) -> Answer | None:
        key = request.headers.get("X-VALR-API-KEY", "")
        if not key:
            return _err(403, CODE_UNAUTHORIZED, "Forbidden: no X-VALR-API-KEY header")
        if self.key_revoked or not hmac.compare_digest(key.encode(), self.api_key.encode()):
            return _err(401, CODE_UNAUTHORIZED, "Unauthorized: API key not found or revoked")
        timestamp = request.headers.get("X-VALR-TIMESTAMP", "")
        if not timestamp.isdigit():
            return _err(401, CODE_TIMESTAMP, "Missing or non-numeric X-VALR-TIMESTAMP (Unix milliseconds)")
        signature = request.headers.get("X-VALR-SIGNATURE", "")
        expected = expected_signature(
            self._api_secret,
            timestamp,
            request.method,
            request.url.raw_path.decode("ascii"),
            request.content.decode("utf-8", "replace"),
            request.headers.get("X-VALR-SUB-ACCOUNT-ID", ""),
        )
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return _err(401, CODE_INVALID_SIGNATURE, "Request has an invalid signature")
        server_ms = now / 1_000_000
        skew = int(timestamp) - server_ms
        if abs(skew) > self.timestamp_window_ms:
            return _err(
                401,
                CODE_TIMESTAMP,
                f"Request timestamp X-VALR-TIMESTAMP {timestamp} is {skew:+.0f} ms from server time "
                f"{server_ms:.0f}: outside the {self.timestamp_window_ms:g} ms window",
            )
        if self.allowed_ip_cidr and not _ip_in(self.client_ip, self.allowed_ip_cidr):
            return _err(401, CODE_IP_NOT_ALLOWED, f"IP address {self.client_ip} is not whitelisted for this key")
        if permission and permission not in self.permissions:
            return _err(401, CODE_UNAUTHORIZED, f"Unauthorized: API key lacks the '{permission}' permission")
        return None

    # -- endpoints ------------------------------------------------------------------------------------------
    def _time(self, request: httpx.Request, now: int) -> Answer:
        return 200, {"epochTime": now // 1_000_000_000, "time": _iso_ns(now)}

    def _status(self, request: httpx.Request, now: int) -> Answer:
        return 200, {"status": self.status}

    def _balances(self, request: httpx.Request, now: int) -> Answer:
        rows = []
        for currency in sorted(self.balances):
            total, reserved = self.balances[currency], self._reserved(currency)
            rows.append(
                {
                    "currency": currency,
                    "available": _s(total - reserved),
                    "reserved": _s(reserved),
                    "total": _s(total),
                    "updatedAt": _iso_ms(now),
                }
            )
        return 200, rows

    def _api_key(self, request: httpx.Request, now: int) -> Answer:
        info: dict[str, Any] = {
            "label": self.label,
            "permissions": list(self.permissions),
            "addedAt": "2024-01-01T00:00:00.000Z",
            "isSubAccount": self.is_sub_account,
        }
        if self.allowed_ip_cidr:
            info["allowedIpAddressCidr"] = self.allowed_ip_cidr
        return 200, info

    def _market(self, request: httpx.Request, now: int) -> Answer:
        body, problem = self._order_body(request)
        if problem:
            return problem
        pair, side, price = body["pair"], body["side"], self.prices[body["pair"]]
        amounts = {k: body.get(k) for k in ("baseAmount", "quoteAmount") if body.get(k) is not None}
        if len(amounts) != 1:
            return _err(400, CODE_BAD_REQUEST, "Give exactly one of baseAmount and quoteAmount")
        field, raw = next(iter(amounts.items()))
        amount = _positive(raw)
        if amount is None:
            return _err(400, CODE_BAD_REQUEST, f"{field} must be a positive decimal string")
        if field == "baseAmount":
            base_qty, quote_qty = amount, amount * price
        else:
            base_qty, quote_qty = (amount / price).quantize(Decimal("0.00000001"), ROUND_DOWN), amount
        base, quote = _split(pair)
        if side == "BUY":
            spend, spend_qty, get, get_qty = quote, quote_qty, base, base_qty
        else:
            spend, spend_qty, get, get_qty = base, base_qty, quote, quote_qty
        if self._available(spend) < spend_qty:
            return _err(400, CODE_INSUFFICIENT_BALANCE, "Insufficient Balance")
        self.balances[spend] = self.balances.get(spend, Decimal(0)) - spend_qty
        self.balances[get] = self.balances.get(get, Decimal(0)) + get_qty
        return self._accept(body, "market", "FILLED", base_qty, price, now)

    def _limit(self, request: httpx.Request, now: int) -> Answer:
        body, problem = self._order_body(request)
        if problem:
            return problem
        quantity, price = _positive(body.get("quantity")), _positive(body.get("price"))
        if quantity is None or price is None:
            return _err(400, CODE_BAD_REQUEST, "quantity and price must be positive decimal strings")
        base, quote = _split(body["pair"])
        spend, spend_qty = (quote, quantity * price) if body["side"] == "BUY" else (base, quantity)
        if self._available(spend) < spend_qty:
            return _err(400, CODE_INSUFFICIENT_BALANCE, "Insufficient Balance")
        return self._accept(body, "limit", "OPEN", quantity, price, now)

    def _order_body(self, request: httpx.Request) -> tuple[dict[str, Any], Answer | None]:
        try:
            body = json.loads(request.content or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return {}, _err(400, CODE_BAD_REQUEST, "Request body must be a JSON object")
        if body.get("pair") not in self.prices:
            return body, _err(400, CODE_UNSUPPORTED_PAIR, "Unsupported Currency Pair")
        if body.get("side") not in ("BUY", "SELL"):
            return body, _err(400, CODE_BAD_REQUEST, "side must be BUY or SELL")
        cid = body.get("customerOrderId")
        if cid is not None:
            if not isinstance(cid, str) or not cid or len(cid) > 50 or not set(cid) <= _CID_CHARS:
                return body, _err(400, CODE_BAD_REQUEST, "customerOrderId: alphanumeric and dashes, at most 50")
            if any(o["customerOrderId"] == cid and o["status"] == "OPEN" for o in self.orders):
                return body, _err(400, CODE_DUPLICATE_CUSTOMER_ORDER_ID, "Duplicate customerOrderId among open orders")
        return body, None

    def _accept(
        self, body: dict[str, Any], kind: str, status: str, quantity: Decimal, price: Decimal, now: int
    ) -> Answer:
        order = {
            "id": str(uuid.uuid4()),
            "customerOrderId": body.get("customerOrderId"),
            "pair": body["pair"],
            "side": body["side"],
            "type": kind,
            "status": status,
            "quantity": quantity,
            "price": price,
            "createdAt": _iso_ms(now),
            "updatedAt": _iso_ms(now),
        }
        self.orders.append(order)
        return 202, {"id": order["id"]}

    def _order_status(self, request: httpx.Request, now: int, pair: str, cid: str) -> Answer:
        found = [o for o in self.orders if o["pair"] == pair and o["customerOrderId"] == cid]
        if not found:
            return _err(404, CODE_NOT_FOUND, "Order not found")
        o = found[-1]
        remaining = o["quantity"] if o["status"] == "OPEN" else Decimal(0)
        return 200, {
            "orderId": o["id"],
            "orderStatusType": {"OPEN": "Placed", "FILLED": "Filled", "CANCELLED": "Cancelled"}[o["status"]],
            "currencyPair": o["pair"],
            "originalPrice": _s(o["price"]),
            "remainingQuantity": _s(remaining),
            "originalQuantity": _s(o["quantity"]),
            "orderSide": o["side"].lower(),
            "orderType": o["type"],
            "failedReason": "",
            "customerOrderId": o["customerOrderId"],
            "orderUpdatedAt": o["updatedAt"],
            "orderCreatedAt": o["createdAt"],
        }

    def _open_orders(self, request: httpx.Request, now: int) -> Answer:
        return 200, [
            {
                "orderId": o["id"],
                "side": o["side"].lower(),
                "remainingQuantity": _s(o["quantity"]),
                "price": _s(o["price"]),
                "currencyPair": o["pair"],
                "createdAt": o["createdAt"],
                "originalQuantity": _s(o["quantity"]),
                "filledPercentage": "0.00",
                "customerOrderId": o["customerOrderId"],
                "type": o["type"],
            }
            for o in self.orders
            if o["status"] == "OPEN"
        ]

    def _cancel_all(self, request: httpx.Request, now: int) -> Answer:
        cancelled = []
        for o in self.orders:
            if o["status"] == "OPEN":
                o["status"], o["updatedAt"] = "CANCELLED", _iso_ms(now)
                cancelled.append({"orderId": o["id"], "customerOrderId": o["customerOrderId"]})
        return 200, cancelled

    def _funding_history(self, request: httpx.Request, now: int) -> Answer:
        """Newest first: ``[{"currencyPair", "fundingRate", "fundingTime"}]`` at whole settlement hours."""
        pair = request.url.params.get("currencyPair", "")
        if pair not in self.funding_rates:
            return _err(400, CODE_UNSUPPORTED_PAIR, "Unsupported Currency Pair")
        limit = request.url.params.get("limit", "10")
        count = min(100, int(limit)) if limit.isdigit() and int(limit) > 0 else 10
        step = 3600 * max(1, int(self.funding_interval_h))
        last = now // 1_000_000_000 // step * step
        rate = _s(self.funding_rates[pair])
        return 200, [
            {"currencyPair": pair, "fundingRate": rate, "fundingTime": _iso_ms((last - i * step) * 1_000_000_000)}
            for i in range(count)
        ]

    def _open_positions(self, request: httpx.Request, now: int) -> Answer:
        return 200, [dict(p) for p in self.positions]

    # -- balances -------------------------------------------------------------------------------------------
    def _reserved(self, currency: str) -> Decimal:
        total = Decimal(0)
        for o in self.orders:
            if o["status"] != "OPEN":
                continue
            base, quote = _split(o["pair"])
            if o["side"] == "BUY" and quote == currency:
                total += o["quantity"] * o["price"]
            elif o["side"] == "SELL" and base == currency:
                total += o["quantity"]
        return total

    def _available(self, currency: str) -> Decimal:
        return self.balances.get(currency, Decimal(0)) - self._reserved(currency)


class _Body(httpx.SyncByteStream):
    """A body httpx reads like one from the network. A plain ``Response(json=...)`` arrives already read, and
    then httpx never sets ``response.elapsed`` (which evidence recording reads)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def __iter__(self) -> Iterator[bytes]:
        yield self._data


def _response(
    status: int, body: bytes, content_type: str = "application/json", headers: dict[str, str] | None = None
) -> httpx.Response:
    all_headers = {"content-type": content_type, "content-length": str(len(body)), **(headers or {})}
    return httpx.Response(status, headers=all_headers, stream=_Body(body))


def _sleep(ms: float) -> None:
    if ms > 0:
        time.sleep(ms / 1000)


def _split(pair: str) -> tuple[str, str]:
    for quote in _QUOTES:
        if pair.endswith(quote) and len(pair) > len(quote):
            return pair[: -len(quote)], quote
    raise ValueError(f"cannot split pair {pair!r}")


def _positive(value: Any) -> Decimal | None:
    if not isinstance(value, str):
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount > 0 else None


def _ip_in(ip: str, cidr: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


def _without(payload: Any, fields: set[str]) -> Any:
    if isinstance(payload, dict):
        return {k: v for k, v in payload.items() if k not in fields}
    if isinstance(payload, list):
        return [_without(item, fields) for item in payload]
    return payload
