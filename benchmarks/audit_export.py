"""Benchmark: `opscheck audit export` against `psql \\copy … | sha256sum` at the scale of years of audit data.

Not a timed test. Creates a database with the reference schema (the model of TRADE_BOT's migrations) on the
server named by ``OPSCHECK_SANDBOX_DSN`` (the database is dropped at the end), or else on a fresh local cluster
(``ops_checks.sandbox.postgres.start_server``), and generates with set-based SQL (``generate_series``), over the
last 365 days:

* N ``policy_decision_audit`` rows (``--decisions``), one every 365 d / N, within the table's CHECKs: mostly
  ALLOW / ALLOW_ALL_GATES_PASSED (no blocking gate, no precedence rank), with NEUTRAL_HEALTH_YELLOW/RED (HEALTH, 3),
  HALT_KILL_SWITCH (KILL_SWITCH, 1), HALT_BUDGET_HARD_STOP (BUDGET, 2) and HALT_RISK_CRITICAL (RISK, 4) mixed in;
  ai_confidence 0.50–0.99; a jsonb context snapshot matching the decision;
* M ``signals`` and M ``trading_orders`` (``--orders``): order j and its signal share the uuid ``correlation_id``
  of ALLOW-able decision j·(N/M) (the FK trading_orders → signals holds); the signal 1 s before the decision, the
  order 1 s after; 90 % DRY_RUN / MOCK_FILLED, 10 % LIVE / FILLED, realized_pnl_zar −10…+10;
* 10 orphan trades in the last 10 days: a signal and an order, no policy decision (what §7.5.3 looks for).

The other exported tables stay empty (headers only). Correlation ids are deterministic uuids built from the row
number, so runs are reproducible. Bulk load: the three tables' user triggers (``compute_row_hash``: per row, under an
advisory lock; ``validate_decimal_input``; the append-only guards) are disabled for the load (``ALTER TABLE …
DISABLE TRIGGER USER``, as the database owner; foreign keys stay checked) and re-enabled after; their non-constraint
indexes are dropped first and rebuilt after (as a restore would). ``row_hash`` is then a valid 64-hex-digit SHA-256
of the row's number, NOT a hash chain: this benchmark measures export throughput and never verifies chains
(``verify_chain_integrity`` would report these tables as broken).

Then, in one run and on the same range, interleaved for ``--rounds`` rounds:

* ``psql -X -c "\\copy (same query) TO STDOUT WITH CSV HEADER" | sha256sum`` for each table (no file written);
* ``opscheck audit export`` in a subprocess (the real CLI: files on disk, fsync'd, SHA-256, manifest, rename),
  its wall time, throughput and peak RSS (``os.wait4`` rusage of that process);
* the SHA-256 of every exported file compared with psql's (the bytes must be identical);
* the §7.5 integrity queries (orphan trades, missing days, gaps) timed with the schema's indexes.

Usage (the default takes several minutes and ~3 GB of disk per export copy):
    nice -n 10 .venv/bin/python -m benchmarks.audit_export [--decisions 10000000] [--orders 1000000] [--rounds 2]
Smoke run: ``--decisions 200000 --orders 20000 --rounds 1``.
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

from ops_checks.checks.s7_audit import audit_integrity
from ops_checks.procedures.audit_export import AUDIT_TABLES, copy_statement
from ops_checks.sandbox import postgres

REPO = Path(__file__).resolve().parents[1]
LOADED = ("signals", "policy_decision_audit", "trading_orders")  # in load order (the FK needs signals first)
N_ORPHANS = 10

# Deterministic uuids from a row number: decisions (and the signals/orders correlated to them) 4000-8000-…,
# orphan signals/orders 4000-9000-… (no decision has those).
DECISION_UUID = "('00000000-0000-4000-8000-' || lpad(to_hex({i}), 12, '0'))::uuid"
ORPHAN_UUID = "('00000000-0000-4000-9000-' || lpad(to_hex({i}), 12, '0'))::uuid"
ROW_HASH = "encode(sha256(convert_to('{tag}:' || {i}, 'UTF8')), 'hex')"  # 64 hex digits; not a chain

# Decision kinds: (kind, decision, reason code, blocking gate, precedence rank, context snapshot), as the bot
# records them (ops_checks.sandbox.bot.to_recorded). Kind 0 is ALLOW.
DECISION_KINDS = """
(VALUES (0, 'ALLOW', 'ALLOW_ALL_GATES_PASSED', NULL, NULL, false, 'ALLOW', 'GREEN', 'HEALTHY'),
        (1, 'HALT', 'HALT_KILL_SWITCH', 'KILL_SWITCH', 1, true, 'ALLOW', 'GREEN', 'HEALTHY'),
        (2, 'HALT', 'HALT_BUDGET_HARD_STOP', 'BUDGET', 2, false, 'HARD_STOP', 'GREEN', 'HEALTHY'),
        (3, 'NEUTRAL', 'NEUTRAL_HEALTH_YELLOW', 'HEALTH', 3, false, 'ALLOW', 'YELLOW', 'HEALTHY'),
        (4, 'NEUTRAL', 'NEUTRAL_HEALTH_RED', 'HEALTH', 3, false, 'ALLOW', 'RED', 'HEALTHY'),
        (5, 'HALT', 'HALT_RISK_CRITICAL', 'RISK', 4, false, 'ALLOW', 'GREEN', 'CRITICAL'))
    AS k0(kind, policy_decision, reason_code, blocking_gate, precedence_rank, kill, budget, health, risk)
"""

# One signal per correlated order (order j ↔ decision j·every), 1 s before the decision; then the orphans' signals.
SIGNALS_SQL = f"""
INSERT INTO signals (correlation_id, signal_id, symbol, side, price, quantity, raw_payload, source_ip, hmac_verified,
                     row_hash, created_at)
SELECT {DECISION_UUID.format(i="j * %(every)s")}, 'BMS-' || j, 'BTCZAR',
       CASE WHEN j %% 2 = 0 THEN 'BUY' ELSE 'SELL' END, 1250000.0000000000 + (j %% 1000) * 100, 0.0001000000,
       jsonb_build_object('symbol', 'BTCZAR', 'source', 'benchmark', 'n', j), '10.0.0.7'::inet, true,
       {ROW_HASH.format(tag="s", i="j")},
       %(start)s::timestamptz + make_interval(secs => j * %(every)s * %(step)s - 1)
FROM generate_series(0, %(n)s - 1) AS j
UNION ALL
SELECT {ORPHAN_UUID.format(i="o")}, 'BMS-ORPHAN-' || o, 'BTCZAR', 'BUY', 1250000.0000000000, 0.0001000000,
       jsonb_build_object('symbol', 'BTCZAR', 'source', 'benchmark orphan', 'n', o), '10.0.0.7'::inet, true,
       {ROW_HASH.format(tag="so", i="o")}, now() - make_interval(days => o, secs => 1)
FROM generate_series(1, {N_ORPHANS}) AS o
"""

DECISIONS_SQL = f"""
INSERT INTO policy_decision_audit (correlation_id, timestamp_utc, policy_decision, reason_code, blocking_gate,
                                   precedence_rank, context_snapshot, ai_confidence, is_latched, row_hash, created_at)
SELECT {DECISION_UUID.format(i="i")}, ts, k.policy_decision, k.reason_code, k.blocking_gate, k.precedence_rank,
       k.context_snapshot, (0.5 + (i %% 50) / 100.0)::numeric(5, 4), false, {ROW_HASH.format(tag="d", i="i")},
       ts
FROM generate_series(0, %(n)s - 1) AS i
CROSS JOIN LATERAL (
    SELECT %(start)s::timestamptz + make_interval(secs => i * %(step)s) AS ts,
           CASE WHEN i %% %(every)s = 0 THEN 0  -- a decision an order follows is an ALLOW
                WHEN i %% 1000 = 999 THEN 1 WHEN i %% 500 = 251 THEN 2 WHEN i %% 50 = 17 THEN 3
                WHEN i %% 200 = 133 THEN 4 WHEN i %% 250 = 101 THEN 5 ELSE 0 END AS kind
) AS c
JOIN (SELECT k0.*, jsonb_build_object('kill_switch_active', kill, 'budget_signal', budget, 'health_status', health,
                                       'risk_assessment', risk) AS context_snapshot
      FROM {DECISION_KINDS}) AS k USING (kind)
"""

ORDERS_SQL = f"""
INSERT INTO trading_orders (correlation_id, order_id, pair, side, quantity, requested_price, execution_price,
                            avg_fill_price, filled_qty, zar_value, slippage_pct, status, reconciliation_status, is_mock,
                            is_simulated, execution_mode, valr_order_id, execution_time_ms, realized_pnl_zar, row_hash,
                            created_at)
SELECT s.correlation_id, CASE WHEN live THEN 'LIVE-' ELSE 'DRY-' END || s.id, 'BTCZAR', s.side, s.quantity, s.price,
       s.price, s.price, s.quantity, round(s.price * s.quantity, 2), 0.000000,
       CASE WHEN live THEN 'FILLED' ELSE 'MOCK_FILLED' END, CASE WHEN live THEN 'FILLED' ELSE 'MOCK_FILLED' END,
       NOT live, NOT live, CASE WHEN live THEN 'LIVE' ELSE 'DRY_RUN' END,
       CASE WHEN live THEN 'valr-' || s.id END, 40 + mod(s.id, 200), (mod(s.id, 21) - 10)::numeric(28, 2),
       {ROW_HASH.format(tag="o", i="s.id")}, s.created_at + interval '2 seconds'
FROM (SELECT s.*, mod(s.id, 10) = 1 AS live FROM signals s) AS s
ORDER BY s.id
"""

INDEX_DEFS = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = ANY (%s::regclass[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
"""
FULL_ORPHANS = """
SELECT count(*) AS orphans FROM trading_orders t
WHERE NOT EXISTS (SELECT 1 FROM policy_decision_audit p WHERE p.correlation_id = t.correlation_id)
"""


def log(msg: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {msg}", flush=True)


def generate(db: postgres.Database, decisions: int, orders: int, start: datetime) -> None:
    """Fill signals, policy_decision_audit and trading_orders (see the module docstring), then index and analyze."""
    step = 365 * 86400 / decisions
    every = max(decisions // max(orders, 1), 1)
    params = {"start": start, "step": step, "every": every}
    with psycopg.connect(db.admin_db_dsn, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET synchronous_commit = off")
        indexes = conn.execute(INDEX_DEFS, (list(LOADED),)).fetchall()
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")  # bulk load first, index after (as a restore would)
        for table in LOADED:
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        try:
            t0 = time.perf_counter()
            conn.execute(SIGNALS_SQL, params | {"n": orders})
            log(f"{orders} signals (+{N_ORPHANS} for orphans) in {time.perf_counter() - t0:.0f} s")
            t0 = time.perf_counter()
            conn.execute(DECISIONS_SQL, params | {"n": decisions})
            log(f"{decisions} decisions in {time.perf_counter() - t0:.0f} s")
            t0 = time.perf_counter()
            conn.execute("ANALYZE signals")
            conn.execute(ORDERS_SQL)
            log(f"{orders} orders (+{N_ORPHANS} orphans) in {time.perf_counter() - t0:.0f} s")
        finally:
            for table in LOADED:
                conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        t0 = time.perf_counter()
        for _, ddl in indexes:
            conn.execute(ddl)
        for table in LOADED:
            conn.execute(f"VACUUM ANALYZE {table}")
        log(f"{len(indexes)} indexes + vacuum analyze in {time.perf_counter() - t0:.0f} s")


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
    if not 0 < args.orders <= args.decisions:
        ap.error("--orders must be between 1 and --decisions")
    server = postgres.start_server()  # OPSCHECK_SANDBOX_DSN's server if set, else a fresh local cluster
    log(f"server: {server.kind}")
    db: postgres.Database | None = None
    try:
        db = postgres.create_database(server, seed=False)
        log(f"database {db.name}")
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
        if db is not None:
            postgres.drop_database(db)
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
