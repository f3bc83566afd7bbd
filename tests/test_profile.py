"""The bot profile: the real bot's defaults, env overrides read once, and every check reaching the bot through it."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from decimal import Decimal

import httpx
import pytest

from ops_checks.access import botapi
from ops_checks.access.config import live_target
from ops_checks.access.profile import REAL_BOT, BotProfile, profile_from_env
from ops_checks.access.webhook_signal import TEST_SIGNAL_PREFIX, send_signal, sign, signal_body
from ops_checks.core.result import CheckResult

SOVEREIGN = "sovereign-profile-test-0123456789abcdef"


def test_defaults_are_the_real_bots() -> None:
    p = BotProfile()
    assert p.health_path == "/health" and p.metrics_path == "/metrics" and p.root_path == "/"
    assert (p.guardian_status_path, p.guardian_unlock_path, p.guardian_reset_path) == (
        "/guardian/status",
        "/guardian/unlock",
        "/guardian/reset",
    )
    assert p.guardian_auth("tok") == {"Authorization": "Bearer tok"} and p.guardian_token_var == "GUARDIAN_ADMIN_TOKEN"
    assert p.signal_path == "/webhook/tradingview" and p.signal_signature_header == "X-TradingView-Signature"
    assert p.signal_secret_var == "SOVEREIGN_SECRET" and p.signal_secret_min_length == 32
    assert p.signal_fields == ("signal_id", "symbol", "side", "price", "quantity")
    assert "trade_signals_received_total" in p.metric_names and "equity_zar_gauge" in p.metric_names
    assert p.runbook_kill_switch_path == "/api/guardian/kill-switch"
    assert p.runbook_kill_switch_header == "X-Sovereign-Secret"
    assert p.db_role == "app_trading" and p.compose_db_user == "sovereign"
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.health_path = "/x"  # type: ignore[misc]


def test_env_overrides_and_target_wiring() -> None:
    env = {
        "BOT_HEALTH_PATH": "/healthz",
        "BOT_SIGNAL_PATH": "/hook",
        "BOT_GUARDIAN_PATH": "/ks",
        "BOT_EXPECTED_METRICS": "a_total, b",
        "BOT_METRICS_PATH": " ",
    }
    p = profile_from_env(env)
    assert p.health_path == "/healthz" and p.signal_path == "/hook" and p.runbook_kill_switch_path == "/ks"
    assert p.metric_names == ("a_total", "b") and p.metrics_path == "/metrics"  # blank values are ignored
    assert profile_from_env({}) is REAL_BOT
    t = live_target({**env, "BOT_API_URL": "http://bot:8000/"}, allow_mutations=False)
    assert t.profile == p and t.bot_health_path == "/healthz" and t.bot_signal_path == "/hook"
    assert t.bot_guardian_path == "/ks" and t.bot_url(p.health_path) == "http://bot:8000/healthz"


def test_signal_body_and_signature_are_the_real_bots() -> None:
    raw = signal_body(REAL_BOT, signal_id="S-1", price=Decimal("1.50"), quantity="0.0001")
    assert json.loads(raw) == {
        "signal_id": "S-1",
        "symbol": "BTCZAR",
        "side": "BUY",
        "price": "1.50",
        "quantity": "0.0001",
    }
    assert sign(SOVEREIGN, raw) == hmac.new(SOVEREIGN.encode(), raw, hashlib.sha256).hexdigest()


def test_send_signal_signs_with_sovereign_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "status": "accepted",
                "correlation_id": "0b8e4c1e-9d1a-4c55-9a8e-2f0c7c1d2e3f",
                "trade_decision": {"status": "APPROVED", "action": "PROCEED"},
            },
        )

    real_client = httpx.Client
    monkeypatch.setattr(httpx, "Client", lambda **kw: real_client(**{**kw, "transport": httpx.MockTransport(handler)}))
    t = live_target({"BOT_API_URL": "http://bot.test", "SOVEREIGN_SECRET": SOVEREIGN}, allow_mutations=True)
    reply = send_signal(t)
    assert reply.accepted and reply.trade_decision == "APPROVED" and reply.signal_id.startswith(TEST_SIGNAL_PREFIX)
    (req,) = seen
    assert req.url.path == "/webhook/tradingview"
    assert req.headers["X-TradingView-Signature"] == sign(SOVEREIGN, req.content)
    assert SOVEREIGN not in repr(reply) and all(SOVEREIGN not in e.content for e in reply.evidence)


def test_send_signal_without_secret_never_raises() -> None:
    t = live_target({"BOT_API_URL": "http://127.0.0.1:9"}, allow_mutations=True)
    reply = send_signal(t)
    assert reply.error == "SOVEREIGN_SECRET is not set: cannot sign the test signal" and reply.status_code is None


def test_execution_mode_not_reported_names_both_sides(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/health":
            return httpx.Response(200, json={"status": "healthy", "database": "connected"})
        return httpx.Response(200, json={"status": "operational", "components": {"database": "healthy"}})

    real_client = httpx.Client
    monkeypatch.setattr(httpx, "Client", lambda **kw: real_client(**{**kw, "transport": httpx.MockTransport(handler)}))
    t = live_target({"BOT_API_URL": "http://bot.test"}, allow_mutations=False)
    result = botapi.execution_mode(t)
    assert isinstance(result, CheckResult) and not result.ok
    assert "runbook" in result.reason and "GET /health" in result.reason and "has no execution_mode" in result.reason
    assert "\n" not in result.reason


@pytest.mark.parametrize(
    ("body", "want"),
    [
        ({"execution_mode": "DRY_RUN"}, "DRY_RUN"),
        ({"execution_mode": "dry_run"}, None),
        ({"execution_mode": "X"}, None),
        ({"execution_mode": " LIVE"}, None),
    ],
)
def test_execution_mode_reported(monkeypatch: pytest.MonkeyPatch, body: dict[str, str], want: str | None) -> None:
    real_client = httpx.Client
    handler = lambda request: httpx.Response(200, json={"status": "healthy", **body})  # noqa: E731
    monkeypatch.setattr(httpx, "Client", lambda **kw: real_client(**{**kw, "transport": httpx.MockTransport(handler)}))
    got = botapi.execution_mode(live_target({"BOT_API_URL": "http://bot.test"}, allow_mutations=False))
    if want is None:
        assert isinstance(got, CheckResult) and not got.ok and "not exactly" in got.reason  # fail closed
    else:
        assert got == want
