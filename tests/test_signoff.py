"""The sign-off ledger: intact chains verify; an edited, re-hashed or deleted row is named."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ops_checks.core.redaction import Redactor
from ops_checks.core.secret import Secret
from ops_checks.procedures import signoff
from ops_checks.sandbox import postgres
from ops_checks.target.config import DbParams
from tests.preflight_runner import REPO, preflight


@pytest.fixture
def ledger_db(shared_pg_env: dict[str, str]) -> Iterator[tuple[DbParams, postgres.Database]]:
    server = postgres.Server(shared_pg_env[postgres.DSN_ENV], "dsn")
    db = postgres.create_database(server, seed=False)  # with the suite's schema, as `opscheck init` leaves it
    params = DbParams(db.host, db.port, db.name, db.user, Secret(db.password), read_only=True)
    yield params, db
    postgres.drop_database(db)


def verdict(n: int) -> dict[str, object]:
    return {"target": "live", "verdict": "GO" if n % 2 else "NO-GO", "results_sha256": f"{n:064x}",
            "counts": {"passed": n, "failed": 0, "broken": 0, "skipped": 0, "waived": 0, "total": n}}


def three_rows(params: DbParams) -> list[signoff.Signed]:
    return [signoff.record(params, Redactor(), verdict(n), run_id=f"run-{n}", operator="Ann", witness="Ben")
            for n in (1, 2, 3)]


def admin(db: postgres.Database, sql: str) -> None:
    with psycopg.connect(db.admin_db_dsn, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def test_intact_chain(ledger_db: tuple[DbParams, postgres.Database]) -> None:
    params, _ = ledger_db
    signed = three_rows(params)
    chain = signoff.verify(params, Redactor())
    assert chain.ok and chain.rows == 3 and chain.head == signed[-1].row_hash


def test_edited_row_is_named(ledger_db: tuple[DbParams, postgres.Database]) -> None:
    params, db = ledger_db
    signed = three_rows(params)
    admin(db, f"UPDATE opscheck.ops_signoffs SET verdict = 'GO' WHERE id = {signed[1].id}")
    chain = signoff.verify(params, Redactor())
    assert not chain.ok and f"row id {signed[1].id} (run run-2" in chain.problem and "altered" in chain.problem


def test_edited_and_rehashed_row_breaks_the_next_link(ledger_db: tuple[DbParams, postgres.Database]) -> None:
    params, db = ledger_db
    signed = three_rows(params)
    admin(db, "UPDATE opscheck.ops_signoffs SET witness = 'Nobody', row_hash = repeat('a', 64) "
              f"WHERE id = {signed[1].id}")
    chain = signoff.verify(params, Redactor())
    assert not chain.ok and f"row id {signed[1].id}" in chain.problem


def test_deleted_row_is_named(ledger_db: tuple[DbParams, postgres.Database]) -> None:
    params, db = ledger_db
    signed = three_rows(params)
    admin(db, f"DELETE FROM opscheck.ops_signoffs WHERE id = {signed[1].id}")
    chain = signoff.verify(params, Redactor())
    assert not chain.ok and f"chain broken at row id {signed[2].id}" in chain.problem
    assert f"after row id {signed[0].id} was removed" in chain.problem


def test_four_eyes(ledger_db: tuple[DbParams, postgres.Database]) -> None:
    with pytest.raises(signoff.SignoffError, match="two different people"):
        signoff.record(ledger_db[0], Redactor(), verdict(1), run_id="r", operator="Ann", witness=" ann ")


def test_a_signed_run_never_creates_the_ledger(ledger_db: tuple[DbParams, postgres.Database]) -> None:
    """The table belongs to `opscheck init`: without it the sign-off fails and says so; nothing is created."""
    params, db = ledger_db
    admin(db, "DROP TABLE opscheck.ops_signoffs")
    with pytest.raises(signoff.SignoffError) as err:
        signoff.record(params, Redactor(), verdict(1), run_id="r", operator="Ann", witness="Ben")
    assert str(err.value) == "sign-off not recorded: " + signoff.MISSING and "opscheck init" in str(err.value)
    with psycopg.connect(db.admin_db_dsn) as conn:
        assert conn.execute("SELECT to_regclass('ops_signoffs'), to_regclass('opscheck.ops_signoffs')"
                            ).fetchone() == (None, None)
    chain = signoff.verify(params, Redactor())
    assert not chain.ok and chain.problem == signoff.MISSING


def test_the_bot_role_cannot_delete_a_signoff(ledger_db: tuple[DbParams, postgres.Database]) -> None:
    params, db = ledger_db
    three_rows(params)
    with psycopg.connect(db.app_dsn, autocommit=True) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM opscheck.ops_signoffs")


@pytest.mark.slow
def test_live_preflight_signs_and_verify_names_tampering(tmp_path: Path,
                                                          ledger_db: tuple[DbParams, postgres.Database]) -> None:
    params, db = ledger_db
    closed = postgres.free_port()
    env = tmp_path / "live.env"
    env.write_text(f"DB_HOST={db.host}\nDB_PORT={db.port}\nDB_NAME={db.name}\nDB_USER={db.user}\n"
                   f"DB_PASSWORD={db.password}\nBOT_API_URL=http://127.0.0.1:{closed}\n"
                   f"VALR_BASE_URL=http://127.0.0.1:{closed}\nMETRICS_URL=http://127.0.0.1:{closed}/m\n"
                   f"GRAFANA_URL=http://127.0.0.1:{closed}\nLOG_DIR={tmp_path}/none\n"
                   f"OPSCHECK_SIGNOFF_KEY={'q' * 40}\nOPSCHECK_SIGNOFF_ANCHOR={tmp_path}/anchor.log\n")
    run = preflight(tmp_path / "r", "--target", "live", "--env-file", str(env), "--no-html", "--operator", "Ann",
                    "--witness", "Ben")
    assert run.exit_code == 1 and "sign-off recorded: ledger row" in run.output, run.output[-2000:]
    assert f"anchored in {tmp_path}/anchor.log" in run.output and "q" * 40 not in run.output
    verify = [sys.executable, "-m", "ops_checks.cli", "signoff", "verify", "--env-file", str(env)]
    ok = subprocess.run(verify, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "ledger intact: 1 sign-offs" in ok.stdout, ok.stdout + ok.stderr
    assert "MACs" in ok.stdout and "1 anchored heads" in ok.stdout
    admin(db, "UPDATE opscheck.ops_signoffs SET verdict = 'GO'")
    bad = subprocess.run(verify, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "was altered" in bad.stdout and run.run_dir is not None
    assert run.run_dir.name in bad.stdout


KEY = "k" * 40


def test_a_redone_chain_fails_the_mac(ledger_db: tuple[DbParams, postgres.Database]) -> None:
    """Issue 13 §5: a row changed NO-GO→GO with every later hash recomputed passes the chain, not the MAC."""
    params, db = ledger_db
    signed = [signoff.record(params, Redactor(), verdict(n), run_id=f"run-{n}", operator="Ann", witness="Ben",
                             key=KEY) for n in (1, 2, 3)]
    assert signoff.verify(params, Redactor(), key=KEY).ok
    # the tamperer rewrites row 2 and redoes the chain from there, as `signoff verify` without a key cannot see
    with psycopg.connect(db.admin_db_dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT id, run_id, target, verdict, counts, results_sha256, operator, witness, signed_at,"
                            " prev_hash FROM opscheck.ops_signoffs ORDER BY id").fetchall()
        cols = ["id", "run_id", "target", "verdict", "counts", "results_sha256", "operator", "witness", "signed_at",
                "prev_hash"]
        prev = None
        for values in rows:
            row = dict(zip(cols, values, strict=True))
            if row["id"] == signed[1].id:
                row["verdict"] = "GO" if row["verdict"] == "NO-GO" else "NO-GO"
            if prev is not None:
                row["prev_hash"] = prev
            digest = signoff.row_hash(row, row["prev_hash"])
            conn.execute("UPDATE opscheck.ops_signoffs SET verdict = %s, prev_hash = %s, row_hash = %s WHERE id = %s",
                         (row["verdict"], row["prev_hash"], digest, row["id"]))
            prev = digest
    assert signoff.verify(params, Redactor()).ok  # the bare chain is fooled…
    chain = signoff.verify(params, Redactor(), key=KEY)  # …the MAC is not
    assert not chain.ok and f"row id {signed[1].id}" in chain.problem and "MAC" in chain.problem


def test_removed_newest_row_is_caught_by_the_anchor(ledger_db: tuple[DbParams, postgres.Database],
                                                    tmp_path: Path) -> None:
    params, db = ledger_db
    anchor = tmp_path / "anchor.log"
    signed = []
    for n in (1, 2, 3):
        s = signoff.record(params, Redactor(), verdict(n), run_id=f"run-{n}", operator="Ann", witness="Ben", key=KEY)
        signoff.append_anchor(anchor, s, f"run-{n}", signoff.ledger_id(params))
        signed.append(s)
    anchored = signoff.read_anchor(anchor, signoff.ledger_id(params))
    assert signoff.verify(params, Redactor(), key=KEY, anchors=anchored).ok
    admin(db, f"DELETE FROM opscheck.ops_signoffs WHERE id = {signed[-1].id}")
    assert signoff.verify(params, Redactor(), key=KEY).ok  # nothing inside the table shows it
    chain = signoff.verify(params, Redactor(), key=KEY, anchors=anchored)
    assert not chain.ok and f"anchored row id {signed[-1].id}" in chain.problem and "missing" in chain.problem
    by_head = signoff.verify(params, Redactor(), key=KEY, expect_head=signed[-1].row_hash)
    assert not by_head.ok and "expected head" in by_head.problem
