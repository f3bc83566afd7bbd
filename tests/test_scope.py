"""The operator's declared scope (``OPSCHECK_SCOPE``) and the SOP's declared sources: *not applicable* only by
declaration, an undeclared absence *not verified* (never passed), each with the line to declare."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ops_checks.access import scope
from ops_checks.access.coinbase_jwt import generate_ec_pem
from ops_checks.access.profile import REAL_BOT
from ops_checks.checks.sop import auth, feed, funding, prevention
from ops_checks.core.envfile import ConfigError
from ops_checks.report import signoff_page
from ops_checks.verdict import verdict
from tests.preflight_runner import preflight

REAL_BOT_SCOPE = "exchanges=valr; perpetuals=none; websocket_feed=none"


def test_parse_and_describe() -> None:
    s = scope.parse("exchanges: [VALR]; perpetuals=none\nwebsocket_feed = none")
    assert s.text() == REAL_BOT_SCOPE
    assert s.in_scope(scope.COINBASE) is False and s.in_scope(scope.PERPETUALS) is False
    assert s.not_applicable_items() == ["sop.1.1", "sop.1.2", "sop.6.1", "sop.2.1", "sop.2.2", "sop.2.3", "sop.2.4"]
    assert s.describe().startswith(f"scope (OPSCHECK_SCOPE): {REAL_BOT_SCOPE}: out of scope Coinbase CDP, ")
    assert s.as_json() == {
        "source": "OPSCHECK_SCOPE",
        "declared": {"exchanges": ["valr"], "perpetuals": ["none"], "websocket_feed": ["none"]},
        "out_of_scope": ["Coinbase CDP", "perpetual futures", "a market-data websocket feed"],
        "not_applicable": s.not_applicable_items(),
    }
    both = scope.parse("exchanges=valr,cdp")
    assert both.in_scope(scope.COINBASE) is True and both.in_scope(scope.PERPETUALS) is None
    nothing = scope.parse("  ")
    assert nothing.declared == () and "every item applies" in nothing.describe()
    assert nothing.as_json()["source"] is None and nothing.as_json()["not_applicable"] == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("exchanges=binance", "exchanges must list valr and/or coinbase"),
        ("exchanges=", "exchanges must list"),
        ("perpetuals=maybe", "perpetuals must be none or used"),
        ("websocket=none", "unknown key 'websocket'"),
        ("perpetuals=none; perpetuals=used", "perpetuals is declared twice"),
        ("valr only", "is not key=value"),
    ],
)
def test_a_malformed_declaration_is_one_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        scope.parse(text)
    assert message in str(err.value) and str(err.value).startswith("OPSCHECK_SCOPE: ") and "\n" not in str(err.value)


def _target(tmp_path: Path, **env: str) -> Any:
    return SimpleNamespace(
        env=env,
        profile=REAL_BOT,
        redactor=None,
        secret=lambda n: _Secret(env.get(n, "")),
        value=lambda n, d="": env.get(n, d) or d,
    )


class _Secret(str):
    def reveal(self) -> str:
        return str(self)


def _cdp(tmp_path: Path) -> dict[str, str]:
    key = tmp_path / "cdp.pem"
    key.write_bytes(generate_ec_pem())
    key.chmod(0o600)
    return {"COINBASE_CDP_API_KEY": "organizations/o/apiKeys/k", "COINBASE_CDP_PRIVATE_KEY_PATH": str(key)}


def test_cdp_not_configured_is_not_verified_unless_declared_out(tmp_path: Path) -> None:
    undeclared = auth.key_file_secure(_target(tmp_path))
    assert undeclared.status.value == "not_verified" and undeclared.cause is not None
    assert (undeclared.cause.kind, undeclared.cause.subject) == ("scope_undeclared", "Coinbase CDP")
    assert "OPSCHECK_SCOPE=exchanges=valr" in undeclared.cause.remedy
    assert auth.jwt_valid(_target(tmp_path), None).cause == undeclared.cause  # one cause for sop.1.1 and sop.1.2
    out = auth.key_file_secure(_target(tmp_path, OPSCHECK_SCOPE="exchanges=valr"))
    assert out.status.value == "not_applicable" and "OPSCHECK_SCOPE exchanges=valr" in out.reason
    assert auth.jwt_valid(_target(tmp_path, OPSCHECK_SCOPE="exchanges=valr"), None).status.value == "not_applicable"
    conflict = auth.key_file_secure(_target(tmp_path, OPSCHECK_SCOPE="exchanges=valr", **_cdp(tmp_path)))
    assert conflict.status.value == "not_verified" and conflict.cause is not None
    assert conflict.cause.kind == "scope_conflict"
    assert auth.key_file_secure(_target(tmp_path, **_cdp(tmp_path))).ok
    declared_in = auth.key_file_secure(_target(tmp_path, OPSCHECK_SCOPE="exchanges=valr,coinbase"))
    assert declared_in.status.value == "not_verified" and declared_in.cause is not None
    assert declared_in.cause.kind == "setting"


def test_standby_keys_follow_the_cdp_scope(tmp_path: Path) -> None:
    valr = {"VALR_API_KEY": "a" * 64, "VALR_STANDBY_API_KEY": "b" * 64, "VALR_STANDBY_API_SECRET": "c" * 64}
    undeclared = auth.standby_keys(_target(tmp_path, **valr))
    assert undeclared.status.value == "not_verified" and undeclared.cause is not None
    assert undeclared.cause.kind == "scope_undeclared"
    declared = auth.standby_keys(_target(tmp_path, OPSCHECK_SCOPE="exchanges=valr", **valr))
    assert declared.ok and "Coinbase CDP out of scope" in declared.reason
    missing = auth.standby_keys(_target(tmp_path, OPSCHECK_SCOPE="exchanges=valr"))
    assert missing.status.value == "failed" and missing.cause is not None and "VALR_STANDBY_API_KEY" in missing.reason


def test_perpetuals_unset_is_not_verified_unless_declared_none(tmp_path: Path) -> None:
    undeclared = funding.funding_within_limit(_target(tmp_path))
    assert undeclared.status.value == "not_verified" and undeclared.cause is not None
    assert (undeclared.cause.kind, undeclared.cause.subject) == ("scope_undeclared", "perpetual futures")
    assert "OPSCHECK_SCOPE=perpetuals=none" in undeclared.cause.remedy and "PERPETUAL_PAIRS" in undeclared.cause.remedy
    out = funding.funding_within_limit(_target(tmp_path, OPSCHECK_SCOPE="perpetuals=none"))
    assert out.status.value == "not_applicable"
    conflict = funding.funding_within_limit(
        _target(tmp_path, OPSCHECK_SCOPE="perpetuals=none", PERPETUAL_PAIRS="BTCUSDTPERP")
    )
    assert conflict.status.value == "not_verified" and conflict.cause is not None
    assert conflict.cause.kind == "scope_conflict"


def test_websocket_items_are_not_applicable_only_by_declaration(tmp_path: Path) -> None:
    checks = (
        feed.disconnects_not_in_warning_band,
        feed.disconnects_below_critical,
        feed.downtime_within_limit,
        feed.feed_down_blocks_entries,
    )
    for check in checks:
        undeclared = check(_target(tmp_path))
        assert undeclared.status.value == "not_verified" and undeclared.cause is not None
        assert undeclared.cause.kind == "source_undeclared" and "BOT_METRIC_WEBSOCKET_" in undeclared.cause.remedy
        out = check(_target(tmp_path, OPSCHECK_SCOPE="websocket_feed=none"))
        assert out.status.value == "not_applicable" and "websocket_feed=none" in out.reason
    bad = feed.disconnects_below_critical(_target(tmp_path, OPSCHECK_SCOPE="websocket=none"))
    assert bad.status.value == "not_verified" and bad.cause is not None and bad.cause.subject == "OPSCHECK_SCOPE"


def test_latency_metric_without_a_source_is_not_verified(tmp_path: Path) -> None:
    r = prevention.latency_metric_exported(_target(tmp_path))
    assert r.status.value == "not_verified" and r.cause is not None
    assert r.cause.kind == "source_undeclared" and "exchange latency" in r.cause.detail
    assert "BOT_METRIC_EXCHANGE_LATENCY=<metric name> in the env file" in r.cause.remedy


def test_scope_is_recorded_and_shown() -> None:
    from datetime import UTC, datetime

    declared = scope.parse(REAL_BOT_SCOPE).as_json()
    now = datetime.now(UTC)
    items = [verdict.outcome("sop.1.1", "not_applicable", "out of the declared scope", "live")]
    v = verdict.build(
        items, target="live", started_at=now, finished_at=now, operator=None, witness=None, scope=declared
    )
    assert v["scope"] == declared and v["verdict"] == "GO"
    page = signoff_page.render(v)
    assert (
        "<th>Declared scope</th><td>OPSCHECK_SCOPE: exchanges=valr; perpetuals=none; websocket_feed=none "
        "(not applicable: sop.1.1, sop.1.2, sop.6.1, sop.2.1" in page
    )
    assert "nothing declared out of scope" in signoff_page.render({**v, "scope": scope.Scope().as_json()})


@pytest.mark.slow
def test_declared_scope_end_to_end(tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    """A sandbox run of the SOP sections the declaration touches: the CLI prints the declaration, the items it puts
    out of scope are not applicable (the sandbox, declared so, configures no CDP and no perpetual pairs), nothing
    else changes, and verdict.json records it."""
    env = {**shared_pg_env, "OPSCHECK_SCOPE": REAL_BOT_SCOPE}
    run = preflight(
        tmp_path, "--no-html", "-m", "section_sop_1 or section_sop_2 or section_sop_3 or section_sop_6", env=env
    )
    assert run.verdict is not None, run.output[-3000:]
    assert f"scope (OPSCHECK_SCOPE): {REAL_BOT_SCOPE}" in run.output
    status = {i["id"]: i["status"] for i in run.verdict["items"]}
    assert status == {
        "sop.1.1": "not_applicable",
        "sop.1.2": "not_applicable",
        "sop.1.3": "passed",
        "sop.1.4": "passed",
        "sop.2.1": "not_applicable",
        "sop.2.2": "not_applicable",
        "sop.2.3": "not_applicable",
        "sop.2.4": "not_applicable",
        "sop.3.1": "passed",
        "sop.6.1": "not_applicable",
    }, json.dumps(run.verdict["items"], indent=1)
    assert run.verdict["scope"]["declared"]["exchanges"] == ["valr"] and run.verdict["causes"] == []
    assert run.verdict["verdict"] == "PARTIAL"  # a selection: never GO, but nothing open


def test_websocket_declared_out_of_scope_while_its_metrics_are_declared_is_not_verified() -> None:
    """websocket_feed=none contradicted by declared BOT_METRIC_WEBSOCKET_* lines: not verified, never N/A."""
    import dataclasses
    from types import SimpleNamespace

    from ops_checks.access.profile import REAL_BOT
    from ops_checks.checks.sop import feed

    profile = dataclasses.replace(REAL_BOT, sop_metric_ws_disconnects="websocket_disconnects_last_hour")
    t = SimpleNamespace(profile=profile, env={"OPSCHECK_SCOPE": "websocket_feed=none"})
    r = feed.websocket_out_of_scope(t)  # type: ignore[arg-type]
    assert r is not None and r.status.value == "not_verified" and r.cause is not None
    assert r.cause.kind == "scope_conflict"
    bare = SimpleNamespace(profile=REAL_BOT, env={"OPSCHECK_SCOPE": "websocket_feed=none"})
    na = feed.websocket_out_of_scope(bare)  # type: ignore[arg-type]
    assert na is not None and na.status.value == "not_applicable"
