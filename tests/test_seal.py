"""Issue 22 §5: evidence an auditor can verify.

One signed live preflight (a sandbox database as the live target, the bot's ports closed: NO-GO, signed) gives a
run whose hash is the same value on the page, in verdict.json and in the ledger row, and is what the README's
commands reproduce: ``opscheck evidence verify RUN_DIR --env-file .env`` from any directory, and by hand
``sha256sum <run>/results.sha256`` with the seal lines put back to their placeholder (``sed``). Editing any file of
the run, the claim included, fails the check; so does a ledger row that no longer records the run, and so does a
run whose every digest was redone after an edit, once the ledger row is compared. The seal itself: every file of
the run is listed with a path that names the run, and a run that was not signed says why.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from ops_checks.access.config import DbParams
from ops_checks.catalogue import BY_ID, runbook_text
from ops_checks.cli import evidence
from ops_checks.cli.app import app, mark_interrupted
from ops_checks.core.redaction import Redactor
from ops_checks.core.secret import Secret
from ops_checks.procedures import signoff
from ops_checks.report import signoff_page
from ops_checks.sandbox import postgres
from ops_checks.verdict import seal, verdict
from tests.preflight_runner import REPO, Run, preflight

KEY = "s" * 40
# the README's recipe for the canonical form of the two files that show the hash (what `sed` does to them)
CANONICAL = {
    "verdict.json": (
        re.compile(rb'(?m)^  "results_sha256": .*$'),
        b'  "results_sha256": "sealed", "signoff": "sealed"',
    ),
    "html/index.html": (re.compile(rb'(?m)^<section id="seal">.*$'), b'<section id="seal">sealed</section>'),
}


@pytest.fixture(scope="module")
def ledger(shared_pg_env: dict[str, str]) -> Iterator[postgres.Database]:
    server = postgres.Server(shared_pg_env[postgres.DSN_ENV], "dsn")
    db = postgres.create_database(server, seed=False)  # with the suite's schema, as `opscheck init` leaves it
    yield db
    postgres.drop_database(db)


@pytest.fixture(scope="module")
def signed_run(ledger: postgres.Database, tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Path]:
    """One whole live preflight with --operator/--witness: NO-GO (nothing answers on the bot's ports), signed."""
    tmp = tmp_path_factory.mktemp("sealed")
    closed = postgres.free_port()
    env = tmp / "live.env"
    env.write_text(
        f"DB_HOST={ledger.host}\nDB_PORT={ledger.port}\nDB_NAME={ledger.name}\nDB_USER={ledger.user}\n"
        f"DB_PASSWORD={ledger.password}\nBOT_API_URL=http://127.0.0.1:{closed}\n"
        f"VALR_BASE_URL=http://127.0.0.1:{closed}\nMETRICS_URL=http://127.0.0.1:{closed}/m\n"
        f"GRAFANA_URL=http://127.0.0.1:{closed}\nLOG_DIR={tmp}/none\n"
        f"OPSCHECK_SIGNOFF_KEY={KEY}\nOPSCHECK_SIGNOFF_ANCHOR={tmp}/anchor.log\n"
    )
    run = preflight(
        tmp / "reports", "--target", "live", "--env-file", str(env), "--operator", "Ann", "--witness", "Ben"
    )
    assert run.exit_code == 1 and "sign-off recorded: ledger row" in run.output, run.output[-3000:]
    assert run.run_dir is not None and KEY not in run.output
    return run, env


def ledger_rows(db: postgres.Database, run_id: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(db.admin_db_dsn, autocommit=True) as conn:
        return conn.execute(
            "SELECT id, row_hash, results_sha256, verdict, mac FROM opscheck.ops_signoffs WHERE run_id = %s", (run_id,)
        ).fetchall()


def by_hand(run_dir: Path) -> list[str]:
    """What `cd <reports> && sha256sum -c <run>/results.sha256` says, each claim file in its canonical form."""
    problems = []
    for line in (run_dir / "results.sha256").read_text().splitlines():
        digest, name = line.split("  ", 1)
        run, _, rel = name.partition("/")
        data = (run_dir.parent / name).read_bytes() if (run_dir.parent / name).is_file() else None
        if run != run_dir.name or data is None:
            problems.append(name)
            continue
        if rel in CANONICAL:
            pattern, placeholder = CANONICAL[rel]
            data = pattern.sub(placeholder, data)
        if hashlib.sha256(data).hexdigest() != digest:
            problems.append(name)
    return problems


def verify(run_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "ops_checks.cli", "evidence", "verify", str(run_dir), *args]
    env = dict(os.environ, PYTHONPATH=str(REPO))  # this checkout's ops_checks, whatever the working directory
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60, env=env)


def verify_in_process(run_dir: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["evidence", "verify", str(run_dir), *args])


def test_one_hash_on_the_page_in_verdict_json_and_in_the_ledger_row(
    signed_run: tuple[Run, Path], ledger: postgres.Database, tmp_path: Path
) -> None:
    run, env = signed_run
    assert run.run_dir is not None and run.verdict is not None
    run_dir, claim = run.run_dir, run.verdict
    digest = claim["results_sha256"]
    # the documented hash: `sha256sum <run>/results.sha256`, from the folder the manifest's paths are relative to
    assert digest == hashlib.sha256((run_dir / "results.sha256").read_bytes()).hexdigest()
    rows = ledger_rows(ledger, run_dir.name)
    assert len(rows) == 1
    row_id, row_hash, ledger_digest, ledger_verdict, mac = rows[0]
    assert ledger_digest == digest and ledger_verdict == claim["verdict"] == "NO-GO" and mac
    assert claim["signoff"] == {
        "signed": True,
        "ledger_row": row_id,
        "row_hash": row_hash,
        "prev_hash": signoff.GENESIS,
        "signed_at": claim["signoff"]["signed_at"],
        "mac_key_set": True,
        "ledger": claim["signoff"]["ledger"],
    }
    page = (run_dir / "html" / "index.html").read_text()
    assert page.count(digest) == 1 and f"ledger row {row_id} of opscheck.ops_signoffs" in page and row_hash in page
    assert escape(signoff_page.MAC_SET) in page
    # the manifest covers every file of the run, the claim included, each path naming the run
    listed = [line.split("  ", 1)[1] for line in (run_dir / "results.sha256").read_text().splitlines()]
    on_disk = sorted(f"{run_dir.name}/{p.relative_to(run_dir).as_posix()}" for p in run_dir.rglob("*") if p.is_file())
    assert listed == [p for p in on_disk if p != f"{run_dir.name}/results.sha256"]
    assert {f"{run_dir.name}/verdict.json", f"{run_dir.name}/html/index.html", f"{run_dir.name}/pytest.log"} <= set(
        listed
    )
    assert by_hand(run_dir) == []  # the README's recipe with standard tools agrees
    # the one documented command, from any directory (here: outside the checkout and the reports folder)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ok = verify(run_dir, "--env-file", str(env), cwd=elsewhere)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"evidence intact: run {run_dir.name}" in ok.stdout and digest in ok.stdout
    assert f"ledger row {row_id} of the ledger and its MAC" in ok.stdout and KEY not in ok.stdout + ok.stderr


def test_the_page_names_the_system_checked_and_quotes_each_runbook_row(signed_run: tuple[Run, Path]) -> None:
    run, env = signed_run
    assert run.run_dir is not None and run.verdict is not None
    ident = run.verdict["target_identity"]
    assert ident["kind"] == "live" and ident["env_sha256"] == hashlib.sha256(env.read_bytes()).hexdigest()
    page = (run.run_dir / "html" / "index.html").read_text()
    for shown in (ident["bot_url"], f"{ident['db_host']}:{ident['db_port']}", ident["db_name"], ident["db_role"]):
        assert f"<td>{escape(str(shown))}</td>" in page
    assert ident["env_sha256"] in page and f"ops_checks {ident['suite_version']}" in page
    runbooks = runbook_text.resolve_dir()
    if runbooks.is_dir():
        for item in run.verdict["items"][:3]:
            assert escape(runbook_text.quote(BY_ID[item["id"]], runbooks)) in page


EDITS = ["verdict.json", "html/index.html", "pytest.log", "junit.xml", "cucumber.json", "allure-result"]


@pytest.mark.parametrize("name", EDITS)
def test_editing_any_file_of_the_run_fails_the_check(signed_run: tuple[Run, Path], tmp_path: Path, name: str) -> None:
    run, _ = signed_run
    assert run.run_dir is not None
    copy = tmp_path / run.run_dir.name
    shutil.copytree(run.run_dir, copy)
    assert verify_in_process(copy).exit_code == 0
    if name == "allure-result":
        name = next(p for p in sorted((copy / "allure-results").glob("*-result.json"))).relative_to(copy).as_posix()
    path = copy / name
    data = path.read_bytes()
    if name == "verdict.json":  # the claim's verdict, outside its seal line
        data = data.replace(b'"verdict": "NO-GO"', b'"verdict": "GO"', 1)
    elif name == "html/index.html":  # what the page shows, outside its seal line
        data = data.replace(b"Verdict: NO-GO", b"Verdict: GO")
    else:
        data = data[:-1] + (b"x" if data[-1:] != b"x" else b"y")
    path.write_bytes(data)
    r = verify_in_process(copy)
    assert r.exit_code == 1 and "EVIDENCE ALTERED" in r.stdout, r.stdout
    assert f"{name}: altered" in r.stdout and by_hand(copy) == [f"{copy.name}/{name}"]


def test_an_edited_seal_a_removed_or_added_file_fail_the_check(signed_run: tuple[Run, Path], tmp_path: Path) -> None:
    run, _ = signed_run
    assert run.run_dir is not None and run.verdict is not None
    row = run.verdict["signoff"]["ledger_row"]
    cases = {
        "verdict.json": (f'"ledger_row": {row}', f'"ledger_row": {row + 1}'),
        "html/index.html": (f"ledger row {row} of", f"ledger row {row + 1} of"),
    }
    for name, (old, new) in cases.items():  # the seal lines: not hashed as bytes, rendered again from their values
        copy = tmp_path / name.replace("/", "-") / run.run_dir.name
        shutil.copytree(run.run_dir, copy)
        text = (copy / name).read_text()
        assert old in text
        (copy / name).write_text(text.replace(old, new))
        r = verify_in_process(copy)
        assert r.exit_code == 1 and name in r.stdout, r.stdout
    copy = tmp_path / "files" / run.run_dir.name
    shutil.copytree(run.run_dir, copy)
    (copy / "junit.xml").unlink()
    (copy / "html" / "notes.txt").write_text("added later")
    r = verify_in_process(copy)
    assert r.exit_code == 1 and "junit.xml: missing" in r.stdout and "html/notes.txt: not in results.sha256" in r.stdout
    assert verify_in_process(tmp_path / "no-such-run").exit_code == 2


def redo_every_digest(run_dir: Path, claim: dict[str, Any]) -> None:
    """What someone who edited the claim and knows the scheme does: redo the manifest, the hash, the seal lines and
    the signed row's hash (no key is needed for any of that)."""
    verdict.write(run_dir, claim)
    page = run_dir / "html" / "index.html"
    page.write_text(page.read_text().replace("Verdict: NO-GO", "Verdict: GO"))
    claim["results_sha256"] = verdict.results_digest(run_dir, exclude=(verdict.MANIFEST,))
    row = {k: claim[k] for k in ("target", "verdict", "counts", "results_sha256", "operator", "witness")}
    row |= {"run_id": run_dir.name, "signed_at": claim["signoff"]["signed_at"]}
    claim["signoff"]["row_hash"] = signoff.row_hash(row, claim["signoff"]["prev_hash"])
    evidence.write_seal(run_dir, claim, html=True)


def test_a_redone_seal_passes_alone_but_not_against_the_ledger(
    signed_run: tuple[Run, Path], ledger: postgres.Database, tmp_path: Path
) -> None:
    run, env = signed_run
    assert run.run_dir is not None and run.verdict is not None
    copy = tmp_path / run.run_dir.name
    shutil.copytree(run.run_dir, copy)
    claim = json.loads((copy / "verdict.json").read_text()) | {"verdict": "GO"}
    redo_every_digest(copy, claim)
    assert verify_in_process(copy).exit_code == 0  # the files alone: consistent, as documented
    r = verify_in_process(copy, "--env-file", str(env))
    assert r.exit_code == 1, r.stdout
    assert "is not the row the seal names" in r.stdout and "records results SHA-256" in r.stdout
    assert "records verdict 'NO-GO'" in r.stdout
    # and the ledger row itself, edited: the run no longer matches it
    with psycopg.connect(ledger.admin_db_dsn, autocommit=True) as conn:
        conn.execute("UPDATE opscheck.ops_signoffs SET results_sha256 = %s WHERE run_id = %s", ("0" * 64, copy.name))
    try:
        r = verify_in_process(run.run_dir, "--env-file", str(env))
        assert r.exit_code == 1 and "was altered" in r.stdout and "records results SHA-256 000" in r.stdout, r.stdout
    finally:
        with psycopg.connect(ledger.admin_db_dsn, autocommit=True) as conn:
            conn.execute(
                "UPDATE opscheck.ops_signoffs SET results_sha256 = %s WHERE run_id = %s",
                (run.verdict["results_sha256"], copy.name),
            )
    assert verify_in_process(run.run_dir, "--env-file", str(env)).exit_code == 0


# -- the seal without a preflight ------------------------------------------------------------------------------------
def result_files(run_dir: Path) -> None:
    run_dir.mkdir(parents=True)
    (run_dir / "junit.xml").write_text('<?xml version="1.0"?><testsuites/>')
    (run_dir / "cucumber.json").write_text("[]")
    (run_dir / "allure-results").mkdir()
    (run_dir / "allure-results" / "a-result.json").write_text("{}")
    (run_dir / "pytest.log").write_text("log\n")


def one_item(target: str = "sandbox") -> dict[str, Any]:
    now = datetime.now(UTC)
    items = [verdict.outcome("1.1.1", verdict.PASSED, "", target)]
    return verdict.build(items, target=target, started_at=now, finished_at=now, operator="A", witness="B") | {
        "run_id": "20250101T000000Z-abcdef"
    }


def test_a_run_resealed_after_a_failed_sign_off_says_why_and_verifies(tmp_path: Path) -> None:
    run_dir = tmp_path / "20250101T000000Z-abcdef"
    result_files(run_dir)
    result = one_item()
    sealed = evidence.seal(run_dir, result, target="sandbox", html=True, log_problem=None, unsigned="the first why")
    first = result["results_sha256"]
    assert verify_in_process(run_dir).exit_code == 0
    failed = dict(result, verdict=verdict.NO_GO, warnings=["sign-off not recorded: the ledger is missing"])
    evidence.reseal(run_dir, failed, sealed, html=True, unsigned=failed["warnings"][-1])
    r = verify_in_process(run_dir)
    assert r.exit_code == 0 and "not signed: sign-off not recorded: the ledger is missing" in r.stdout, r.stdout
    assert failed["results_sha256"] != first and by_hand(run_dir) == []
    assert "not signed: sign-off not recorded: the ledger is missing" in (run_dir / "html" / "index.html").read_text()


def test_a_claim_file_with_two_seal_lines_has_no_canonical_form() -> None:
    text = seal.dumps({"verdict": "GO", "results_sha256": None, "signoff": None})
    assert seal.canonical("verdict.json", text.encode()).decode().endswith(seal.JSON_PLACEHOLDER + "\n}\n")
    doubled = text.replace("{\n", "{\n" + seal.JSON_PLACEHOLDER + ",\n", 1)
    with pytest.raises(seal.SealError, match="2 seal lines"):
        seal.canonical("verdict.json", doubled.encode())


@pytest.fixture
def ledger_params(ledger: postgres.Database) -> DbParams:
    return DbParams(ledger.host, ledger.port, ledger.name, ledger.user, Secret(ledger.password), read_only=True)


def test_a_seal_that_cannot_be_written_rolls_the_sign_off_back(
    ledger_params: DbParams, ledger: postgres.Database
) -> None:
    """The row's id and head hash go into the seal before the commit: when that write fails, nothing is signed."""
    seen: list[signoff.Signed] = []

    def full_disk(signed: signoff.Signed) -> None:
        seen.append(signed)
        raise evidence.EvidenceError("the seal (sign-off rolled back): No space left on device")

    claim = one_item("live") | {"results_sha256": "a" * 64}
    with pytest.raises(evidence.EvidenceError, match="No space left"):
        signoff.record(
            ledger_params, Redactor(), claim, run_id="rolled-back", operator="A", witness="B", before_commit=full_disk
        )
    assert len(seen) == 1 and seen[0].row_hash and ledger_rows(ledger, "rolled-back") == []


def test_a_run_that_was_never_sealed_cannot_be_verified(tmp_path: Path) -> None:
    """An interrupted run (or a plain pytest run) claims no seal: exit 2, saying why, never "intact"."""
    run_dir = tmp_path / "20250101T000000Z-abcdef"
    run_dir.mkdir()
    now = datetime.now(UTC)
    mark_interrupted(run_dir, "SIGTERM", target="sandbox", started_at=now, operator=None, witness=None)
    r = verify_in_process(run_dir)
    assert r.exit_code == 2 and "interrupted by SIGTERM before it was sealed" in r.stderr, r.output
    result_files(plain := tmp_path / "plain" / run_dir.name)
    claim = one_item()
    claim["results_sha256"] = verdict.results_digest(plain)  # what the plugin alone writes
    verdict.write(plain, claim)
    r = verify_in_process(plain)
    assert r.exit_code == 2 and "has no seal (a plain pytest run" in r.stderr, r.output
