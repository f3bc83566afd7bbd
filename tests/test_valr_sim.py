"""The VALR simulator on its own: raw httpx requests, signatures checked exactly, knobs, state, threads."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from ops_checks.access.valr.signing import signed_headers
from ops_checks.core.secret import Secret
from ops_checks.sandbox import valr_sim
from ops_checks.sandbox.valr_sim import ValrSimulator, expected_signature

KEY, SECRET = "sim-key-0123", "sim-secret-abcdef"
BASE = "https://api.valr.com"
VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "shared" / "vectors" / "valr-signing.json").read_text()
)


@pytest.fixture
def sim() -> ValrSimulator:
    return ValrSimulator(KEY, SECRET)


def call(
    sim: ValrSimulator,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    secret: str = SECRET,
    signed_path: str | None = None,
    timestamp_ms: int | None = None,
) -> httpx.Response:
    content = json.dumps(body) if body is not None else ""
    headers = signed_headers(Secret(KEY), Secret(secret), method, signed_path or path, content, timestamp_ms)
    with httpx.Client(transport=sim.transport(), timeout=2) as client:
        return client.request(method, BASE + path, headers=headers, content=content or None)


def test_independent_signature_matches_published_vectors() -> None:
    for case in VECTORS["cases"]:
        got = expected_signature(case["secret"], case["timestamp"], case["verb"], case["path"], case["body"], "")
        assert got == case["signature"]


def test_public_time_has_nine_digit_fraction(sim: ValrSimulator) -> None:
    with httpx.Client(transport=sim.transport()) as client:
        data = client.get(BASE + "/v1/public/time").json()
    assert len(data["time"]) == len("2024-01-01T00:00:00.123456789Z") and data["time"].endswith("Z")
    assert isinstance(data["epochTime"], int) and data["epochTime"] < 10**11  # seconds, as VALR documents


def test_signed_request_ok_and_query_is_signed(sim: ValrSimulator) -> None:
    assert call(sim, "GET", "/v1/account/balances").status_code == 200
    assert call(sim, "GET", "/v1/account/balances?x=1").status_code == 200
    wrong = call(sim, "GET", "/v1/account/balances?x=1", signed_path="/v1/account/balances")
    assert wrong.status_code == 401 and wrong.json()["code"] == -11252


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [({"secret": "other-secret"}, -11252), ({"signed_path": BASE + "/v1/account/balances"}, -11252)],
)
def test_bad_signature(sim: ValrSimulator, kwargs: dict[str, str], code: int) -> None:
    resp = call(sim, "GET", "/v1/account/balances", **kwargs)  # type: ignore[arg-type]
    assert resp.status_code == 401
    assert resp.json() == {"code": code, "message": "Request has an invalid signature"}


def test_missing_key_forbidden_and_unknown_key(sim: ValrSimulator) -> None:
    with httpx.Client(transport=sim.transport()) as client:
        assert client.get(BASE + "/v1/account/balances").status_code == 403
    sim.key_revoked = True
    resp = call(sim, "GET", "/v1/account/balances")
    assert resp.status_code == 401 and resp.json()["code"] == valr_sim.CODE_UNAUTHORIZED


def test_timestamp_window(sim: ValrSimulator) -> None:
    stale = sim.server_now_ns() // 1_000_000 - 5000
    resp = call(sim, "GET", "/v1/account/balances", timestamp_ms=stale)
    assert resp.status_code == 401 and "X-VALR-TIMESTAMP" in resp.json()["message"]
    sim.timestamp_window_ms = 10_000
    assert call(sim, "GET", "/v1/account/balances", timestamp_ms=stale).status_code == 200


def test_ip_and_permissions(sim: ValrSimulator) -> None:
    sim.client_ip = "10.0.0.9"
    assert call(sim, "GET", "/v1/account/balances").json()["code"] == -11272
    sim.allowed_ip_cidr = None
    sim.permissions = ["View access"]
    assert call(sim, "GET", "/v1/account/balances").status_code == 200
    resp = call(sim, "POST", "/v1/orders/market", {"pair": "BTCZAR", "side": "BUY", "quoteAmount": "10"})
    assert resp.status_code == 401 and "Trade" in resp.json()["message"]


def test_orders_state_and_balances(sim: ValrSimulator) -> None:
    market = {"customerOrderId": "m-1", "pair": "BTCZAR", "side": "BUY", "quoteAmount": "12000"}
    assert call(sim, "POST", "/v1/orders/market", market).status_code == 202
    assert sim.balances == {"ZAR": Decimal("88000.00"), "BTC": Decimal("0.06000000")}
    limit = {"customerOrderId": "l-1", "pair": "BTCZAR", "side": "SELL", "quantity": "0.01", "price": "2000000"}
    assert call(sim, "POST", "/v1/orders/limit", limit).status_code == 202
    dup = call(sim, "POST", "/v1/orders/limit", limit)
    assert dup.status_code == 400 and dup.json()["code"] == -11502
    btc = next(r for r in call(sim, "GET", "/v1/account/balances").json() if r["currency"] == "BTC")
    assert (btc["available"], btc["reserved"], btc["total"]) == ("0.05000000", "0.01", "0.06000000")
    assert [o["status"] for o in sim.orders] == ["FILLED", "OPEN"]
    assert call(sim, "DELETE", "/v1/orders").status_code == 200
    assert [o["status"] for o in sim.orders] == ["FILLED", "CANCELLED"]
    assert call(sim, "POST", "/v1/orders/limit", limit).status_code == 202  # unique among OPEN orders only
    status = call(sim, "GET", "/v1/orders/BTCZAR/customerorderid/l-1").json()
    assert status["orderStatusType"] == "Placed"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"pair": "BTCZAR", "side": "BUY", "quoteAmount": "1000000"}, -6),
        ({"pair": "BTCZAR", "side": "SELL", "baseAmount": "1"}, -6),
        ({"pair": "DOGEXYZ", "side": "BUY", "quoteAmount": "1"}, -21),
        ({"customerOrderId": "bad_id", "pair": "BTCZAR", "side": "BUY", "quoteAmount": "1"}, valr_sim.CODE_BAD_REQUEST),
        ({"customerOrderId": "a" * 51, "pair": "BTCZAR", "side": "BUY", "quoteAmount": "1"}, valr_sim.CODE_BAD_REQUEST),
        ({"pair": "BTCZAR", "side": "BUY", "quoteAmount": "1", "baseAmount": "1"}, valr_sim.CODE_BAD_REQUEST),
    ],
)
def test_order_rejections(sim: ValrSimulator, body: dict[str, str], code: int) -> None:
    resp = call(sim, "POST", "/v1/orders/market", body)
    assert resp.status_code == 400 and resp.json()["code"] == code
    assert sim.orders == []


def test_knobs_fail_429_omit_malformed_hang_readonly(sim: ValrSimulator) -> None:
    with httpx.Client(transport=sim.transport()) as client:
        sim.fail["/v1/public/time"] = 429
        resp = client.get(BASE + "/v1/public/time")
        assert resp.status_code == 429 and resp.headers["x-valr-ratelimited"] == "true"
        sim.fail.clear()
        sim.omit_fields["/v1/public/time"] = {"epochTime"}
        assert set(client.get(BASE + "/v1/public/time").json()) == {"time"}
        sim.malformed.add("/v1/public/status")
        with pytest.raises(ValueError):
            client.get(BASE + "/v1/public/status").json()
        sim.hang.add("/v1/public/time")
        with pytest.raises(httpx.ReadTimeout):
            client.get(BASE + "/v1/public/time")
        assert client.get(BASE + "/v2/nothing").status_code == 404
    sim.status = "read-only"
    assert (
        call(sim, "POST", "/v1/orders/market", {"pair": "BTCZAR", "side": "BUY", "quoteAmount": "1"}).status_code == 503
    )
    assert call(sim, "GET", "/v1/account/balances").status_code == 200
    sim.reset()
    assert (sim.status, sim.hang, sim.malformed, sim.omit_fields, sim.orders, sim.requests) == (
        "online",
        set(),
        set(),
        {},
        [],
        [],
    )
    assert sim.router.routes["time"].call_count == 0


def test_thread_safe_concurrent_orders(sim: ValrSimulator) -> None:
    errors: list[BaseException] = []

    def place(i: int) -> None:
        try:
            body = {"customerOrderId": f"t-{i}", "pair": "BTCZAR", "side": "BUY", "quoteAmount": "100"}
            assert call(sim, "POST", "/v1/orders/market", body).status_code == 202
        except BaseException as exc:  # noqa: BLE001 - collected and re-checked in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=place, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({o["id"] for o in sim.orders}) == 20
    assert sim.balances["ZAR"] == Decimal("98000.00")
    assert len(sim.requests) == 20 and sim.requests[0].method == "POST"


def test_repr_hides_secret(sim: ValrSimulator) -> None:
    assert SECRET not in repr(sim)
