"""The item registry (ops_checks/catalogue/items): one declaration per item, and the readers that used to keep their own
tables now read it. The frozen tables here are the ones the readers kept before (cadence from the id, report's
category by section, the §3 drill's checks and preconditions): the registry must give exactly what they gave."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys

import pytest

from ops_checks.catalogue import BY_ID, ITEMS, Item, cadence, model
from ops_checks.cli import serve as cli_serve
from ops_checks.drills import transition_drill

OLD_CATEGORY_BY_SECTION = (
    ("1.1", model.CONNECTIVITY),
    ("1.2", model.CONNECTIVITY),
    ("1.3", model.SAFETY_GATE),
    ("1.4", model.CONNECTIVITY),
    ("1.5", model.CONFIGURATION),
    ("1.6", model.CONFIGURATION),
    ("2.", model.CONFIGURATION),
    ("3.", model.SAFETY_GATE),
    ("4.", model.SAFETY_GATE),
    ("5.", model.SAFETY_GATE),
    ("6.", model.SAFETY_GATE),
    ("7.", model.DATA_INTEGRITY),
    ("8.", model.CONNECTIVITY),
    ("sop.1", model.CONNECTIVITY),
    ("sop.2", model.CONNECTIVITY),
    ("sop.3", model.CONFIGURATION),
    ("sop.4", model.SAFETY_GATE),
    ("sop.5", model.CONNECTIVITY),
    ("sop.6", model.CONFIGURATION),
    ("sop.7", model.SAFETY_GATE),
    ("sop.8", model.SAFETY_GATE),
    ("sop.", model.CONFIGURATION),
)

# transition_drill's hand-kept tables before the registry: item → (check, its fixed arguments), and preconditions
_DB = ("ops_checks.checks.givens:database_unreachable",)
_DECISIONS = (*_DB, "ops_checks.checks.givens:table_unreadable(policy_decision_audit)")
_KILL_SWITCH = (*_DB, "ops_checks.checks.givens:table_unreadable(circuit_breaker_events)")
OLD_PRECHECKS = {
    "1.1.1": "infra:database_connectivity",
    "1.1.2": "infra:settings_row_valid",
    "1.1.3": "infra:table_queryable(circuit_breaker_events)",
    "1.1.4": "infra:table_queryable(policy_decision_audit)",
    "1.1.5": "infra:services_healthy",
    "1.1.6": "infra:api_health",
    "1.2.1": "exchange:valr_reachable",
    "1.2.2": "exchange:api_key_valid",
    "1.2.3": "exchange:balance_readable",
    "1.2.4": "drift:drift_within_tolerance",
    "1.3.1": "kill_switch:verify_kill_switch",
    "1.3.2": "safety:circuit_breaker_configured",
    "1.3.3": "logs:budget_loaded",
    "1.3.4": "logs:health_green",
    "1.3.5": "logs:risk_healthy",
    "1.4.1": "monitoring:discord_test_message[run_id]",
    "1.4.2": "monitoring:metrics_respond",
    "1.4.3": "monitoring:grafana_dashboards",
    "1.4.4": "logs:logs_being_written",
    "1.5.1": "exchange:starting_equity_recorded",
    "1.5.2": "limits:zar_floor",
    "1.5.3": "limits:max_order",
    "1.5.4": "limits:max_risk",
    "1.6.1": "dry_run:execution_mode",
    "1.6.2": "dry_run:test_signal[exchange_orders]",
    "1.6.3": "dry_run:decisions_logged",
    "1.6.4": "dry_run:dry_run_review",
    "2.1.1": "secrets_check:valr_api_key",
    "2.1.2": "secrets_check:valr_api_secret",
    "2.1.3": "secrets_check:sovereign_secret",
    "2.1.4": "secrets_check:webhook_secret",
    "2.1.5": "secrets_check:postgres_password",
    "2.1.6": "secrets_check:db_password",
    "2.1.7": "secrets_check:guardian_reset_code",
    "2.1.8": "secrets_check:discord_webhook[run_id]",
    "2.1.9": "secrets_check:openrouter_api_key",
    "2.2.1": "gates:execution_mode",
    "2.2.2": "gates:live_trading_confirmed",
    "2.2.3": "gates:kill_switch_enabled",
    "2.3.1": "gates:limits_consistent",
}
OLD_DRIFT_CHECKS = {
    "8.6.1": "drift:exchange_time_reachable",
    "8.6.2": "drift:offset_within_tolerance[m]",
    "8.6.3": "ntp:ntp_synchronized",
    "8.6.4": "drift_logs:time_sync_logs_ok",
    "8.6.5": "signed_request:signed_request_accepted",
}
OLD_PRECONDITIONS = {
    "1.1.2": _DB,
    "1.1.3": _DB,
    "1.1.4": _DB,  # 1.1.6 (HTTP) no longer waits on the database (issue 22)
    "1.2.3": ("ops_checks.checks.givens:metrics_unreadable",),
    "1.3.1": (*_KILL_SWITCH, "ops_checks.checks.givens:bot_not_deciding"),
    "1.3.2": _DB,
    "1.5.1": _DB,
    "1.6.1": ("ops_checks.checks.givens:bot_unhealthy",),
    "1.6.2": _DECISIONS,
    "1.6.3": _DECISIONS,
    "1.6.4": _DECISIONS,
    "2.1.1": ("ops_checks.checks.s2_environment.secrets_check:valr_signature_not_accepted",),
    "2.1.2": ("ops_checks.checks.s2_environment.secrets_check:valr_key_not_recognised",),
    "2.3.1": _DB,
    **{item: _KILL_SWITCH for item in ("4.4.1", "4.4.2", "4.4.3", "4.4.4", "4.4.5", "4.4.6")},
    "8.6.3": ("ops_checks.checks.s8_clock_drift.ntp:tool_missing",),
    # the measurement-bound extras _drift_checks added
    "8.6.2": ("ops_checks.checks.s8_clock_drift.drift:time_unavailable[m]",),
    "8.6.4": ("ops_checks.checks.s8_clock_drift.drift:beyond_tolerance[m]",),
}


def _ref(func: str, args: tuple[str, ...], needs: tuple[str, ...]) -> str:
    return func + (f"({','.join(args)})" if args else "") + (f"[{','.join(needs)}]" if needs else "")


def test_every_item_declares_its_category_as_reports_section_table_did() -> None:
    for item in ITEMS:
        old = max((len(sec), prefix) for sec, prefix in OLD_CATEGORY_BY_SECTION if item.id.startswith(sec))[1]
        assert (item.id, item.category) == (item.id, old)


def test_every_item_declares_its_cadence_as_the_id_rule_did() -> None:
    for item in ITEMS:
        parts = item.id.split(".")
        old = parts[1] if len(parts) > 2 and parts[0] == "sop" and parts[1] in ("weekly", "monthly") else None
        assert (item.id, item.cadence, cadence.of_item(item.id)) == (item.id, old, old)
    assert cadence.of_item("sop.daily.1") is None and cadence.of_item("no.such.item") is None


def test_serve_reads_the_mutating_items_from_the_registry() -> None:
    ids = cli_serve.mutating_ids()
    assert ids == {i.id for i in ITEMS if i.mutating} and len(ids) == 16
    assert {"1.3.1", "1.4.1", "1.6.2", "4.4.1", "4.5.1", "7.4.1"} <= ids and "1.1.1" not in ids


def test_serve_refuses_a_registry_without_mutating_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ops_checks.catalogue.ITEMS", tuple(i for i in ITEMS if not i.mutating))
    with pytest.raises(RuntimeError, match="no mutating item"):
        cli_serve.mutating_ids()


def test_the_pre_transition_preflight_checks_every_section_1_and_2_1_to_2_3_blocker_in_registry_order() -> None:
    """The rule the old table followed by hand, now derived: a new §1 or §2.1–2.3 blocker joins it by itself."""
    expected = tuple(
        i.id
        for i in ITEMS
        if i.severity == "blocker"
        and i.section.split(" ")[0] in ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2.1", "2.2", "2.3")
    )
    assert transition_drill.PRECHECK_ITEMS == expected
    assert transition_drill.REGISTRY_ITEMS == (*expected, *(f"4.4.{n}" for n in range(1, 7)), *OLD_DRIFT_CHECKS)


def test_the_pre_transition_preflight_kept_the_old_tables_checks_and_preconditions() -> None:
    """The registry gives the items the old hand-kept table listed (frozen above, as of the move to the registry)
    the same checks and preconditions; items added since are not in it, and need not be."""
    assert set(OLD_PRECHECKS) <= set(transition_drill.PRECHECK_ITEMS)
    for item, old in (OLD_PRECHECKS | OLD_DRIFT_CHECKS).items():
        it = BY_ID[item]
        # the old table named the flat modules (infra:…); the registry names the layered ones (checks.s1_….infra:…)
        ref = _ref(it.check, it.check_args, it.check_needs)
        assert ref.startswith("ops_checks.") and ref.rsplit(".", 1)[-1] == old.rsplit(".", 1)[-1], (item, ref, old)
    for item in (*OLD_PRECHECKS, *(f"4.4.{n}" for n in range(1, 7)), *OLD_DRIFT_CHECKS):
        got = tuple(_ref(g.func, g.args, g.needs) for g in BY_ID[item].preconditions)
        old_ones = OLD_PRECONDITIONS.get(item, ())
        assert (item, got[: len(old_ones)]) == (item, old_ones)  # kept, in order (issue 22 added §4.4's read grant)


def test_a_bound_check_passes_fixed_and_run_time_arguments() -> None:
    seen: list[tuple[object, ...]] = []
    module = type(sys)("fake_checks")
    module.with_target = lambda t, table, run_id: seen.append((t, table, run_id))  # type: ignore[attr-defined]
    module.without_target = lambda m, name: seen.append((m, name))  # type: ignore[attr-defined]
    sys.modules["fake_checks"] = module
    try:
        item = Item(
            "9.9.9",
            "x",
            "9.9 X",
            category=model.CONFIGURATION,
            check="fake_checks:with_target",
            check_args=("tbl",),
            check_needs=("run_id",),
        )
        item.bind_check(run_id="r1")("T")
        model.Given("fake_checks:without_target", ("WARNING",), ("m",)).bind(m="M")("T")
        with pytest.raises(TypeError, match="needs run_id"):
            item.bind_check()
    finally:
        del sys.modules["fake_checks"]
    assert seen == [("T", "tbl", "r1"), ("M", "WARNING")]


def test_an_item_with_an_unknown_category_or_cadence_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown category"):
        Item("9.9.9", "x", "9.9 X", category="weird:", check="m:f")
    with pytest.raises(ValueError, match="unknown cadence"):
        Item("9.9.9", "x", "9.9 X", category=model.CONFIGURATION, check="m:f", cadence="yearly")


def test_the_registry_imports_no_check_module() -> None:
    """Checks are named, not imported: loading the registry leaves the check modules unloaded (cheap, low layer)."""
    code = "import sys, ops_checks.catalogue as c; print(sorted(m for m in sys.modules if m.startswith('ops_checks')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(ast.literal_eval(out))
    assert loaded <= {
        "ops_checks",
        "ops_checks.catalogue",
        "ops_checks.catalogue.items",
        "ops_checks.catalogue.model",
        "ops_checks.catalogue.rotation_periods",
        *(f"ops_checks.catalogue.items.{m}" for m in _item_modules()),
    }


def _item_modules() -> list[str]:
    return [m.name for m in pkgutil.iter_modules(importlib.import_module("ops_checks.catalogue.items").__path__)]
