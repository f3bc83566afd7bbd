"""Benchmark: `opscheck audit export` against `psql \\copy … | sha256sum` at the scale of years of audit data.

Not a timed test. Builds a fresh local Postgres cluster (ops_checks.sandbox.postgres.start_server), loads the
reference schema, generates N policy decisions over the last 365 days and N/10 trading orders (each correlated to
a decision, plus 10 orphans), then, in one run and on the same range:

* ``opscheck audit export`` in a subprocess (the real CLI: files on disk, fsync'd, SHA-256, manifest, rename),
  its wall time, throughput and peak RSS (``os.wait4`` rusage of that process);
* ``psql -X -c "\\copy (same query) TO STDOUT WITH CSV HEADER" | sha256sum`` for each table (no file written);
* the SHA-256 of every exported file compared with psql's (the bytes must be identical);
* the §7.5 integrity queries (orphan trades, missing days, gaps) timed with the schema's indexes.

Usage (takes a few minutes, ~3 GB of disk per export copy):
    nice -n 10 .venv/bin/python -m benchmarks.audit_export [--decisions 10000000] [--orders 1000000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

from ops_checks import audit_integrity
from ops_checks.audit_export import AUDIT_TABLES, copy_statement
from ops_checks.sandbox import postgres

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = (
    '{"kill_switch_active": false, "budget_signal": "ALLOW", "health_status": "GREEN", "risk_assessment": "HEALTHY"}'
)

DECISIONS_SQL = """
INSERT INTO policy_decision_audit (correlation_id, timestamp_utc, policy_decision, reason_code, context_snapshot,
                                   is_latched, ai_confidence)
SELECT 'BM-' || i,
       %(start)s::timestamptz + make_interval(secs => i * %(step)s),
       CASE WHEN i %% 50 = 0 THEN 'HALT' WHEN i %% 20 = 0 THEN 'NEUTRAL' ELSE 'ALLOW' END,
       CASE WHEN i %% 50 = 0 THEN 'HALT_KILL_SWITCH' WHEN i %% 20 = 0 THEN 'NEUTRAL_HEALTH_DEGRADED'
            ELSE 'ALL_GATES_PASSED' END,
       %(snapshot)s::jsonb, false, (50 + i %% 50)::numeric(5, 2)
FROM generate_series(0, %(n)s - 1) AS i
"""
ORDERS_SQL = """
INSERT INTO trading_orders (order_id, correlation_id, symbol, side, quantity, price, status, pnl_zar,
                            execution_mode, created_at)
SELECT 'BMO-' || i, 'BM-' || (i * %(every)s), 'BTCZAR', CASE WHEN i %% 2 = 0 THEN 'BUY' ELSE 'SELL' END,
       0.0001000000, 1250000.0000000000, 'FILLED', ((i %% 21) - 10)::numeric(20, 2), 'DRY_RUN',
       %(start)s::timestamptz + make_interval(secs => i * %(every)s * %(step)s + 1)
FROM generate_series(0, %(n)s - 1) AS i
"""
ORPHANS_SQL = """
INSERT INTO trading_orders (order_id, correlation_id, symbol, side, quantity, status, pnl_zar, created_at)
SELECT 'BM-ORPHAN-' || i, 'NO-DECISION-' || i, 'BTCZAR', 'BUY', 0.0001, 'FILLED', 0, now() - make_interval(days => i)
FROM generate_series(1, 10) AS i
"""
INDEXES = (
    "CREATE INDEX IF NOT EXISTS policy_decision_audit_timestamp_idx ON policy_decision_audit (timestamp_utc)",
    "CREATE INDEX IF NOT EXISTS policy_decision_audit_correlation_idx ON policy_decision_audit (correlation_id)",
    "CREATE INDEX IF NOT EXISTS trading_orders_created_at_idx ON trading_orders (created_at)",
    "CREATE INDEX IF NOT EXISTS trading_orders_correlation_idx ON trading_orders (correlation_id)",
)
FULL_ORPHANS = """
SELECT count(*) AS orphans FROM trading_orders t
WHERE NOT EXISTS (SELECT 1 FROM policy_decision_audit p WHERE p.correlation_id = t.correlation_id)
"""


def log(msg: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {msg}", flush=True)


def generate(db: postgres.Database, decisions: int, orders: int, start: datetime) -> None:
    step = 365 * 86400 / decisions
    every = max(decisions // orders, 1)
    with psycopg.connect(db.admin_db_dsn, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for name in (
            "policy_decision_audit_timestamp_idx",
            "policy_decision_audit_correlation_idx",
            "trading_orders_created_at_idx",
            "trading_orders_correlation_idx",
        ):
            conn.execute(f"DROP INDEX IF EXISTS {name}")  # bulk load first, index after (as a restore would)
        t0 = time.perf_counter()
        conn.execute(DECISIONS_SQL, {"start": start, "step": step, "snapshot": SNAPSHOT, "n": decisions})
        log(f"{decisions} decisions in {time.perf_counter() - t0:.0f} s")
        t0 = time.perf_counter()
        conn.execute(ORDERS_SQL, {"start": start, "step": step, "every": every, "n": orders})
        conn.execute(ORPHANS_SQL)
        log(f"{orders} orders (+10 orphans) in {time.perf_counter() - t0:.0f} s")
        t0 = time.perf_counter()
        for ddl in INDEXES:
            conn.execute(ddl)
        conn.execute("VACUUM ANALYZE policy_decision_audit")
        conn.execute("VACUUM ANALYZE trading_orders")
        log(f"indexes + vacuum analyze in {time.perf_counter() - t0:.0f} s")


def app_env(db: postgres.Database) -> dict[str, str]:
    return dict(
        os.environ,
        DB_HOST=db.host,
        DB_PORT=str(db.port),
        DB_NAME=db.name,
        DB_USER=db.user,
        DB_PASSWORD=db.password,
        PGPASSWORD=db.password,
    )


def run_measured(argv: list[str], env: dict[str, str], shell: bool = False) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (KiB) of that process (for a shell: its largest child), stdout."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, shell=shell)
    out, err = b"", b""
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{argv if not shell else argv[0][:200]} failed ({proc.returncode}): {err.decode()[-800:]}")
    return elapsed, usage.ru_maxrss, out.decode()


def ours(db: postgres.Database, start: datetime, end: datetime, workdir: Path) -> dict[str, object]:
    out = workdir / "export"
    argv = [
        sys.executable,
        "-m",
        "ops_checks.cli",
        "audit",
        "export",
        "--from",
        start.isoformat(),
        "--to",
        end.isoformat(),
        "--out",
        str(out),
        "--operator",
        "benchmark",
    ]
    elapsed, rss_kib, _ = run_measured(argv, app_env(db))
    files = {t.filename: out / t.filename for t in AUDIT_TABLES}
    sizes = sum(p.stat().st_size for p in files.values())
    sums = {}
    for line in (out / "CHECKSUMS.sha256").read_text().splitlines():
        digest, name = line.split("  ", 1)
        sums[name] = digest
    rows = 0
    for line in (out / "MANIFEST.txt").read_text().splitlines():
        if " rows=" in line:
            rows += int(line.split(" rows=")[1].split()[0])
    shutil.rmtree(out)
    return {"seconds": elapsed, "rss_mib": rss_kib / 1024, "bytes": sizes, "rows": rows, "sha256": sums}


def psql_pipeline(db: postgres.Database, start: datetime, end: datetime) -> dict[str, object]:
    psql = shutil.which("psql") or str((postgres.find_bindir() or Path("/usr/bin")) / "psql")
    sums: dict[str, str] = {}
    total = 0.0
    peak = 0
    with psycopg.connect(db.admin_db_dsn) as conn:
        queries = {t.filename: copy_statement(t).as_string(conn) for t in AUDIT_TABLES}
    for table in AUDIT_TABLES:
        inner = queries[table.filename].removeprefix("COPY ").split(" TO STDOUT")[0]
        inner = inner.replace("%s", "'{}'", 2).format(start.isoformat(), end.isoformat())
        copy = f"\\copy {inner} TO STDOUT WITH CSV HEADER"
        conninfo = conninfo_to_dict(db.app_dsn)
        cmd = (
            f"{psql} -X -q -h {conninfo['host']} -p {conninfo['port']} -U {conninfo['user']} -d {conninfo['dbname']}"
            f' -c "$COPY_CMD" | sha256sum'
        )
        env = app_env(db) | {"COPY_CMD": copy, "PGOPTIONS": "-c TimeZone=UTC -c DateStyle=ISO,YMD"}
        elapsed, rss_kib, out = run_measured([cmd], env, shell=True)
        total += elapsed
        peak = max(peak, rss_kib)
        sums[table.filename] = out.split()[0]
    return {"seconds": total, "rss_mib": peak / 1024, "sha256": sums}


def time_query(db: postgres.Database, label: str, query: str, params: dict[str, object]) -> tuple[str, float, object]:
    options = "-c statement_timeout=5000 -c TimeZone=UTC"  # the checks' own 5 s statement timeout
    with psycopg.connect(db.app_dsn, options=options) as conn:
        t0 = time.perf_counter()
        rows = conn.execute(query, params).fetchall()  # type: ignore[arg-type]
        return label, time.perf_counter() - t0, len(rows) if len(rows) != 1 else rows[0][0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--decisions", type=int, default=10_000_000)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    if os.environ.pop(postgres.DSN_ENV, None):
        log(f"ignoring {postgres.DSN_ENV}: the benchmark uses a fresh local cluster")
    server = postgres.start_server()
    log(f"server: {server.kind}")
    try:
        db = postgres.create_database(server, seed=False)
        end = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        start = end - timedelta(days=366)
        generate(db, args.decisions, args.orders, end - timedelta(days=365, minutes=1))
        with psycopg.connect(db.admin_db_dsn) as conn:
            size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()
        log(f"database size {size[0] if size else '?'}; export range {start:%Y-%m-%d} to {end:%Y-%m-%d}")
        workdir = Path(tempfile.mkdtemp(prefix="opscheck-bench-"))
        try:
            results = []
            for r in range(args.rounds):
                p = psql_pipeline(db, start, end)
                log(f"round {r + 1}: psql | sha256sum  {p['seconds']:.1f} s")
                o = ours(db, start, end, workdir)
                log(f"round {r + 1}: opscheck export   {o['seconds']:.1f} s, peak RSS {o['rss_mib']:.0f} MiB")
                differ = [t.filename for t in AUDIT_TABLES if o["sha256"][t.filename] != p["sha256"][t.filename]]  # type: ignore[index]
                if differ:
                    raise SystemExit(f"opscheck and psql produced different bytes for {differ}")
                results.append((p, o))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        queries = [
            time_query(
                db,
                "7.5.3 orphan trades, last 30 days (the check's query)",
                audit_integrity.ORPHANS,
                {"days": 30, "limit": 500},
            ),
            time_query(db, "orphan trades, all 365 days (count)", FULL_ORPHANS, {}),
            time_query(db, "7.5.1 decisions per day, last 30 days", audit_integrity.DAILY, {"days": 30}),
            time_query(db, "7.5.2 gaps, last 30 days", audit_integrity.GAPS, {"days": 30, "max_gap": 300}),
        ]
        report(args, results, queries)
    finally:
        server.stop()


def report(args: argparse.Namespace, results: list, queries: list) -> None:
    print()
    print(f"decisions={args.decisions} orders={args.orders} rounds={args.rounds} cpus={os.cpu_count()}")
    print("| round | tool | seconds | MB/s | rows/s | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    for i, (p, o) in enumerate(results, 1):
        mb = o["bytes"] / 1e6
        for name, r in (("psql \\copy \\| sha256sum", p), ("opscheck audit export", o)):
            print(
                f"| {i} | {name} | {r['seconds']:.1f} | {mb / r['seconds']:.1f} | {o['rows'] / r['seconds']:,.0f} |"
                f" {r['rss_mib']:.0f} |"
            )
    best_p = min(p["seconds"] for p, _ in results)
    best_o = min(o["seconds"] for _, o in results)
    o = results[0][1]
    print(f"\nbytes exported: {o['bytes']:,} ({o['rows']:,} rows); identical SHA-256 to psql for every table")
    paired = sorted(p["seconds"] / o["seconds"] for p, o in results)
    print(f"throughput ratio (best of rounds, psql time / ours): {best_p / best_o:.2f} (target >= 0.9)")
    print(f"per-round ratios {', '.join(f'{r:.2f}' for r in paired)}; median {paired[len(paired) // 2]:.2f}")
    print(f"peak RSS of the exporting process: {max(o['rss_mib'] for _, o in results):.0f} MiB (target <= 150)")
    print("\n| query | seconds | result |")
    print("|---|---|---|")
    for label, secs, value in queries:
        print(f"| {label} | {secs:.3f} | {value} |")


if __name__ == "__main__":
    main()
