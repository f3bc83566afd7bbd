"""ValrClient against the VALR simulator (no network): parsing, errors as one-line ValrError, no secret leaks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ops_checks.access.valr.client import ValrClient, ValrError, parse_iso_ns
from ops_checks.core.http import Recorder
from ops_checks.core.redaction import Redactor
from ops_checks.core.secret import Secret
from ops_checks.sandbox import valr_sim
from ops_checks.sandbox.valr_sim import ValrSimulator

KEY = "KEYVALUE-7d1c0ffee5e1f0b2a3"
SECRET = "TOPSECRET-9f8e7d6c5b4a39281706"


@pytest.fixture
def sim() -> ValrSimulator:
    return ValrSimulator(KEY, SECRET)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder(Redactor())  # the client itself must register its secrets


def make(sim: ValrSimulator, recorder: Recorder, **kwargs: Any) -> ValrClient:
    return ValrClient(
        api_key=Secret(KEY), api_secret=Secret(SECRET), transport=sim.transport(), recorder=recorder, **kwargs
    )


class _Stream(httpx.SyncByteStream):
    def __init__(self, data: bytes) -> None:
        self._data = data

    def __iter__(self) -> Iterator[bytes]:
        yield self._data


def fixed(body: Any, status: int = 200) -> httpx.MockTransport:
    """A transport with one canned JSON answer (streamed, like the simulator's, so httpx sets ``elapsed``)."""
    data = json.dumps(body).encode()
    return httpx.MockTransport(lambda req: httpx.Response(status, stream=_Stream(data)))


def one_line_error(fn: Callable[[], object]) -> ValrError:
    with pytest.raises(ValrError) as info:
        fn()
    err = info.value
    assert "\n" not in str(err) and str(err)
    assert SECRET not in str(err) and KEY not in str(err)
    return err


# -- time ---------------------------------------------------------------------------------------------------------
def test_time_nine_digit_fraction_is_exact(recorder: Recorder) -> None:
    body = {"epochTime": 1700000000, "time": "2023-11-14T22:13:20.123456789Z"}
    st = ValrClient(transport=fixed(body), recorder=recorder).public_time()
    assert st.server_ns == 1_700_000_000_123_456_789 and st.source == "time"
    assert st.server_dt.tzinfo is not None and st.server_dt.microsecond == 123456
    assert st.epoch_time == 1700000000 and st.time_iso == body["time"]
    assert parse_iso_ns("2023-11-15T00:13:20.5+02:00") == 1_700_000_000_500_000_000


@pytest.mark.parametrize(
    ("epoch", "source", "ns"),
    [(1700000000, "epochTime(s)", 1_700_000_000 * 10**9), (1700000000123, "epochTime(ms)", 1_700_000_000_123 * 10**6)],
)
def test_time_falls_back_to_epoch_time(recorder: Recorder, epoch: int, source: str, ns: int) -> None:
    st = ValrClient(transport=fixed({"epochTime": epoch}), recorder=recorder).public_time()
    assert (st.source, st.server_ns) == (source, ns)


def test_time_from_simulator_and_epoch_fallback(sim: ValrSimulator, recorder: Recorder) -> None:
    client = make(sim, recorder)
    st = client.public_time()
    assert st.server_ns == parse_iso_ns(st.time_iso or "") and st.sent_ns <= st.received_ns
    sim.omit_fields["/v1/public/time"] = {"time"}
    assert client.public_time().source == "epochTime(s)"
    sim.omit_fields["/v1/public/time"] = {"time", "epochTime"}
    assert "unexpected response shape" in str(one_line_error(client.public_time))


def test_clock_offset_visible(sim: ValrSimulator, recorder: Recorder) -> None:
    sim.clock_offset_ms = 5000
    st = make(sim, recorder).public_time()
    offset_ms = (st.server_ns - (st.sent_ns + st.received_ns) / 2) / 1e6
    assert 4900 < offset_ms < 5100


def test_latency_makes_real_round_trip(sim: ValrSimulator, recorder: Recorder) -> None:
    sim.latency_up_ms, sim.latency_down_ms = 60, 20
    started = time.perf_counter()
    st = make(sim, recorder).public_time()
    assert (time.perf_counter() - started) * 1000 >= 80
    assert (st.received_ns - st.sent_ns) / 1e6 >= 80
    assert (st.server_ns - st.sent_ns) / 1e6 >= 60  # asymmetric: the server clock was read after the up leg


# -- account ------------------------------------------------------------------------------------------------------
def test_balances_are_decimal(sim: ValrSimulator, recorder: Recorder) -> None:
    balances = {b.currency: b for b in make(sim, recorder).balances()}
    assert balances["ZAR"].available == Decimal("100000.00") and isinstance(balances["BTC"].total, Decimal)
    assert balances["BTC"].total == Decimal("0.05") and balances["ZAR"].updated_at is not None
    assert balances["ZAR"].updated_at.tzinfo is not None


def test_api_key_info_and_status(sim: ValrSimulator, recorder: Recorder) -> None:
    client = make(sim, recorder)
    info = client.api_key_info()
    assert info.permissions == ["View access", "Trade"] and info.allowed_ip_cidr == "127.0.0.1/32"
    assert not info.is_sub_account
    sim.allowed_ip_cidr = None
    assert client.api_key_info().allowed_ip_cidr is None
    assert client.status() == "online"


def test_bad_signature(sim: ValrSimulator, recorder: Recorder) -> None:
    client = ValrClient(
        api_key=Secret(KEY), api_secret=Secret("WRONG-" + SECRET[::-1]), transport=sim.transport(), recorder=recorder
    )
    err = one_line_error(client.balances)
    assert str(err) == "VALR rejected GET /v1/account/balances: HTTP 401 code -11252 Request has an invalid signature"
    assert (err.http_status, err.code, err.vmessage) == (401, -11252, "Request has an invalid signature")


def test_timestamp_outside_window(sim: ValrSimulator, recorder: Recorder) -> None:
    client = make(sim, recorder, now_ms=lambda: time.time_ns() // 1_000_000 - 3000)
    err = one_line_error(client.balances)
    assert err.code == valr_sim.CODE_TIMESTAMP and "X-VALR-TIMESTAMP" in str(err)
    sim.clock_offset_ms = -3000  # a server clock behind ours is rejected the same way
    assert one_line_error(make(sim, recorder).balances).code == valr_sim.CODE_TIMESTAMP
    sim.timestamp_window_ms = 5000
    assert make(sim, recorder).balances()


def test_revoked_key(sim: ValrSimulator, recorder: Recorder) -> None:
    sim.key_revoked = True
    err = one_line_error(make(sim, recorder).api_key_info)
    assert err.http_status == 401 and err.code == valr_sim.CODE_UNAUTHORIZED


def test_unsigned_client_refuses_signed_call(recorder: Recorder) -> None:
    assert "not configured" in str(one_line_error(ValrClient(transport=fixed([]), recorder=recorder).balances))


# -- failures -----------------------------------------------------------------------------------------------------
def test_5xx(sim: ValrSimulator, recorder: Recorder) -> None:
    sim.fail["/v1/public/time"] = 503
    err = one_line_error(make(sim, recorder).public_time)
    assert err.http_status == 503 and str(err).startswith("VALR rejected GET /v1/public/time: HTTP 503")


def test_rate_limited(sim: ValrSimulator, recorder: Recorder) -> None:
    sim.fail["/v1/account/balances"] = 429
    err = one_line_error(make(sim, recorder).balances)
    assert "rate limited" in str(err) and err.http_status == 429


def test_malformed_json(sim: ValrSimulator, recorder: Recorder) -> None:
    sim.malformed.add("/v1/account/balances")
    assert "malformed JSON" in str(one_line_error(make(sim, recorder).balances))


def test_wrong_shape(sim: ValrSimulator, recorder: Recorder) -> None:
    sim.omit_fields["/v1/account/balances"] = {"total"}
    assert "unexpected response shape" in str(one_line_error(make(sim, recorder).balances))
    bad = ValrClient(
        transport=fixed({"available": "1"}), api_key=Secret(KEY), api_secret=Secret(SECRET), recorder=recorder
    )
    assert "unexpected response shape" in str(one_line_error(bad.balances))


def test_timeout(sim: ValrSimulator, recorder: Recorder) -> None:
    sim.hang.add("/v1/public/time")
    err = one_line_error(make(sim, recorder, timeout=0.5).public_time)
    assert "timed out" in str(err) and err.http_status is None


def test_read_only_refuses_post(sim: ValrSimulator, recorder: Recorder) -> None:
    sim.status = "read-only"
    client = make(sim, recorder)
    assert client.status() == "read-only" and client.balances()
    err = one_line_error(lambda: client.place_market_order("BTCZAR", "BUY", quote_amount=Decimal(10)))
    assert err.http_status == 503


# -- orders -------------------------------------------------------------------------------------------------------
def test_orders_placed_queried_cancelled(sim: ValrSimulator, recorder: Recorder) -> None:
    client = make(sim, recorder)
    mid = client.place_market_order("BTCZAR", "buy", quote_amount=Decimal("1200.00"), customer_order_id="ops-m-1")
    assert client.order_status("BTCZAR", "ops-m-1")["orderId"] == mid
    assert client.order_status("BTCZAR", "ops-m-1")["orderStatusType"] == "Filled"
    lid = client.place_limit_order("BTCZAR", "BUY", Decimal("0.001"), Decimal(500000), "ops-l-1", post_only=True)
    assert [o["orderId"] for o in client.open_orders()] == [lid]
    dup = one_line_error(lambda: client.place_limit_order("BTCZAR", "BUY", Decimal("0.001"), Decimal(1), "ops-l-1"))
    assert dup.code == -11502
    poor = one_line_error(lambda: client.place_market_order("BTCZAR", "SELL", base_amount=Decimal(5)))
    assert poor.code == -6
    client.cancel_all()
    assert client.open_orders() == []
    assert client.order_status("BTCZAR", "ops-l-1")["orderStatusType"] == "Cancelled"
    assert [o["status"] for o in sim.orders] == ["FILLED", "CANCELLED"]
    assert one_line_error(lambda: client.order_status("BTCZAR", "nope")).http_status == 404
    with pytest.raises(ValueError):
        client.place_market_order("BTCZAR", "BUY")


# -- secrets ------------------------------------------------------------------------------------------------------
def test_secret_never_leaks(sim: ValrSimulator, recorder: Recorder) -> None:
    client = make(sim, recorder)
    client.balances()
    client.place_market_order("BTCZAR", "BUY", quote_amount=Decimal(100), customer_order_id="leak-1")
    errors: list[ValrError] = []
    for knob in ("fail", "malformed", "hang", "bad"):
        sim.reset()
        if knob == "fail":
            sim.fail["/v1/account/balances"] = 500
        elif knob == "malformed":
            sim.malformed.add("/v1/account/balances")
        elif knob == "hang":
            sim.hang.add("/v1/account/balances")
        target = (
            client
            if knob != "bad"
            else ValrClient(
                api_key=Secret(KEY), api_secret=Secret(SECRET + "x"), transport=sim.transport(), recorder=recorder
            )
        )
        with pytest.raises(ValrError) as info:
            target.balances()
        errors.append(info.value)
    rendered = recorder.render()
    assert "X-VALR-SIGNATURE" in rendered.upper() and rendered.count("> GET") >= 5
    for text in [rendered, repr(client), *(str(e) for e in errors), *(repr(e) for e in errors)]:
        assert SECRET not in text and KEY not in text


def test_an_implausible_server_time_is_refused() -> None:
    """Found by tests/test_fail_closed.py: ``{"epochTime": 0}`` read as 1970 passed 8.6.1; a clock that far off is
    broken, not a time to judge drift by."""
    from ops_checks.access.valr.client import _server_time

    for body in ({"epochTime": 0}, {"time": "1970-01-01T00:00:01.000000000Z"}, {"epochTime": 4_200_000_000}):
        with pytest.raises(ValueError, match="implausible server time"):
            _server_time(body, 0, 1)
    assert _server_time({"epochTime": 1_764_000_000}, 0, 1).source == "epochTime(s)"
