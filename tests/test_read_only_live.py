"""A read-only live run (no ``--allow-mutations``, no sign-off) sends nothing but GET and writes no row.

The live target is pointed, over real HTTP on loopback, at one recording server that stands in for the bot API,
the metrics endpoint, Grafana, the Discord webhook and VALR; its database is a real Postgres database with the
bot's schema and the suite's own tables. After ``opscheck preflight --target live`` every recorded request must be
a GET, and the content of every table of the bot's schema and of ``opscheck`` must be what it was before.
(``--operator``/``--witness`` are not passed: the sign-off row is the one documented write of a read-only run.)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from ops_checks.sandbox import postgres
from tests.preflight_runner import preflight

SECRET = "read-only-live-secret-abcdefghijklmnopqrstuvwxyz0123"
WATCHED = ("system_settings", "circuit_breaker_events", "policy_decision_audit")

# plausible answers, so checks get past their first read; everything else GET is an empty JSON object
_GET_ANSWERS: dict[str, tuple[str, bytes]] = {
    "/health": ("application/json", b'{"status": "healthy", "database": "connected", "execution_mode": "DRY_RUN"}'),
    "/guardian/status": ("application/json", b'{"system_locked": false}'),
    "/metrics": ("text/plain; version=0.0.4", b"# HELP up up\n# TYPE up gauge\nup 1\n"),
    "/api/health": ("application/json", b'{"database": "ok"}'),
    "/api/search": ("application/json", b"[]"),
}


class Recording(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Recording

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        with self.server.lock:
            self.server.requests.append((self.command, path))
        if self.command == "GET":
            ctype, body = _GET_ANSWERS.get(path, ("application/json", b"{}"))
            status = 200
        else:
            ctype, body, status = "application/json", b'{"detail": "recorded"}', 405
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _answer  # noqa: N815


@pytest.fixture
def recorder() -> Iterator[Recording]:
    srv = Recording()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


@pytest.fixture
def bot_database(shared_pg_env: dict[str, str]) -> Iterator[postgres.Database]:
    db = postgres.create_database(postgres.Server(shared_pg_env[postgres.DSN_ENV], "dsn"))
    try:
        yield db
    finally:
        postgres.drop_database(db)


def _tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_type = 'BASE TABLE' AND table_schema IN ('public', 'opscheck') ORDER BY 1, 2"
    ).fetchall()
    return [(str(s), str(n)) for s, n in rows]


def snapshot(db: postgres.Database) -> dict[str, tuple[int, str]]:
    """Row count and a digest of the content of every table of the bot's schema and of ``opscheck``."""
    out: dict[str, tuple[int, str]] = {}
    with psycopg.connect(db.admin_db_dsn, autocommit=True) as conn:
        for schema, name in _tables(conn):
            query = sql.SQL(
                "SELECT count(*), coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '') FROM {}.{} AS r"
            ).format(sql.Identifier(schema), sql.Identifier(name))
            row = conn.execute(query).fetchone()
            assert row is not None
            out[f"{schema}.{name}"] = (int(row[0]), str(row[1]))
    return out


def env_file(tmp_path: Path, db: postgres.Database, url: str) -> Path:
    lines = {
        "DB_HOST": db.host,
        "DB_PORT": db.port,
        "DB_NAME": db.name,
        "DB_USER": db.user,
        "DB_PASSWORD": db.password,
        "POSTGRES_PASSWORD": SECRET,
        "BOT_API_URL": url,
        "METRICS_URL": f"{url}/metrics",
        "GRAFANA_URL": url,
        "GRAFANA_TOKEN": SECRET,
        "VALR_BASE_URL": url,
        "VALR_API_KEY": SECRET,
        "VALR_API_SECRET": SECRET,
        "WEBHOOK_SECRET": SECRET,
        "SOVEREIGN_SECRET": SECRET,
        "GUARDIAN_ADMIN_TOKEN": SECRET,
        "GUARDIAN_RESET_CODE": SECRET,
        "OPENROUTER_API_KEY": SECRET,
        "DISCORD_WEBHOOK_URL": f"{url}/api/webhooks/1/{SECRET}",
        "LOG_DIR": str(tmp_path / "logs"),
        "EXECUTION_MODE": "DRY_RUN",
        "MAX_ORDER_ZAR": "5000",
        "MAX_RISK_ZAR": "5000",
        "ZAR_FLOOR": "20000",
    }
    (tmp_path / "logs").mkdir(exist_ok=True)
    path = tmp_path / "live.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
    return path


@pytest.mark.slow
def test_read_only_live_run_sends_only_get_and_writes_nothing(
    tmp_path: Path, recorder: Recording, bot_database: postgres.Database, shared_pg_env: dict[str, str]
) -> None:
    before = snapshot(bot_database)
    assert all(f"public.{t}" in before for t in WATCHED), sorted(before)
    assert any(k.startswith("opscheck.") for k in before), sorted(before)

    run = preflight(
        tmp_path / "r",
        "--target",
        "live",
        "--env-file",
        str(env_file(tmp_path, bot_database, recorder.url)),
        "--no-html",
        env=shared_pg_env,
        timeout=300,
    )

    assert run.verdict is not None, run.output[-3000:]
    assert "Traceback" not in run.output, run.output[-3000:]
    assert recorder.requests, "the live run sent no request at all: the recording server was not used"
    not_get = sorted({f"{m} {p}" for m, p in recorder.requests if m != "GET"})
    assert not not_get, f"a read-only live run sent {not_get}"
    after = snapshot(bot_database)
    changed = {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert not changed, f"a read-only live run changed {json.dumps(sorted(changed))}"
    # the mutating items were skipped as not verified, so the read-only run cannot be GO
    by_id = {i["id"]: i for i in run.verdict["items"]}
    assert by_id["4.4.2"]["status"] == "not_verified" and "allow-mutations" in by_id["4.4.2"]["reason"]
    assert run.verdict["verdict"] == "NO-GO"
