"""The sign-off ledger: intact chains verify; an edited, re-hashed or deleted row is named."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import Result
from typer.testing import CliRunner

from ops_checks.access.config import DbParams
from ops_checks.cli import signoff as cli_signoff
from ops_checks.cli.app import app
from ops_checks.core.redaction import Redactor
from ops_checks.core.secret import Secret
from ops_checks.procedures import signoff
from ops_checks.sandbox import postgres
from tests.preflight_runner import REPO, preflight


@pytest.fixture
def ledger_db(shared_pg_env: dict[str, str]) -> Iterator[tuple[DbParams, postgres.Database]]:
    server = postgres.Server(shared_pg_env[postgres.DSN_ENV], "dsn")
    db = postgres.create_database(server, seed=False)  # with the suite's schema, as `opscheck init` leaves it
    params = DbParams(db.host, db.port, db.name, db.user, Secret(db.password), read_only=True)
    yield params, db
    postgres.drop_database(db)


def verdict(n: int) -> dict[str, object]:
    return {
        "target": "live",
        "verdict": "GO" if n % 2 else "NO-GO",
        "results_sha256": f"{n:064x}",
        "counts": {
            "passed": n,
            "failed": 0,
            "error": 0,
            "not_verified": 0,
            "not_applicable": 0,
            "waived": 0,
            "total": n,
        },
    }


def three_rows(params: DbParams) -> list[signoff.Signed]:
    return [
        signoff.record(params, Redactor(), verdict(n), run_id=f"run-{n}", operator="Ann", witness="Ben")
        for n in (1, 2, 3)
    ]


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
    admin(
        db, f"UPDATE opscheck.ops_signoffs SET witness = 'Nobody', row_hash = repeat('a', 64) WHERE id = {signed[1].id}"
    )
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
        assert conn.execute("SELECT to_regclass('ops_signoffs'), to_regclass('opscheck.ops_signoffs')").fetchone() == (
            None,
            None,
        )
    chain = signoff.verify(params, Redactor())
    assert not chain.ok and chain.problem == signoff.MISSING


def test_the_bot_role_cannot_delete_a_signoff(ledger_db: tuple[DbParams, postgres.Database]) -> None:
    params, db = ledger_db
    three_rows(params)
    with psycopg.connect(db.app_dsn, autocommit=True) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM opscheck.ops_signoffs")


@pytest.mark.slow
def test_live_preflight_signs_and_verify_names_tampering(
    tmp_path: Path, ledger_db: tuple[DbParams, postgres.Database]
) -> None:
    params, db = ledger_db
    closed = postgres.free_port()
    env = tmp_path / "live.env"
    env.write_text(
        f"DB_HOST={db.host}\nDB_PORT={db.port}\nDB_NAME={db.name}\nDB_USER={db.user}\n"
        f"DB_PASSWORD={db.password}\nBOT_API_URL=http://127.0.0.1:{closed}\n"
        f"VALR_BASE_URL=http://127.0.0.1:{closed}\nMETRICS_URL=http://127.0.0.1:{closed}/m\n"
        f"GRAFANA_URL=http://127.0.0.1:{closed}\nLOG_DIR={tmp_path}/none\n"
        f"OPSCHECK_SIGNOFF_KEY={'q' * 40}\nOPSCHECK_SIGNOFF_ANCHOR={tmp_path}/anchor.log\n"
    )
    run = preflight(
        tmp_path / "r", "--target", "live", "--env-file", str(env), "--no-html", "--operator", "Ann", "--witness", "Ben"
    )
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
    signed = [
        signoff.record(params, Redactor(), verdict(n), run_id=f"run-{n}", operator="Ann", witness="Ben", key=KEY)
        for n in (1, 2, 3)
    ]
    assert signoff.verify(params, Redactor(), key=KEY).ok
    # the tamperer rewrites row 2 and redoes the chain from there, as `signoff verify` without a key cannot see
    with psycopg.connect(db.admin_db_dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT id, run_id, target, verdict, counts, results_sha256, operator, witness, signed_at,"
            " prev_hash FROM opscheck.ops_signoffs ORDER BY id"
        ).fetchall()
        cols = [
            "id",
            "run_id",
            "target",
            "verdict",
            "counts",
            "results_sha256",
            "operator",
            "witness",
            "signed_at",
            "prev_hash",
        ]
        prev = None
        for values in rows:
            row = dict(zip(cols, values, strict=True))
            if row["id"] == signed[1].id:
                row["verdict"] = "GO" if row["verdict"] == "NO-GO" else "NO-GO"
            if prev is not None:
                row["prev_hash"] = prev
            digest = signoff.row_hash(row, row["prev_hash"])
            conn.execute(
                "UPDATE opscheck.ops_signoffs SET verdict = %s, prev_hash = %s, row_hash = %s WHERE id = %s",
                (row["verdict"], row["prev_hash"], digest, row["id"]),
            )
            prev = digest
    assert signoff.verify(params, Redactor()).ok  # the bare chain is fooled…
    chain = signoff.verify(params, Redactor(), key=KEY)  # …the MAC is not
    assert not chain.ok and f"row id {signed[1].id}" in chain.problem and "MAC" in chain.problem


def test_removed_newest_row_is_caught_by_the_anchor(
    ledger_db: tuple[DbParams, postgres.Database], tmp_path: Path
) -> None:
    params, db = ledger_db
    anchor = tmp_path / "anchor.log"
    signed = []
    for n in (1, 2, 3):
        s = signoff.record(params, Redactor(), verdict(n), run_id=f"run-{n}", operator="Ann", witness="Ben", key=KEY)
        signoff.append_anchor(anchor, s, f"run-{n}")
        signed.append(s)
    clean = signoff.verify(params, Redactor(), key=KEY, anchor_file=anchor)
    assert clean.ok and clean.anchored == 3, clean.problem
    admin(db, f"DELETE FROM opscheck.ops_signoffs WHERE id = {signed[-1].id}")
    assert signoff.verify(params, Redactor(), key=KEY).ok  # nothing inside the table shows it
    chain = signoff.verify(params, Redactor(), key=KEY, anchor_file=anchor)
    assert not chain.ok and chain.problem.startswith("the newest rows were removed"), chain.problem
    assert f"row id {signed[-1].id} (run run-3)" in chain.problem and f"ends at row id {signed[1].id}" in chain.problem
    by_head = signoff.verify(params, Redactor(), key=KEY, expect_head=signed[-1].row_hash)
    assert not by_head.ok and "expected head" in by_head.problem


cli = CliRunner()


def live_env(tmp_path: Path, db: postgres.Database, host: str, anchor: Path) -> Path:
    env = tmp_path / f"{host}.env"
    env.write_text(
        f"DB_HOST={host}\nDB_PORT={db.port}\nDB_NAME={db.name}\nDB_USER={db.user}\n"
        f"DB_PASSWORD={db.password}\nOPSCHECK_SIGNOFF_KEY={KEY}\nOPSCHECK_SIGNOFF_ANCHOR={anchor}\n"
    )
    return env


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process environment wins over an env file: keep the runner's own settings out of these tests."""
    for name in (
        "DATABASE_URL",
        "DB_HOST",
        "DB_PORT",
        "DB_NAME",
        "DB_USER",
        "DB_PASSWORD",
        signoff.KEY_ENV,
        signoff.ANCHOR_ENV,
    ):
        monkeypatch.delenv(name, raising=False)


def sign(env: Path, n: int) -> str:
    """One sign-off as a signed live run records it (row, then anchor line); returns the run's message."""
    result, message = cli_signoff.record_after_run(
        dict(verdict(n)), target_name="live", env_file=env, run_id=f"run-{n}", operator="Ann", witness="Ben"
    )
    assert message.startswith("sign-off recorded: ledger row") and "anchored in" in message, message
    return message


def verify_cli(env: Path, *args: str) -> Result:
    return cli.invoke(app, ["signoff", "verify", "--env-file", str(env), *args])


@pytest.mark.usefixtures("clean_environ")
def test_anchors_name_the_database_not_the_address_it_was_reached_by(
    ledger_db: tuple[DbParams, postgres.Database], tmp_path: Path
) -> None:
    """Issue 21: signed via 127.0.0.1, newest row deleted, verified via localhost: was "ledger intact", exit 0."""
    _, db = ledger_db
    anchor = tmp_path / "anchor.log"
    by_ip, by_name = live_env(tmp_path, db, "127.0.0.1", anchor), live_env(tmp_path, db, "localhost", anchor)
    for n in (1, 2, 3):
        sign(by_ip, n)
    with psycopg.connect(db.admin_db_dsn) as conn:
        sysid = conn.execute("SELECT system_identifier::text FROM pg_control_system()").fetchone()
        ids = [r[0] for r in conn.execute("SELECT id FROM opscheck.ops_signoffs ORDER BY id")]
    assert sysid is not None
    lines = anchor.read_text().splitlines()
    assert len(lines) == 3 and all(line.startswith(f"sysid={sysid[0]},genesis=") for line in lines)
    assert all(f",db={db.name} " in line and "127.0.0.1" not in line for line in lines)
    clean = verify_cli(by_name)
    assert clean.exit_code == 0 and "ledger intact: 3 sign-offs" in clean.output, clean.output
    assert f"3 anchored heads (system_identifier {sysid[0]}, database {db.name})" in clean.output
    admin(db, f"DELETE FROM opscheck.ops_signoffs WHERE id = {ids[-1]}")
    for env in (by_name, by_ip):
        broken = verify_cli(env)
        assert broken.exit_code == 1, broken.output
        assert "LEDGER BROKEN (2 rows): the newest rows were removed" in broken.output
        assert f"row id {ids[-1]} (run run-3)" in broken.output and f"ends at row id {ids[1]}" in broken.output
        assert db.password not in broken.output and KEY not in broken.output


@pytest.mark.usefixtures("clean_environ")
def test_a_signed_ledger_without_an_anchor_fails(ledger_db: tuple[DbParams, postgres.Database], tmp_path: Path) -> None:
    params, db = ledger_db
    anchor = tmp_path / "anchor.log"
    env = live_env(tmp_path, db, "localhost", anchor)
    empty = verify_cli(env)
    assert empty.exit_code == 0 and "ledger intact: 0 sign-offs" in empty.output, empty.output
    assert "the ledger is empty: nothing was signed yet" in empty.output
    signed = [
        signoff.record(params, Redactor(), verdict(n), run_id=f"run-{n}", operator="Ann", witness="Ben", key=KEY)
        for n in (1, 2)
    ]  # recorded, never anchored
    with psycopg.connect(db.admin_db_dsn) as conn:
        sysid = conn.execute("SELECT system_identifier::text FROM pg_control_system()").fetchone()
    assert sysid is not None
    reason = f"no anchor for this ledger (system_identifier {sysid[0]}, database {db.name}) in {anchor}"
    missing_file = verify_cli(env)
    assert missing_file.exit_code == 1, missing_file.output
    expected = f"LEDGER NOT VERIFIED (2 rows): {reason} (no such file): the newest rows cannot be checked"
    assert expected in missing_file.output
    # a file that anchors other databases only: the same failure, and a word about the lines naming this database
    anchor.write_text(
        f"sysid=1,genesis={'0' * 16},db=other 7 {'a' * 64} run-x\n"
        f"sysid=1,genesis={'0' * 16},db={db.name} 9 {'b' * 64} run-y\n"
    )
    other = verify_cli(env)
    assert other.exit_code == 1 and f"{reason}: the newest rows cannot be checked" in other.output, other.output
    assert f"holds 1 anchor line(s) naming database {db.name} that are not this ledger's" in other.output
    # the head a sign-off printed stands in for the anchor (checking from another host)
    by_head = verify_cli(env, "--expect-head", signed[-1].row_hash)
    assert by_head.exit_code == 0 and f"{reason}: only --expect-head was checked" in by_head.output, by_head.output
    # an anchor file named on the command line must exist: cannot run
    gone = verify_cli(env, "--anchor", str(tmp_path / "nope.log"))
    assert gone.exit_code == 2 and "cannot read the anchor file" in gone.output and "no such file" in gone.output
    junk = tmp_path / "junk.log"
    junk.write_text("not an anchor\n")
    unreadable = verify_cli(env, "--anchor", str(junk))
    assert unreadable.exit_code == 2 and f"cannot run: {junk}:1: not an anchor line" in unreadable.output


@pytest.mark.usefixtures("clean_environ")
def test_an_unreachable_database_cannot_run(tmp_path: Path) -> None:
    env = tmp_path / "live.env"
    env.write_text(f"DB_HOST=127.0.0.1\nDB_PORT={postgres.free_port()}\nDB_PASSWORD=hunter2-secret\n")
    run = verify_cli(env)
    said = "opscheck signoff verify: cannot run: cannot read the sign-off ledger"
    assert run.exit_code == 2 and said in run.output, run.output
    assert "hunter2-secret" not in run.output and "Traceback" not in run.output


@pytest.mark.usefixtures("clean_environ")
def test_host_keyed_anchor_lines_still_count(ledger_db: tuple[DbParams, postgres.Database], tmp_path: Path) -> None:
    """Lines written before database identities named the address: read as this ledger's when one of them is a
    row of it (or the address is the one used now), so a removed newest row is still found via another name."""
    params, db = ledger_db
    anchor = tmp_path / "anchor.log"
    signed = [
        signoff.record(params, Redactor(), verdict(n), run_id=f"run-{n}", operator="Ann", witness="Ben", key=KEY)
        for n in (1, 2, 3)
    ]
    anchor.write_text(
        "".join(f"127.0.0.1:{db.port}/{db.name} {s.id} {s.row_hash} run-{n}\n" for n, s in enumerate(signed, 1))
        + f"10.9.9.9:5432/elsewhere 4 {'c' * 64} run-z\n"
    )
    env = live_env(tmp_path, db, "localhost", anchor)
    ok = verify_cli(env)
    assert ok.exit_code == 0 and "3 anchored heads" in ok.output, ok.output
    assert f"3 anchor line(s) of the older format ('127.0.0.1:{db.port}/{db.name}') taken as this ledger's" in ok.output
    admin(db, f"DELETE FROM opscheck.ops_signoffs WHERE id = {signed[-1].id}")
    broken = verify_cli(env)
    assert broken.exit_code == 1 and f"row id {signed[-1].id} (run run-3)" in broken.output, broken.output
    # every anchored row gone: the lines name this database and cannot be told apart from it
    admin(db, "DELETE FROM opscheck.ops_signoffs")
    wiped = verify_cli(env)
    assert wiped.exit_code == 1 and "LEDGER BROKEN (0 rows): this ledger is empty" in wiped.output, wiped.output
    assert f"127.0.0.1:{db.port}/{db.name}" in wiped.output


@pytest.mark.usefixtures("clean_environ")
def test_without_pg_control_system_the_genesis_row_names_the_ledger(
    ledger_db: tuple[DbParams, postgres.Database], tmp_path: Path
) -> None:
    """A server that revoked EXECUTE on pg_control_system(): the line says sysid=- and is matched by the oldest
    row's hash; lines written before the revoke still match (the genesis decides when one side lacks the id)."""
    _, db = ledger_db
    anchor = tmp_path / "anchor.log"
    env = live_env(tmp_path, db, "127.0.0.1", anchor)
    sign(env, 1)
    admin(db, "REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC")
    with psycopg.connect(db.app_dsn) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT system_identifier FROM pg_control_system()")
    sign(env, 2)
    with psycopg.connect(db.admin_db_dsn) as conn:
        rows = conn.execute("SELECT id, row_hash FROM opscheck.ops_signoffs ORDER BY id").fetchall()
    first, second = anchor.read_text().splitlines()
    assert first.startswith("sysid=") and not first.startswith("sysid=-")
    assert second.startswith(f"sysid=-,genesis={rows[0][1][:16]},db={db.name} {rows[1][0]} ")
    ok = verify_cli(live_env(tmp_path, db, "localhost", anchor))
    assert ok.exit_code == 0 and "2 anchored heads (system_identifier not readable, genesis" in ok.output, ok.output
    admin(db, f"DELETE FROM opscheck.ops_signoffs WHERE id = {rows[1][0]}")
    broken = verify_cli(env)
    assert broken.exit_code == 1 and f"row id {rows[1][0]} (run run-2)" in broken.output, broken.output


def test_anchor_lines_of_no_known_format_cannot_run(tmp_path: Path) -> None:
    anchor = tmp_path / "anchor.log"
    anchor.write_text(f"sysid=12,genesis=xyz,db=a 1 {'a' * 64} r\n")
    with pytest.raises(signoff.SignoffError, match=r"anchor.log:1: not a ledger name"):
        signoff.read_anchor(anchor)
    anchor.write_text("hello world\n")
    with pytest.raises(signoff.SignoffError, match=r"anchor.log:1: not an anchor line"):
        signoff.read_anchor(anchor)
    anchor.write_text(f"h:1/db \u00b2 {'a' * 64} r\n")  # a superscript two is a digit to str.isdigit(), not to int()
    with pytest.raises(signoff.SignoffError, match=r"anchor.log:1: not an anchor line"):
        signoff.read_anchor(anchor)
    anchor.write_text(f"\n3 {'d' * 64} run-old\n")  # the oldest format: no ledger name
    assert signoff.read_anchor(anchor) == [signoff.Anchor(2, 3, "d" * 64, "run-old")]


def test_a_database_name_with_spaces_and_commas_round_trips() -> None:
    ledger = signoff.LedgerId("my db, prod", "7715989240082572863", "0123456789abcdef")
    line = ledger.key()
    assert " " not in line and line.count(",") == 2
    assert signoff._parse_key(line) == ledger
