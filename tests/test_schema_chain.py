"""The sandbox's row-hash chain holds under concurrent writers (the bot's policy loop and its webhook write
policy_decision_audit at the same time). TRADE_BOT's own compute_row_hash draws the id from the column default
before taking its lock and chains by id, so concurrent inserts can chain in one order and number in the other
(docs/RUNBOOK-VS-BOT.md); the sandbox draws the id inside the lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from ops_checks.sandbox import postgres

INSERT = (
    "INSERT INTO policy_decision_audit (correlation_id, policy_decision, reason_code, context_snapshot) "
    "VALUES (gen_random_uuid(), 'ALLOW', 'ALLOW_ALL_GATES_PASSED', '{}')"
)


@pytest.fixture
def db(shared_pg_env: dict[str, str]) -> Iterator[postgres.Database]:
    database = postgres.create_database(postgres.Server(shared_pg_env[postgres.DSN_ENV], "dsn"))
    yield database
    postgres.drop_database(database)


def test_concurrent_inserts_keep_the_chain_verifiable(db: postgres.Database) -> None:
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with psycopg.connect(db.admin_db_dsn, autocommit=True) as conn:
                for _ in range(150):
                    conn.execute(INSERT)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[0]
    with psycopg.connect(db.admin_db_dsn) as conn:
        ok = conn.execute("SELECT verify_chain_integrity('policy_decision_audit')").fetchone()
    assert ok == (True,)
