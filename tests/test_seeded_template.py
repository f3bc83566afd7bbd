"""Seeded databases are copies of a short-lived seeded template (issue 23 §6): the same rows, roles, grants and
owners as a database seeded on its own; a session's changes never reach the template; a stale one is replaced."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from ops_checks.sandbox import postgres

# what a session's role may do and who owns what, for every table, sequence, view and schema of the suite's own
SHAPE = """
SELECT n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner) AS owner,
       CASE WHEN c.relkind = 'S'
            THEN ARRAY[has_sequence_privilege(%(role)s, c.oid, 'USAGE'),
                       has_sequence_privilege(%(role)s, c.oid, 'SELECT'),
                       has_sequence_privilege(%(role)s, c.oid, 'UPDATE')]
            ELSE ARRAY[has_table_privilege(%(role)s, c.oid, 'SELECT'), has_table_privilege(%(role)s, c.oid, 'INSERT'),
                       has_table_privilege(%(role)s, c.oid, 'UPDATE'), has_table_privilege(%(role)s, c.oid, 'DELETE')]
       END AS privileges
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('public', 'opscheck') AND c.relkind IN ('r', 'S', 'v', 'p')
UNION ALL
SELECT n.nspname, '', 'n', pg_get_userbyid(n.nspowner),
       ARRAY[has_schema_privilege(%(role)s, n.oid, 'USAGE'), has_schema_privilege(%(role)s, n.oid, 'CREATE')]
FROM pg_namespace n WHERE n.nspname IN ('public', 'opscheck')
ORDER BY 1, 2"""

COUNTS = """
SELECT (SELECT count(*) FROM policy_decision_audit) AS decisions, (SELECT count(*) FROM signals) AS signals,
       (SELECT count(*) FROM trading_orders) AS orders, (SELECT count(*) FROM opscheck.secret_rotations) AS rotations,
       (SELECT count(*) FROM opscheck.ops_audit_inception) AS inception,
       extract(epoch FROM now() - (SELECT max(timestamp_utc) FROM policy_decision_audit)) AS newest_age_s"""


@pytest.fixture
def made(server: postgres.Server) -> Iterator[list[postgres.Database]]:
    dbs: list[postgres.Database] = []
    yield dbs
    for db in dbs:
        postgres.drop_database(db)


def _seeded_templates(server: postgres.Server) -> list[str]:
    with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s) ORDER BY 1", (postgres.SEEDED_PREFIX,)
        )
        return [r[0] for r in rows.fetchall()]


def _read(db: postgres.Database, query: str) -> list[dict[str, Any]]:
    with psycopg.connect(db.admin_db_dsn, autocommit=True) as conn:
        cur = conn.execute(query, {"role": db.user})
        names = [d.name for d in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_a_copy_has_what_a_database_seeded_on_its_own_has(
    server: postgres.Server, made: list[postgres.Database]
) -> None:
    copy = postgres.create_database(server)
    made.append(copy)
    own = postgres.create_database(server, seed=False)
    made.append(own)
    postgres.apply_sql_files(own.admin_db_dsn, [postgres.SEED])  # the seed applied as before the seeded template
    assert _seeded_templates(server)  # the copy came from one
    shape_copy, shape_own = _read(copy, SHAPE), _read(own, SHAPE)
    assert shape_copy == shape_own and len(shape_copy) > 20
    counts_copy, counts_own = _read(copy, COUNTS)[0], _read(own, COUNTS)[0]
    newest_copy, newest_own = float(counts_copy.pop("newest_age_s")), float(counts_own.pop("newest_age_s"))
    assert counts_copy == counts_own and counts_copy["decisions"] > 1400
    # generous: the template is at most SEEDED_MAX_AGE_S older; the seed's newest decision is a minute old
    assert newest_own <= newest_copy < newest_own + postgres.SEEDED_MAX_AGE_S + 120
    with psycopg.connect(copy.app_dsn, autocommit=True) as conn:  # the session's login role works on the copy
        conn.execute(
            "INSERT INTO policy_decision_audit (correlation_id, policy_decision, reason_code, context_snapshot) "
            "VALUES (gen_random_uuid(), 'ALLOW', 'ALLOW_ALL_GATES_PASSED', '{}')"
        )
        assert conn.execute("SELECT count(*) FROM opscheck.secret_rotations").fetchone() == (5,)


def test_a_session_s_changes_never_reach_the_next_copy(server: postgres.Server, made: list[postgres.Database]) -> None:
    first = postgres.create_database(server)
    made.append(first)
    with psycopg.connect(first.admin_db_dsn, autocommit=True) as conn:  # a fault's kind of damage
        conn.execute("SET session_replication_role = replica; DELETE FROM policy_decision_audit")
        conn.execute("DELETE FROM opscheck.secret_rotations")
    second = postgres.create_database(server)
    made.append(second)
    counts = _read(second, COUNTS)[0]
    assert counts["decisions"] > 1400 and counts["rotations"] == 5
    with psycopg.connect(server.admin_dsn, autocommit=True) as conn:  # nobody can connect to a seeded template
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s) AND (datallowconn OR NOT datistemplate)",
            (postgres.SEEDED_PREFIX,),
        )
        assert rows.fetchall() == []


def test_a_stale_template_is_replaced_and_an_unseeded_database_stays_empty(
    server: postgres.Server, made: list[postgres.Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    made.append(postgres.create_database(server))
    before = _seeded_templates(server)
    monkeypatch.setattr(postgres, "SEEDED_MAX_AGE_S", 0.0)  # every template is now too old to copy
    made.append(postgres.create_database(server))
    after = _seeded_templates(server)
    assert set(after) - set(before)  # a new one was seeded
    monkeypatch.setattr(postgres, "SEEDED_DROP_AFTER_S", 0.0)
    made.append(postgres.create_database(server))
    assert len(_seeded_templates(server)) == 1  # the stale ones dropped when the next was made
    bare = postgres.create_database(server, seed=False)
    made.append(bare)
    assert _read(bare, COUNTS)[0]["decisions"] == 0
