"""Issue 22, runbook §1–§3: each reason names the real failure in one plain sentence, and one problem is one cause.

A DNS failure reads as DNS (never "VALR refused VALR_API_KEY"), an unset limit as unset (never "not a number"), a
failing ``docker ps`` without a Python list, and the HTTP item 1.1.6 neither waits on nor names the database.
Symptoms of one problem carry the same cause (kind, subject) with a remedy; derived items point at the item they
rest on (``blocked_by``).
"""

from __future__ import annotations

import dataclasses
import socket
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from ops_checks.access.config import Target, live_target
from ops_checks.access.db import DbError
from ops_checks.catalogue import BY_ID
from ops_checks.checks import causes
from ops_checks.checks.s1_preconditions import exchange, infra, limits
from ops_checks.checks.s2_environment import gates, secrets_check
from ops_checks.checks.s3_transition import transition_gate
from ops_checks.core import netfail
from ops_checks.core.result import CheckResult, Status
from ops_checks.sandbox.postgres import free_port
from ops_checks.verdict import verdict
from ops_checks.verdict.waivers import Waiver

ENV = {
    "VALR_API_KEY": "Kq4vValrKeyCanary0123456789abcdef",
    "VALR_API_SECRET": "Sx8wValrSecretCanary0123456789abcdef",
    "MAX_ORDER_ZAR": "5000",
    "MAX_RISK_ZAR": "5000",
    "ZAR_FLOOR": "20000",
}


def target(transport: httpx.BaseTransport | None = None, **env: str | None) -> Target:
    merged = {k: v for k, v in {**ENV, **env}.items() if v is not None}
    t = live_target(merged, allow_mutations=False)
    return dataclasses.replace(t, valr_transport=transport) if transport is not None else t


def failing(exc: Callable[[httpx.Request], Exception]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc(request)

    return httpx.MockTransport(handler)


def dns_failure(request: httpx.Request) -> Exception:
    try:
        raise socket.gaierror(-2, "Name or service not known")
    except socket.gaierror as exc:
        try:
            raise httpx.ConnectError("[Errno -2] Name or service not known", request=request) from exc
        except httpx.ConnectError as err:
            return err


def refused(request: httpx.Request) -> Exception:
    try:
        raise ConnectionRefusedError(111, "Connection refused")
    except ConnectionRefusedError as exc:
        try:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request) from exc
        except httpx.ConnectError as err:
            return err


def timed_out(request: httpx.Request) -> Exception:
    return httpx.ConnectTimeout("timed out", request=request)


def valr_answers(status: int, body: str) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, text=body))


@pytest.mark.parametrize(
    ("make", "kind", "words"),
    [
        (dns_failure, netfail.DNS, "does not resolve (DNS)"),
        (refused, netfail.REFUSED, "refused the connection"),
        (timed_out, netfail.TIMEOUT, "did not answer in time"),
    ],
)
def test_a_network_failure_is_named_from_the_exception(
    make: Callable[[httpx.Request], Exception], kind: str, words: str
) -> None:
    t = target(failing(make))
    reach, key, secret = exchange.valr_reachable(t), secrets_check.valr_api_key(t), secrets_check.valr_api_secret(t)
    for result in (reach, key, secret, exchange.api_key_valid(t), exchange.balance_readable(t)):
        assert result.status is Status.FAILED and words in result.reason, result.reason
        assert "VALR_API_KEY" not in result.reason and "[" not in result.reason, result.reason
        assert result.cause is not None and result.cause.key == ("unreachable", "VALR api.valr.com")
        assert result.cause.remedy
    assert netfail.classify(httpx.ConnectError("x")).kind == netfail.OTHER  # no chain: nothing more exact to say
    if kind == netfail.DNS:
        assert "getent hosts api.valr.com" in reach.cause.remedy  # type: ignore[union-attr]


def test_a_revoked_key_is_one_cause_and_the_items_resting_on_2_1_1_point_at_it() -> None:
    t = target(valr_answers(401, '{"code": -93, "message": "Unauthorized: API key not found or revoked"}'))
    key, also = secrets_check.valr_api_key(t), exchange.api_key_valid(t)
    assert key.cause is not None and key.cause.key == ("valr_key", "VALR_API_KEY") and also.cause == key.cause
    assert "revoked" in key.reason and "refused VALR_API_KEY" not in key.reason
    rests = secrets_check.valr_key_not_recognised(t)
    assert rests is not None and rests.status is Status.NOT_VERIFIED and rests.blocked_by == ("2.1.1",)
    assert rests.cause == key.cause and "not verified" not in rests.reason.lower()


def test_a_wrong_secret_is_one_cause_and_2_1_1_rests_on_2_1_2() -> None:
    t = target(valr_answers(401, '{"code": -11252, "message": "Request has an invalid signature"}'))
    secret = secrets_check.valr_api_secret(t)
    assert secret.cause is not None and secret.cause.key == ("valr_signature", "VALR_API_SECRET")
    assert "VALR_API_SECRET=" in secret.cause.remedy
    rests = secrets_check.valr_signature_not_accepted(t)
    assert rests is not None and rests.blocked_by == ("2.1.2",) and rests.cause == secret.cause


def test_valr_read_only_is_one_cause_for_1_2_1_and_the_resume() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/public/status":
            return httpx.Response(200, json={"status": "read-only"})
        return httpx.Response(200, json={"epochTime": 1_767_225_600, "time": "2026-01-01T00:00:00.000Z"})

    result = exchange.valr_reachable(target(httpx.MockTransport(handler)))
    assert result.status is Status.FAILED and result.cause is not None
    assert result.cause.key == ("exchange_status", "VALR") and "read-only" in result.reason
    assert "status.valr.com" in result.cause.remedy


@pytest.mark.parametrize("name", ["MAX_RISK_ZAR", "MAX_ORDER_ZAR", "ZAR_FLOOR"])
def test_an_unset_limit_is_not_a_malformed_one(name: str) -> None:
    check = {"MAX_RISK_ZAR": limits.max_risk, "MAX_ORDER_ZAR": limits.max_order, "ZAR_FLOOR": limits.zar_floor}[name]
    for unset in (None, "", "  "):
        result = check(target(**{name: unset}))
        assert not result.ok and result.reason == f"{name} is not set in the env file", result.reason
        assert "number" not in result.reason and result.cause == causes.unset(name, limits.EXAMPLES[name])
        assert result.cause is not None and result.cause.remedy.startswith(f"add {name}=")
        assert gates.limits_consistent(target(**{name: unset})).cause == result.cause  # 2.3.1: the same cause
    garbage = check(target(**{name: "five thousand"}))
    assert not garbage.ok and "not a decimal amount" in garbage.reason and "not set" not in garbage.reason
    assert garbage.cause is not None and garbage.cause.key == ("setting", name)


def test_docker_ps_failing_reads_as_a_sentence_with_a_remedy(monkeypatch: pytest.MonkeyPatch) -> None:
    said = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"

    def run(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        raise subprocess.CalledProcessError(1, ["docker", "ps"], output="", stderr=said + "\nmore\n")

    monkeypatch.setattr(infra.shutil, "which", lambda name: "/usr/bin/docker")
    monkeypatch.setattr(infra.subprocess, "run", run)
    result = infra.services_healthy(target())
    assert result.reason == f"docker ps failed: {said}"
    assert result.status is Status.NOT_VERIFIED  # the list cannot be read here: not verified, never passed
    assert result.cause is not None and "systemctl start docker" in result.cause.remedy
    monkeypatch.setattr(infra.shutil, "which", lambda name: None)
    missing = infra.services_healthy(target())
    assert "[" not in missing.reason and missing.cause is not None


def test_the_bot_api_item_neither_waits_on_nor_names_the_database() -> None:
    assert BY_ID["1.1.6"].preconditions == ()
    feature = Path(__file__).resolve().parents[1] / "features/1_1_infrastructure.feature"
    scenario = feature.read_text().split("Scenario: 1.1.6")[1]
    assert "database" not in scenario
    t = dataclasses.replace(target(DB_HOST="203.0.113.1"), bot_api_url=f"http://127.0.0.1:{free_port()}")
    result = infra.api_health(t)
    assert not result.ok and "refused the connection" in result.reason and "database" not in result.reason
    assert result.cause is not None and result.cause.kind == "unreachable" and "BOT_API_URL" in result.cause.remedy


# ---------------------------------------------------------------------------------------------------- §3.1 gate
def _preflight(
    tmp: Path, failed: tuple[str, ...] = (), waived: dict[str, Waiver] | None = None
) -> transition_gate.Preflight:
    ids = {*transition_gate.S1_BLOCKERS, *transition_gate.S2_BLOCKERS, *transition_gate.KILL_SWITCH_ITEMS}
    ids |= {"1.6.4", "1.2.4", "1.3.1", *transition_gate.DRIFT_ITEMS}
    items = [verdict.outcome(i, verdict.FAILED if i in failed else verdict.PASSED) for i in sorted(ids)]
    data = verdict.build(
        verdict.apply_waivers(items, waived or {}),
        target="sandbox",
        started_at=_now(),
        finished_at=_now(),
        operator="ann",
        witness="bob",
    )
    run = tmp / f"run-{len(failed)}-{len(waived or {})}"
    verdict.write(run, data)
    return transition_gate.load(run)


def _now() -> datetime:
    return datetime.now(UTC)


def test_3_1_2_rests_on_the_section_1_items_not_met(tmp_path: Path) -> None:
    pf = _preflight(tmp_path, failed=("1.2.1", "1.4.3"))
    gate = transition_gate.evaluate(pf, target="sandbox", operator="ann", witness="bob")
    assert [k for k, r in gate.items() if not r.ok] == ["3.1.2"]
    assert gate["3.1.2"].blocked_by == ("1.2.1", "1.4.3") and gate["3.1.2"].cause is not None
    assert transition_gate.blockers_not_met(pf) == ["1.2.1", "1.4.3"]


def test_a_waived_item_is_met_for_3_1_2_and_the_gate(tmp_path: Path) -> None:
    waiver = Waiver("1.4.3", "dashboards being migrated", "Head of Trading Ops", _now().date().replace(year=2099))
    pf = _preflight(tmp_path, failed=("1.4.3",), waived={"1.4.3": waiver})
    assert pf.status["1.4.3"] == "waived" and pf.data["verdict"] == "GO"
    gate = transition_gate.evaluate(pf, target="sandbox", operator="ann", witness="bob")
    assert all(r.ok for r in gate.values()) and transition_gate.refusal(gate, pf) is None
    assert transition_gate.blockers_not_met(pf) == []


# ---------------------------------------------------------------------------------------------------- one preflight
@pytest.mark.slow
def test_two_faults_are_two_causes_and_every_other_item_points_at_one(
    tmp_path: Path, shared_pg_env: dict[str, str]
) -> None:
    """Issue 22 (done when): VALR read-only and Grafana without dashboards are NO-GO with exactly two causes; 3.1.2,
    the refused §3 drill's rows and the resume's 6.4.x point at them instead of repeating them (6.4.7 meets VALR's
    status too: the same cause as 1.2.1)."""
    from tests.preflight_runner import preflight

    faults = ("--sandbox-fault", "exchange_read_only", "--sandbox-fault", "grafana_dashboards_missing")
    run = preflight(tmp_path / "r", "--no-html", *faults, env=shared_pg_env, timeout=900)
    assert run.verdict is not None, run.output[-3000:]
    assert run.verdict["verdict"] == "NO-GO" and run.exit_code == 1
    found = run.verdict["causes"]
    assert len(found) == 2, [(c["id"], c["roots"], c["summary"]) for c in found]
    by_key = {(c["kind"], c["subject"]): c for c in found}
    valr, grafana = by_key[("exchange_status", "VALR")], next(c for c in found if c["kind"] == "grafana_dashboards")
    assert sorted(valr["roots"]) == ["1.2.1", "6.4.7"] and grafana["roots"] == ["1.4.3"]
    assert all(c["remedy"] and "make item" not in c["remedy"] for c in found)
    items = {i["id"]: i for i in run.verdict["items"]}
    open_items = sorted(i for i, row in items.items() if row["status"] in ("failed", "error", "not_verified"))
    assert sorted(valr["items"] + grafana["items"]) == open_items
    assert {"3.1.2", *(f"3.3.{n}" for n in range(1, 11)), "6.4.3", "6.4.7", "6.4.8"} <= set(open_items)
    for item in open_items:
        if item not in ("1.2.1", "1.4.3", "6.4.7"):
            assert items[item]["blocked_by"], item  # derived: points at what it rests on
    assert set(items["3.1.2"]["blocked_by"]) == {"1.2.1", "1.4.3"}
    assert {"1.2.1", "1.4.3"} <= set(items["3.3.1"]["blocked_by"]) and items["6.4.3"]["blocked_by"] == ["6.4.7"]
    assert "VERDICT: NO-GO — 2 causes" in run.output


def test_a_transition_step_refused_by_the_database_names_the_grant_or_the_constraint() -> None:
    from ops_checks.access.db import DbError
    from ops_checks.procedures import transition

    t = target(DB_USER="app_trading")
    pnl = transition.step_cause(t, 6, DbError("permission denied for table system_settings"))
    assert pnl is not None and pnl.remedy == 'GRANT UPDATE ON system_settings TO "app_trading";'
    backup = transition.step_cause(
        t, 3, OSError("database dump failed: ai_debates: permission denied for table ai_debates")
    )
    assert backup is not None and backup.remedy == 'GRANT SELECT ON ai_debates TO "app_trading";'
    trail = transition.step_cause(
        t, 1, DbError('new row for relation "ops_operator_actions" violates check constraint "x"')
    )
    assert trail is not None and trail.subject == "opscheck.ops_operator_actions"
    assert transition.step_cause(t, 5, DbError("KILL_SWITCH_ENABLED is not true")) is None


def test_a_missing_grant_met_mid_drill_is_the_read_only_items_cause() -> None:
    """A drill (or the incident capture, or the resume) that meets "permission denied for table x" on its own
    disposable sandbox's login role files its item under the same cause as 1.1.4's read of x: one cause per grant."""
    from ops_checks.checks import givens
    from ops_checks.drills.base import guard

    denied = "permission denied for table policy_decision_audit"

    def step() -> CheckResult:
        raise DbError(denied)

    read_only = givens.table_cause(target(DB_USER="app_trading_1234"), "policy_decision_audit", denied)
    in_drill = guard(step).cause
    assert in_drill is not None and in_drill.key == read_only.key == ("grant", "SELECT on policy_decision_audit")
    missing = givens.cause_in('relation "trading_orders" does not exist')
    assert missing is not None and missing.key == ("missing_table", "trading_orders")
    assert givens.cause_in("connection reset by peer") is None
