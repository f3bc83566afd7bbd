"""§7 reads the bot's audit tables from its schema, and a chain the bot's function cannot walk is never "altered".

The audit tables are the bot's hash-chained tables as the database declares them (a ``compute_row_hash`` trigger),
so a later TRADE_BOT's new tables (migrations 027–033) are exported, dumped and protected like the first ones. The
bot's ``verify_chain_integrity`` on TRADE_BOT v1.9.0 still reads ``ai_debates`` columns that migration 007 dropped:
it errors once the table has a row. 7.6.1 must then say it cannot check ``ai_debates``, with the bot's error as the
cause and the bot's fix as the remedy, never "rows deleted or altered"; only a verified mismatch (the function
returns false, or raises the bot's own ``[AUD-009]``) is a broken chain.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ops_checks.access import audit_tables
from ops_checks.access.config import Target
from ops_checks.access.db import connect
from ops_checks.checks.s5_emergency import emergency
from ops_checks.checks.s7_audit import audit_retention
from ops_checks.core.redaction import Redactor
from ops_checks.core.result import Status
from ops_checks.procedures import audit_export, audit_verify
from ops_checks.sandbox import postgres
from ops_checks.sandbox.environment import Sandbox

# The shape of migration 027's tables: hash-chained, DELETE blocked, no prevent_update (its grants forbid UPDATE).
LATER_TABLE = """
CREATE TABLE public.bayesian_beliefs (
    id BIGSERIAL PRIMARY KEY,
    direction VARCHAR(10) NOT NULL,
    confidence NUMERIC(20, 8) NOT NULL,
    correlation_id UUID NOT NULL,
    row_hash CHAR(64) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE TRIGGER trg_bayesian_beliefs_hash BEFORE INSERT ON public.bayesian_beliefs
    FOR EACH ROW EXECUTE FUNCTION public.compute_row_hash();
CREATE TRIGGER trg_bayesian_beliefs_no_delete BEFORE DELETE ON public.bayesian_beliefs
    FOR EACH ROW EXECUTE FUNCTION public.prevent_delete();
GRANT SELECT, INSERT ON public.bayesian_beliefs TO app_trading;
GRANT USAGE, SELECT ON SEQUENCE public.bayesian_beliefs_id_seq TO app_trading;
INSERT INTO public.bayesian_beliefs (direction, confidence, correlation_id)
    VALUES ('LONG', 0.61, gen_random_uuid())"""

# TRADE_BOT v1.9.0's verify_chain_integrity as it behaves: its ai_debates branch reads rec.model_name (dropped by
# migration 007), it raises "Unknown table" for tables it was not written for, and the sandbox's own walk stands in
# for the tables it does know.
BOTS_VERIFY = """
ALTER FUNCTION public.verify_chain_integrity(text) RENAME TO sandbox_verify_chain_integrity;
CREATE FUNCTION public.verify_chain_integrity(table_name text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    rec record;
    row_data text;
BEGIN
    IF table_name = 'ai_debates' THEN
        FOR rec IN EXECUTE format('SELECT * FROM %I ORDER BY id ASC', table_name) LOOP
            row_data := COALESCE(rec.correlation_id::text, '') || '|' || COALESCE(rec.model_name, '');
        END LOOP;
        RETURN true;
    ELSIF table_name IN ('signals', 'policy_decision_audit', 'trading_orders') THEN
        RETURN public.sandbox_verify_chain_integrity(table_name);
    END IF;
    RAISE EXCEPTION 'verify_chain_integrity: Unknown table %', table_name;
END $$;
GRANT EXECUTE ON FUNCTION public.verify_chain_integrity(text) TO app_trading"""

AI_DEBATE = (
    "INSERT INTO ai_debates (correlation_id, bull_reasoning, bear_reasoning, consensus_score) "
    "SELECT correlation_id, 'bull case', 'bear case', 60 FROM signals ORDER BY id LIMIT 1"
)


@pytest.fixture()
def live_like(server: postgres.Server) -> Iterator[tuple[Sandbox, Target]]:
    """A running sandbox seen as the live target (read-only checks)."""
    sb = Sandbox(server=server)
    try:
        t = sb.start()
        yield sb, dataclasses.replace(t, name="live", allow_mutations=False)
    finally:
        sb.stop()


def declared(t: Target) -> dict[str, audit_tables.AuditTable]:
    with connect(t.db, t.redactor) as db:
        return {tb.name: tb for tb in audit_tables.discover(db)}


def test_the_audit_tables_are_the_hash_chained_tables_the_schema_declares(live_like: tuple[Sandbox, Target]) -> None:
    sb, t = live_like
    found = declared(t)
    assert set(found) == {tb.name for tb in audit_tables.KNOWN}  # the model of migrations 001–026: 15 tables
    assert found["policy_decision_audit"].append_only and not found["hitl_approvals"].append_only
    assert found["deep_link_tokens"].key == ("token",) and found["policy_decision_audit"].time_column == "timestamp_utc"
    assert "system_settings" not in found and "trade_learning_events" not in found  # no row hash: no audit table

    sb.admin(LATER_TABLE)  # a later TRADE_BOT: a new hash-chained table is an audit table without any code change
    later = declared(t)["bayesian_beliefs"]
    assert (later.filename, later.time_column, later.key, later.append_only) == (
        "bayesian_beliefs.csv",
        "created_at",
        ("id",),
        False,
    )
    with connect(t.db, t.redactor) as db:
        assert "bayesian_beliefs" in emergency.dump_tables(db)  # §5.5's L4 dump streams it out
    assert audit_retention.bot_cannot_delete(t).ok  # DELETE blocked by its trigger; UPDATE only by its grants
    sb.admin("ALTER TABLE bayesian_beliefs DISABLE TRIGGER trg_bayesian_beliefs_no_delete")
    r = audit_retention.bot_cannot_delete(t)
    assert not r.ok and "bayesian_beliefs: no enabled prevent_delete trigger" in r.reason
    assert r.cause is not None and "ALTER TABLE bayesian_beliefs ENABLE TRIGGER trg_bayesian_beliefs_no_delete;" in (
        r.cause.remedy
    )


def test_the_export_covers_every_declared_table_and_its_verification_says_when_one_is_left_out(
    live_like: tuple[Sandbox, Target], tmp_path: Path
) -> None:
    sb, t = live_like
    sb.admin(LATER_TABLE)
    time.sleep(1.05)  # the range is in whole seconds (as the manifest writes it), and closed before the bot's next rows
    end = datetime.now(UTC).replace(microsecond=0)
    result = audit_export.export(t.db, Redactor(), end - timedelta(days=2), end, tmp_path / "all", "tester")
    by_table = {f.table: f for f in result.files}
    assert set(by_table) == set(declared(t)) and by_table["bayesian_beliefs"].rows == 1
    assert audit_verify.verify(tmp_path / "all", db_params=t.db).ok

    partial = tuple(tb for tb in declared(t).values() if tb.name != "bayesian_beliefs")
    audit_export.export(t.db, Redactor(), end - timedelta(days=2), end, tmp_path / "partial", "tester", tables=partial)
    report = audit_verify.verify(tmp_path / "partial", db_params=t.db)
    assert not report.ok and any("bayesian_beliefs" in p.reason for p in report.problems), report.render()


def test_a_verify_function_that_errors_is_cannot_check_never_altered(live_like: tuple[Sandbox, Target]) -> None:
    """The false tampering claim of the real bot (issue 22): 7.6.1 said "row-hash chain broken (rows deleted or
    altered): ai_debates: record "rec" has no field "model_name"". Nothing was altered: the bot's function errors."""
    sb, t = live_like
    sb.admin(AI_DEBATE)
    sb.admin(BOTS_VERIFY)
    r = audit_retention.rows_retained(t)
    assert r.status is Status.NOT_VERIFIED, (r.status, r.reason)
    assert r.reason.startswith("cannot check ai_debates: the bot's verify_chain_integrity errors: ")
    assert 'record "rec" has no field "model_name"' in r.reason
    assert "deleted or altered" not in r.reason and "broken" not in r.reason and "\n" not in r.reason
    assert (
        r.cause is not None and r.cause.kind == "bot_defect" and r.cause.subject == "verify_chain_integrity(ai_debates)"
    )
    assert "fix the bot's verify_chain_integrity(text) for ai_debates" in r.cause.remedy
    assert "policy_decision_audit" in str(
        r.observed
    ) and "order_events (the bot's verify_chain_integrity does not know it)" in (str(r.observed))

    # a verified mismatch is still "broken", and says so even beside a table it cannot check
    sb.admin(
        "SET session_replication_role = replica; UPDATE policy_decision_audit SET ai_confidence = 0.1 "
        "WHERE id = (SELECT id FROM policy_decision_audit ORDER BY id OFFSET 5 LIMIT 1)"
    )
    broken = audit_retention.rows_retained(t)
    assert broken.status is Status.FAILED
    assert "row-hash chain broken (rows deleted or altered): policy_decision_audit" in broken.reason
    assert "cannot check ai_debates" in broken.reason


def test_the_bots_own_mismatch_error_is_a_broken_chain(live_like: tuple[Sandbox, Target]) -> None:
    """The real function raises [AUD-009] on a mismatch instead of returning false: that is a verified mismatch."""
    sb, t = live_like
    sb.admin(
        "CREATE OR REPLACE FUNCTION public.verify_chain_integrity(table_name text) RETURNS boolean "
        "LANGUAGE plpgsql AS $$ BEGIN IF table_name = 'signals' THEN RAISE EXCEPTION '[AUD-009] Hash chain integrity "
        'verification FAILED on table "%" at row id 7.\', table_name; END IF; RETURN true; END $$'
    )
    r = audit_retention.rows_retained(t)
    assert r.status is Status.FAILED and "row-hash chain broken (rows deleted or altered): signals" in r.reason
    assert "[AUD-009]" in r.reason
