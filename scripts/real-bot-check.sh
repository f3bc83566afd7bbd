#!/usr/bin/env bash
# Run the live preflight against the REAL trading bot (GitHub Herman940306/TRADE_BOT), started locally.
#
#   TRADE_BOT_DIR=/path/to/TRADE_BOT scripts/real-bot-check.sh
#
# 1. a throwaway database on a Postgres server (OPSCHECK_SANDBOX_DSN, else a local cluster as the sandbox starts
#    one), built from the bot's own database/migrations/*.sql in lexical order (stop on error); the bot connects
#    as a login role that is a member of app_trading (the role its migrations grant, and .env.example's DB_USER);
# 2. the bot's app (app.main:app, uvicorn) on 127.0.0.1 in a venv with its requirements.txt, with outbound
#    traffic disabled: HTTP(S)_PROXY/ALL_PROXY point at a closed port (VALR's URL is hard-coded in the bot);
# 3. `opscheck init` (the suite's schema), then `opscheck preflight --target live --env-file <generated>` (read-only) and the verdict with every failing
#    item's reason.
# Everything is removed on exit. Exit code: the preflight's (0 GO, 1 NO-GO, 2 could not run); 2 also when the
# bot could not be installed or started (the reason is printed).
#
# Settings: OPSCHECK_REAL_BOT_WORK (venv and logs, default /tmp/opscheck-real-bot), REAL_BOT_PORT (default: free),
# REAL_BOT_PIP_TIMEOUT (default 900 s), PYTHON (default python3), REAL_BOT_AS (app_trading, the default, or superuser:
# as docker-compose.prod.yml's POSTGRES_USER), REAL_BOT_PREFLIGHT_ARGS (e.g. --allow-mutations).
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
: "${TRADE_BOT_DIR:?set TRADE_BOT_DIR to a checkout of Herman940306/TRADE_BOT}"
TRADE_BOT_DIR="$(cd "$TRADE_BOT_DIR" && pwd)"
WORK="${OPSCHECK_REAL_BOT_WORK:-/tmp/opscheck-real-bot}"
PY="${PYTHON:-python3}"
OPS_PY="$REPO/.venv/bin/python"
[ -x "$OPS_PY" ] || OPS_PY="$PY"
mkdir -p "$WORK"
RUN="$(mktemp -d "$WORK/run.XXXXXX")"
say() { printf 'real-bot-check: %s\n' "$*"; }
die() { say "cannot run: $*" >&2; exit 2; }

[ -d "$TRADE_BOT_DIR/database/migrations" ] || die "$TRADE_BOT_DIR has no database/migrations"
[ -f "$TRADE_BOT_DIR/requirements.txt" ] || die "$TRADE_BOT_DIR has no requirements.txt"

# --- 1. the bot's venv (reused while requirements.txt is unchanged)
VENV="$WORK/venv"
STAMP="$VENV/.requirements.sha256"
WANT="$(sha256sum "$TRADE_BOT_DIR/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
    say "installing the bot's requirements into $VENV (pip; log $WORK/pip.log)"
    "$PY" -m venv "$VENV" || die "python -m venv failed"
    if ! timeout "${REAL_BOT_PIP_TIMEOUT:-900}" "$VENV/bin/pip" install -q -r "$TRADE_BOT_DIR/requirements.txt" \
            >"$WORK/pip.log" 2>&1; then
        die "pip install -r requirements.txt failed or timed out: $(tail -n 1 "$WORK/pip.log")"
    fi
    echo "$WANT" >"$STAMP"
fi

# --- 2. database from the bot's own migrations
PORT="${REAL_BOT_PORT:-$("$OPS_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
CLOSED="$("$OPS_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
say "applying $TRADE_BOT_DIR/database/migrations to a throwaway database"
cd "$REPO"
"$OPS_PY" - "$TRADE_BOT_DIR/database/migrations" "$RUN/db.env" <<'PY' || die "the bot's migrations could not be applied (above)"
import json, os, secrets, sys
from pathlib import Path
from psycopg import sql
import psycopg
from psycopg.conninfo import conninfo_to_dict
sys.path.insert(0, ".")
from ops_checks.sandbox import postgres

server = postgres.start_server()
tag = secrets.token_hex(4)
name, role, password = f"autonomous_alpha_real_{tag}", f"app_trading_real_{tag}", secrets.token_urlsafe(24)
with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'autonomous_alpha'").fetchone():
        name = "autonomous_alpha"  # the migrations GRANT CONNECT ON DATABASE autonomous_alpha
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
admin = conninfo_to_dict(server.admin_dsn)
admin_db = dict(admin, dbname=name)
try:
    postgres.apply_sql_files(psycopg.conninfo.make_conninfo(**admin_db), postgres.migration_files(Path(sys.argv[1])))
    with psycopg.connect(psycopg.conninfo.make_conninfo(**admin_db), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'app_trading'").fetchone():
            conn.execute("CREATE ROLE app_trading NOLOGIN")
        # REAL_BOT_AS=superuser: the bot and the suite connect as a superuser, as docker-compose.prod.yml's
        # POSTGRES_USER does (the bot's .env then names that user); default: a member of app_trading
        superuser = os.environ.get("REAL_BOT_AS", "app_trading") == "superuser"
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN {} PASSWORD {} IN ROLE app_trading").format(
            sql.Identifier(role), sql.SQL("SUPERUSER" if superuser else "NOSUPERUSER"), sql.Literal(password)))
except postgres.ProvisionError as exc:
    postgres.drop_database_named(server.admin_dsn, name, role)
    print(f"real-bot-check: {exc}", file=sys.stderr)
    sys.exit(1)
Path(sys.argv[2]).write_text(json.dumps({
    "admin_dsn": server.admin_dsn, "kind": server.kind, "name": name, "role": role, "password": password,
    "host": str(admin.get("host", "127.0.0.1")), "port": str(admin.get("port", 5432)),
    "admin_user": str(admin.get("user", "postgres")), "admin_password": str(admin.get("password") or ""),
}))
print(f"real-bot-check: database {name}, bot role {role} (member of app_trading"
      f"{', SUPERUSER' if os.environ.get('REAL_BOT_AS') == 'superuser' else ''})")
if server.kind != "dsn":
    print("real-bot-check: note: a local cluster was started for this run; set OPSCHECK_SANDBOX_DSN to reuse one",
          file=sys.stderr)
PY
db() { "$OPS_PY" -c "import json,sys; print(json.load(open('$RUN/db.env'))[sys.argv[1]])" "$1"; }
DB_NAME="$(db name)"; DB_USER="$(db role)"; DB_PASSWORD="$(db password)"; DB_HOST="$(db host)"; DB_PORT="$(db port)"

BOT_PID=""
cleanup() {
    [ -n "$BOT_PID" ] && kill "$BOT_PID" 2>/dev/null && wait "$BOT_PID" 2>/dev/null || true
    [ -n "${VALR_PID:-}" ] && kill "$VALR_PID" 2>/dev/null && wait "$VALR_PID" 2>/dev/null || true
    (cd "$REPO" && "$OPS_PY" -c "
import json; from ops_checks.sandbox import postgres
d = json.load(open('$RUN/db.env')); postgres.drop_database_named(d['admin_dsn'], d['name'], d['role'])" || true)
}
trap cleanup EXIT

# --- 3. the bot, on loopback, with no way out
rnd() { "$OPS_PY" -c 'import secrets; print(secrets.token_hex(32))'; }
SOVEREIGN_SECRET="$(rnd)"; GUARDIAN_ADMIN_TOKEN="$(rnd)"; GUARDIAN_RESET_CODE="$(rnd)"
VALR_API_KEY="$(rnd)"; VALR_API_SECRET="$(rnd)"; WEBHOOK_SECRET="$(rnd)"; OPENROUTER_API_KEY="$(rnd)"
mkdir -p "$RUN/logs"
DEAD="http://127.0.0.1:$CLOSED"
say "starting the bot: uvicorn app.main:app on 127.0.0.1:$PORT (outbound traffic to $DEAD)"
(
    cd "$TRADE_BOT_DIR"
    exec env -i PATH="$VENV/bin:/usr/bin:/bin" HOME="$RUN" PYTHONPATH="$TRADE_BOT_DIR" \
        HTTP_PROXY="$DEAD" HTTPS_PROXY="$DEAD" ALL_PROXY="$DEAD" http_proxy="$DEAD" https_proxy="$DEAD" \
        all_proxy="$DEAD" NO_PROXY="127.0.0.1,localhost" no_proxy="127.0.0.1,localhost" \
        DB_HOST="$DB_HOST" DB_PORT="$DB_PORT" DB_NAME="$DB_NAME" DB_USER="$DB_USER" DB_PASSWORD="$DB_PASSWORD" \
        SOVEREIGN_SECRET="$SOVEREIGN_SECRET" GUARDIAN_ADMIN_TOKEN="$GUARDIAN_ADMIN_TOKEN" \
        GUARDIAN_RESET_CODE="$GUARDIAN_RESET_CODE" VALR_API_KEY="$VALR_API_KEY" VALR_API_SECRET="$VALR_API_SECRET" \
        OPENROUTER_API_KEY="$OPENROUTER_API_KEY" EXECUTION_MODE=DRY_RUN LIVE_TRADING_CONFIRMED=FALSE \
        KILL_SWITCH_ENABLED=true BUDGETGUARD_STRICT_MODE=true ZAR_FLOOR=1000 MAX_ORDER_ZAR=100 MAX_RISK_ZAR=500 \
        DISCORD_WEBHOOK_URL="$DEAD/discord" \
        "$VENV/bin/python" -m uvicorn app.main:app --host 127.0.0.1 --port "$PORT"
) >"$RUN/logs/bot.log" 2>&1 &
BOT_PID=$!
for _ in $(seq 1 60); do
    if ! kill -0 "$BOT_PID" 2>/dev/null; then
        die "the bot exited during start-up: $(grep -v '^\s*$' "$RUN/logs/bot.log" | tail -n 1)"
    fi
    "$OPS_PY" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$PORT/health', timeout=1)" \
        2>/dev/null && break || true
    sleep 1
done
say "bot answers on http://127.0.0.1:$PORT (log $RUN/logs/bot.log)"

# --- 4. a simulated VALR on loopback for the suite's own exchange items (the bot itself stays cut off)
VALR_PORT="$("$OPS_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
(cd "$REPO" && exec env OPSCHECK_SANDBOX_VALR_API_KEY="$VALR_API_KEY" OPSCHECK_SANDBOX_VALR_API_SECRET="$VALR_API_SECRET" \
    "$OPS_PY" -m ops_checks.sandbox.valr_http --port "$VALR_PORT") >"$RUN/logs/valr-sim.log" 2>&1 &
VALR_PID=$!
for _ in $(seq 1 30); do
    "$OPS_PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$VALR_PORT/v1/public/time', timeout=1)" \
        2>/dev/null && break || sleep 0.5
done
say "simulated VALR on http://127.0.0.1:$VALR_PORT (the suite's exchange items; the bot cannot reach it)"

# --- 5. the live preflight against it (read-only)
cat >"$RUN/live.env" <<EOF
DB_HOST=$DB_HOST
DB_PORT=$DB_PORT
DB_NAME=$DB_NAME
DB_USER=$DB_USER
DB_PASSWORD=$DB_PASSWORD
BOT_DB_USER=app_trading
POSTGRES_USER=$(db admin_user)
POSTGRES_PASSWORD=$(db admin_password)
BOT_API_URL=http://127.0.0.1:$PORT
METRICS_URL=http://127.0.0.1:$PORT/metrics
VALR_BASE_URL=http://127.0.0.1:$VALR_PORT
GRAFANA_URL=$DEAD
LOG_DIR=$RUN/logs
SOVEREIGN_SECRET=$SOVEREIGN_SECRET
GUARDIAN_ADMIN_TOKEN=$GUARDIAN_ADMIN_TOKEN
GUARDIAN_RESET_CODE=$GUARDIAN_RESET_CODE
VALR_API_KEY=$VALR_API_KEY
VALR_API_SECRET=$VALR_API_SECRET
WEBHOOK_SECRET=$WEBHOOK_SECRET
OPENROUTER_API_KEY=$OPENROUTER_API_KEY
DISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/0/real-bot-check-offline
VALR_STANDBY_API_KEY=$(rnd)
VALR_STANDBY_API_SECRET=$(rnd)
EXECUTION_MODE=DRY_RUN
EXPECTED_EXECUTION_MODE=DRY_RUN
LIVE_TRADING_CONFIRMED=FALSE
KILL_SWITCH_ENABLED=true
BUDGETGUARD_STRICT_MODE=true
ZAR_FLOOR=1000
MAX_ORDER_ZAR=100
MAX_RISK_ZAR=500
EXPECTED_SERVICES=
# the operator's declared scope: TRADE_BOT trades on VALR only, with no perpetuals and no market-data websocket
OPSCHECK_SCOPE=exchanges=valr; perpetuals=none; websocket_feed=none
EOF
chmod 600 "$RUN/live.env"
say "opscheck init (the suite's own schema, as the database superuser; grants to app_trading)"
(cd "$REPO" && "$OPS_PY" -m ops_checks.cli init --env-file "$RUN/live.env" --role app_trading) \
    || die "opscheck init failed (above)"
for name in VALR_API_KEY VALR_API_SECRET SOVEREIGN_SECRET GUARDIAN_RESET_CODE OPENROUTER_API_KEY; do  # fresh secrets
    (cd "$REPO" && "$OPS_PY" -m ops_checks.cli secrets rotated "$name" --by real-bot-check --env-file "$RUN/live.env") \
        >/dev/null || say "could not record the rotation of $name"
done
say "opscheck preflight --target live --env-file $RUN/live.env"
set +e
(cd "$REPO" && "$OPS_PY" -m ops_checks.cli preflight --target live --env-file "$RUN/live.env" --no-html \
    --reports "$RUN/reports" ${REAL_BOT_PREFLIGHT_ARGS:-}) >"$RUN/preflight.out" 2>&1
RC=$?
set -e
VERDICT="$(ls -d "$RUN"/reports/*/ 2>/dev/null | tail -n 1)verdict.json"
if [ -f "$VERDICT" ]; then
    "$OPS_PY" - "$VERDICT" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
print(f"VERDICT: {v['verdict']}  counts: {v['counts']}")
causes = v.get("causes") or []
print(f"{len(causes)} causes:")
for c in causes:
    print(f"  {c['id']:<4} [{c['kind']}] {c['summary']}"[:300])
    print(f"       remedy: {c['remedy']}"[:300])
    print(f"       items: {', '.join(c['items'])}"[:300])
for item in v["items"]:
    if item["status"] != "passed":
        print(f"  {item['status']:<12} {item['id']:<12} {item.get('cause_id') or '':<4} {item.get('reason') or ''}"[:400])
PY
else
    tail -n 20 "$RUN/preflight.out"
fi
say "preflight exit code $RC; full output $RUN/preflight.out"
exit "$RC"
