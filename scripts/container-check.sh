#!/usr/bin/env bash
# The suite where the bot runs: builds the image with podman, runs it, runs the CI compose stack against TRADE_BOT's
# migrations, the sandbox's testcontainers path over podman's Docker API, and the operator's override
# (deploy/compose.opscheck.yml) against TRADE_BOT's own production stack (its docker-compose.prod.yml unchanged, its
# bot image built from its own Dockerfile on a local python stand-in). Not part of `make test` (minutes).
# Installs what it needs itself (as root: podman, runc, debootstrap, podman-compose, docker-compose; ../shared/CONTAINERS.md).
# One line per step: "ok: …", "skipped: … (why)" or "FAILED: …"; exit 1 when a step failed.
# Settings: OPS_CHECKS_BASE (the image's BASE; default a local Debian bookworm minbase image built here, as no
# registry answers on these machines), OPS_CHECKS_PG_IMAGE (default a local Postgres 15 stand-in built here),
# TRADE_BOT_DIR (a checkout holding database/migrations; else the local mirror or GitHub, cloned to a temp dir),
# OPS_CHECKS_PYTHON (the Python that runs the suite outside containers; default .venv/bin/python, made by make install),
# OPS_CHECKS_BOT_BASE (the image TRADE_BOT's Dockerfile is built --from; default a local python stand-in built here).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BASE_IMAGE=localhost/bookworm:base
BASE=${OPS_CHECKS_BASE:-$BASE_IMAGE}
PG_IMAGE=${OPS_CHECKS_PG_IMAGE:-localhost/postgres:15-standin}
MIRROR=/work/.mirror/Herman940306+TRADE_BOT/repo
WORK=$(mktemp -d /tmp/opscheck-container-check.XXXXXX)
CA=/etc/ssl/certs/ca-certificates.crt
failed=0
service_pid=""
compose_project=""
health_pid=""
prod_up=""
BOT_DIR=$WORK/TRADE_BOT-prod
PROD=(docker-compose -p opscheck-prod -f docker-compose.prod.yml -f compose.opscheck.yml -f standin-images.yml)

ok() { echo "ok: $*"; }
skipped() { echo "skipped: $*"; }
fail() { echo "FAILED: $*"; failed=1; }
last_line() { grep -v '^\s*$' "$1" | tail -n 1 | cut -c1-300; }

cleanup() {
  [[ -n $health_pid ]] && kill "$health_pid" 2>/dev/null
  if [[ -n $prod_up ]]; then   # before the Docker API service goes: docker-compose speaks to it
    (cd "$BOT_DIR" && "${PROD[@]}" down -v --remove-orphans >/dev/null 2>&1)
    podman network exists sovereign_network 2>/dev/null && podman network rm sovereign_network >/dev/null 2>&1
  fi
  if [[ -n $compose_project ]]; then
    podman-compose -p "$compose_project" -f deploy/ci/compose.ci.yml down -v >/dev/null 2>&1
  fi
  if [[ -n $service_pid ]]; then
    kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. the tools
missing=()
for tool in podman runc debootstrap podman-compose docker-compose; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    fail "missing ${missing[*]} and not root: install them (apt-get install podman runc debootstrap podman-compose docker-compose)"
    exit 1
  fi
  if DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$WORK/apt.log" 2>&1 \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap podman-compose docker-compose >>"$WORK/apt.log" 2>&1; then
    ok "installed ${missing[*]} ($(podman --version))"
  else
    fail "apt-get install ${missing[*]}: $(last_line "$WORK/apt.log")"
    exit 1
  fi
else
  ok "podman, runc, debootstrap, podman-compose, docker-compose present ($(podman --version), $(docker-compose version --short 2>/dev/null))"
fi

# 2. podman's settings on this kind of machine: runc (crun refuses hybrid cgroups), ulimits it accepts
conf=/etc/containers/containers.conf
if [[ -f $conf ]] && grep -q 'runtime *= *"runc"' "$conf"; then
  ok "$conf runs runc"
elif [[ -f $conf ]]; then
  fail "$conf exists without runtime = \"runc\": add it under [engine] (see ../shared/CONTAINERS.md)"
  exit 1
else
  mkdir -p /etc/containers
  cat >"$conf" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
runtime = "runc"
EOF
  ok "wrote $conf (runc, ulimits)"
fi

# 3. the base image, from Debian's packages (no registry needed)
if [[ $BASE != "$BASE_IMAGE" ]]; then
  ok "base image $BASE (OPS_CHECKS_BASE)"
elif podman image exists "$BASE_IMAGE"; then
  ok "base image $BASE_IMAGE present"
elif debootstrap --variant=minbase bookworm "$WORK/rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 \
  && tar -C "$WORK/rootfs" -c . | podman import - "$BASE_IMAGE" >/dev/null 2>"$WORK/import.log"; then
  rm -rf "$WORK/rootfs"
  ok "base image $BASE_IMAGE built (debootstrap bookworm minbase)"
else
  fail "base image $BASE_IMAGE: $(last_line "$WORK/debootstrap.log")"
  exit 1
fi

# 4. the suite's images: the sandbox target and the default one
version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' pyproject.toml | head -n 1)
IMAGE=localhost/ops-checks:$version
SANDBOX_IMAGE=localhost/ops-checks:$version-sandbox
build=(podman build --network host --build-arg "BASE=$BASE" --build-arg "VERSION=$version")
[[ -s $CA ]] && build+=(-v "$CA:/run/hostca.crt:ro")
if "${build[@]}" --target sandbox -t "$SANDBOX_IMAGE" . >"$WORK/build-sandbox.log" 2>&1 \
  && "${build[@]}" -t "$IMAGE" . >"$WORK/build.log" 2>&1; then
  ok "built $IMAGE and $SANDBOX_IMAGE (BASE=$BASE, from requirements.lock)"
else
  fail "podman build: $(last_line "$WORK/build-sandbox.log") $(last_line "$WORK/build.log" 2>/dev/null)"
  exit 1
fi
label=$(podman image inspect "$IMAGE" --format '{{index .Labels "org.opencontainers.image.version"}}')
[[ $label == "$version" ]] && ok "label org.opencontainers.image.version=$label" || fail "version label '$label', pyproject $version"

# 5. inside the container: --version, non-root, the sandbox preflight (GO with nothing else)
said=$(podman run --rm "$IMAGE" --version 2>&1)
[[ $said == "opscheck $version" ]] && ok "podman run $IMAGE --version: $said" || fail "--version in the container: $said"
uid=$(podman run --rm --entrypoint id "$SANDBOX_IMAGE" -u 2>&1)
[[ $uid =~ ^[0-9]+$ && $uid -ne 0 ]] && ok "the image runs as uid $uid (non-root)" || fail "the image runs as uid '$uid'"
install -d -o 10001 -g 10001 "$WORK/reports-image"
if podman run --rm -v "$WORK/reports-image:/reports" "$SANDBOX_IMAGE" preflight -q >"$WORK/image-preflight.log" 2>&1; then
  verdict=$(jq -r .verdict "$WORK"/reports-image/*/verdict.json 2>/dev/null)
  [[ $verdict == GO ]] && ok "sandbox preflight in the container: $(grep VERDICT "$WORK/image-preflight.log")" \
    || fail "sandbox preflight in the container: verdict.json says '$verdict'"
else
  fail "sandbox preflight in the container (exit $?): $(last_line "$WORK/image-preflight.log")"
fi

# 6. the Postgres image for the CI stack and testcontainers
if [[ $PG_IMAGE == localhost/postgres:15-standin ]]; then
  if podman build --network host --build-arg "BASE=$BASE_IMAGE" -t "$PG_IMAGE" deploy/postgres-standin \
    >"$WORK/build-pg.log" 2>&1; then
    ok "built $PG_IMAGE (Debian postgresql-15; the official image's env and initdb.d behaviour)"
  else
    fail "podman build deploy/postgres-standin: $(last_line "$WORK/build-pg.log")"
  fi
else
  ok "Postgres image $PG_IMAGE (OPS_CHECKS_PG_IMAGE)"
fi

# 7. the suite outside containers, for the comparisons
PY=${OPS_CHECKS_PYTHON:-$ROOT/.venv/bin/python}
if [[ ! -x $PY ]]; then
  if make install >"$WORK/make-install.log" 2>&1; then ok "make install (.venv)"; else fail "make install: $(last_line "$WORK/make-install.log")"; fi
fi
opscheck() { PYTHONPATH=$ROOT "$PY" -m ops_checks.cli "$@"; }

# TRADE_BOT's migrations 001-026
MIGRATIONS=""
if [[ -n ${TRADE_BOT_DIR:-} && -d ${TRADE_BOT_DIR}/database/migrations ]]; then
  MIGRATIONS=$TRADE_BOT_DIR/database/migrations
elif [[ -d $MIRROR ]] && mkdir -p "$WORK/TRADE_BOT/database/migrations" \
  && git --git-dir "$MIRROR" archive --format=tar HEAD:database/migrations | tar -x -C "$WORK/TRADE_BOT/database/migrations"; then
  MIGRATIONS=$WORK/TRADE_BOT/database/migrations   # the local mirror (bare; only this folder is read)
elif timeout 120 git clone -q --depth 1 https://github.com/Herman940306/TRADE_BOT "$WORK/TRADE_BOT" 2>/dev/null; then
  MIGRATIONS=$WORK/TRADE_BOT/database/migrations
fi
if [[ -n $MIGRATIONS ]]; then
  ok "TRADE_BOT migrations: $(ls "$MIGRATIONS" | grep -c '\.sql$') files ($(ls "$MIGRATIONS" | head -n 1) … $(ls "$MIGRATIONS" | tail -n 1))"
else
  skipped "the CI compose stack against TRADE_BOT's migrations (no TRADE_BOT_DIR, no mirror at $MIRROR, GitHub not reachable)"
fi

# one run's result as one line: its exit code, verdict and causes, or the one line it printed (paths as DIR)
summary() {  # summary EXIT REPORTS_DIR LOG MIGRATIONS_PATH_IN_THAT_RUN
  local v
  v=$(ls -1t "$2"/*/verdict.json 2>/dev/null | head -n 1)
  if [[ -n $v ]]; then
    jq -r --arg code "$1" '"exit \($code) \(.verdict); causes: \([.causes[] | "\(.id) \(.summary)"] | join(" / "))"' "$v"
  else
    echo "exit $1 $(grep -o 'opscheck preflight: .*' "$3" | tail -n 1 | sed "s|$4|DIR|g")"
  fi
}

ci_stack() {  # ci_stack NAME MIGRATIONS_DIR: the compose CI stack, then the same preflight outside containers
  local name=$1 dir=$2 inside outside code
  compose_project=opscheck-ci-$name
  install -d -o 10001 -g 10001 "$WORK/ci-$name"
  MIGRATIONS=$dir OPS_CHECKS_REPORTS=$WORK/ci-$name OPS_CHECKS_IMAGE=$IMAGE OPS_CHECKS_PG_IMAGE=$PG_IMAGE \
    timeout 900 podman-compose -p "$compose_project" -f deploy/ci/compose.ci.yml up --abort-on-container-exit \
    --exit-code-from opscheck >"$WORK/ci-$name.log" 2>&1
  code=$?
  podman-compose -p "$compose_project" -f deploy/ci/compose.ci.yml down -v >/dev/null 2>&1
  compose_project=""
  inside=$(summary "$code" "$WORK/ci-$name" "$WORK/ci-$name.log" /migrations)
  mkdir -p "$WORK/out-$name"
  opscheck preflight -q --migrations "$dir" --reports "$WORK/out-$name" >"$WORK/out-$name.log" 2>&1
  outside=$(summary "$?" "$WORK/out-$name" "$WORK/out-$name.log" "$dir")
  if [[ $inside == "$outside" && $inside != "exit 2 " ]]; then
    ok "CI compose stack ($name) = outside containers: $inside"
  else
    fail "CI compose stack ($name): '$inside' but outside containers: '$outside' (log: $(last_line "$WORK/ci-$name.log"))"
  fi
}

# 8. the CI compose stack: the real migrations (the bot's own defects: exit 2, one line), and the reference model
#    of them that fits the runbook (GO): each compared with `opscheck preflight --migrations DIR` outside containers
if [[ -n $MIGRATIONS ]]; then ci_stack trade-bot "$MIGRATIONS"; fi
ci_stack model "$ROOT/ops_checks/sandbox/schema"

# 9. testcontainers for real: the sandbox's Postgres in a container over podman's Docker API
sock=$WORK/podman.sock
podman system service --time=0 "unix://$sock" >"$WORK/podman-service.log" 2>&1 &
service_pid=$!
for _ in $(seq 50); do [[ -S $sock ]] && break; sleep 0.2; done
export DOCKER_HOST=unix://$sock TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_CONNECTION_MODE=docker_host TC_HOST=127.0.0.1
if [[ -S $sock ]]; then
  ok "podman system service (pid $service_pid) at $DOCKER_HOST"
  mkdir -p "$WORK/tc"
  OPSCHECK_SANDBOX_PG_IMAGE=$PG_IMAGE opscheck preflight -q --reports "$WORK/tc" >"$WORK/tc.log" 2>&1
  code=$?
  v=$(ls -1t "$WORK"/tc/*/verdict.json 2>/dev/null | head -n 1)
  used=$([[ -n $v ]] && jq -c '.target_identity.sandbox_postgres' "$v")
  if [[ $code -eq 0 && $(jq -r .verdict "$v") == GO && $(jq -r '.target_identity.sandbox_postgres.kind' "$v") == testcontainers ]]; then
    ok "testcontainers preflight: $(grep VERDICT "$WORK/tc.log" | cut -c1-60)…; verdict.json sandbox_postgres $used"
  else
    fail "testcontainers preflight (exit $code, sandbox_postgres $used): $(last_line "$WORK/tc.log")"
  fi
  OPSCHECK_SANDBOX_PG_IMAGE=localhost/no-such-postgres:15 opscheck preflight -q --reports "$WORK/tc" >"$WORK/tc-fail.log" 2>&1
  code=$?
  lines=$(grep -c . "$WORK/tc-fail.log")
  if [[ $code -eq 2 && $lines -eq 1 ]]; then
    ok "an image that cannot be pulled: exit 2, one line: $(cut -c1-150 "$WORK/tc-fail.log")…"
  else
    fail "an image that cannot be pulled: exit $code, $lines lines: $(last_line "$WORK/tc-fail.log")"
  fi
else
  fail "podman system service did not open $sock: $(last_line "$WORK/podman-service.log")"
fi

# 10. the operator's override for real, against TRADE_BOT's own production stack: its docker-compose.prod.yml unchanged
#     with deploy/compose.opscheck.yml beside it, as README "Running it in a container" documents; only its two images
#     swapped for local stand-ins (deploy/ci/standin-images.yml, which also cuts the network off from the outside).
#     docker-compose over podman's Docker API, not podman-compose: podman-compose 1.0.3 leaves the prod file's
#     `${VAR:-}` unexpanded (the bot would get the text "${VALR_API_KEY:-}"), ignores `profiles` and `group_add`, and
#     its `run` starts every service of the file.
BOT_FILES=(Dockerfile requirements.txt main.py app database scripts services data_ingestion jobs tools
  docker-compose.prod.yml .env.example bridge aura_bridge prometheus grafana)   # the Dockerfile's COPYs + the build contexts compose checks
mkdir -p "$BOT_DIR"
if [[ -n ${TRADE_BOT_DIR:-} && -f ${TRADE_BOT_DIR}/Dockerfile ]]; then
  tar -C "$TRADE_BOT_DIR" -c "${BOT_FILES[@]}" 2>/dev/null | tar -x -C "$BOT_DIR"; bot_from="TRADE_BOT_DIR"
elif [[ -d $MIRROR ]]; then   # archive still writes every file asked for, then complains of an object outside them
  git --git-dir "$MIRROR" archive --format=tar HEAD "${BOT_FILES[@]}" 2>"$WORK/archive.log" | tar -x -C "$BOT_DIR"; bot_from="the mirror's HEAD"
elif [[ -f $WORK/TRADE_BOT/Dockerfile ]]; then
  tar -C "$WORK/TRADE_BOT" -c "${BOT_FILES[@]}" 2>/dev/null | tar -x -C "$BOT_DIR"; bot_from="GitHub"
fi
prod_ready=""
if [[ ! -S ${sock:-} ]]; then
  skipped "the operator's override against TRADE_BOT's prod stack (no Docker API: podman system service failed above)"
elif [[ ! -f $BOT_DIR/Dockerfile || ! -f $BOT_DIR/docker-compose.prod.yml || ! -f $BOT_DIR/main.py ]]; then
  skipped "the operator's override against TRADE_BOT's prod stack (no TRADE_BOT sources: TRADE_BOT_DIR, $MIRROR or GitHub)"
else
  ok "TRADE_BOT sources for its image and prod stack from $bot_from ($(grep -m 1 '^FROM' "$BOT_DIR/Dockerfile"), $(grep -m 1 '^CMD' "$BOT_DIR/Dockerfile"))"
  prod_ready=1
fi

# 10a. the bot's base: python:3.9-slim-bullseye cannot be pulled here; a stand-in from Debian's python3, which is 3.11
BOT_BASE=${OPS_CHECKS_BOT_BASE:-localhost/python:3.9-standin}
if [[ -n $prod_ready && -z ${OPS_CHECKS_BOT_BASE:-} ]]; then
  if podman build --network host --build-arg "BASE=$BASE_IMAGE" -t "$BOT_BASE" deploy/python-standin >"$WORK/build-py.log" 2>&1; then
    ok "built $BOT_BASE, standing in for python:3.9-slim-bullseye: Debian bookworm's $(podman run --rm "$BOT_BASE" python --version 2>&1) (NOT 3.9), pip and venv, python/pip on PATH"
  else
    fail "podman build deploy/python-standin: $(last_line "$WORK/build-py.log")"; prod_ready=""
  fi
fi

# 10b. the bot's image from its own Dockerfile and source, only the base replaced (--from)
BOT_IMAGE=localhost/autonomous-alpha:v1.9.0-standin
if [[ -n $prod_ready ]]; then
  botbuild=(podman build --network host --from "$BOT_BASE" -t "$BOT_IMAGE")
  [[ -s $CA ]] && botbuild+=(-v "$CA:/etc/ssl/certs/ca-certificates.crt:ro")   # the stand-in's pip trusts that bundle
  if "${botbuild[@]}" "$BOT_DIR" >"$WORK/build-bot.log" 2>&1; then
    bot_uid=$(podman run --rm --entrypoint id "$BOT_IMAGE" -u 2>/dev/null)
    ok "built $BOT_IMAGE from TRADE_BOT's Dockerfile (--from $BOT_BASE; its apt-get, pip install -r requirements.txt, user sovereign uid $bot_uid): $(grep -c '^STEP' "$WORK/build-bot.log") steps"
  else
    fail "podman build TRADE_BOT's Dockerfile --from $BOT_BASE: $(last_line "$WORK/build-bot.log")"; prod_ready=""
  fi
fi

# 10c. the stack: the bot's directory as the operator has it, a throwaway .env (.env.example's names, fresh secrets;
#      DB_USER/DB_PASSWORD: .env.example's app_trading, whose password the bot's migration 004 sets)
rnd() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
example() { sed -n "s/^$1=//p" "$BOT_DIR/.env.example" | head -n 1; }
if [[ -n $prod_ready ]]; then
  cp deploy/compose.opscheck.yml deploy/ci/standin-images.yml "$BOT_DIR/"
  cat >"$BOT_DIR/.env" <<EOF
POSTGRES_PASSWORD=$(rnd)
POSTGRES_USER=sovereign
DB_HOST=localhost
DB_PORT=5432
DB_NAME=$(example DB_NAME)
DB_USER=$(example DB_USER)
DB_PASSWORD=$(example DB_PASSWORD)
BOT_DB_USER=app_trading
SOVEREIGN_SECRET=$(rnd)
WEBHOOK_SECRET=$(rnd)
GUARDIAN_RESET_CODE=$(rnd)
OPENROUTER_API_KEY=$(rnd)
VALR_API_KEY=$(rnd)
VALR_API_SECRET=$(rnd)
VALR_STANDBY_API_KEY=$(rnd)
VALR_STANDBY_API_SECRET=$(rnd)
DISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/0/container-check-offline
KILL_SWITCH_ENABLED=true
EXECUTION_MODE=DRY_RUN
EXPECTED_EXECUTION_MODE=DRY_RUN
LIVE_TRADING_CONFIRMED=FALSE
BUDGETGUARD_STRICT_MODE=true
ZAR_FLOOR=1000
MAX_ORDER_ZAR=100
MAX_RISK_ZAR=500
OPSCHECK_SCOPE=exchanges=valr; perpetuals=none; websocket_feed=none
# the prod file's container names (the runbook's, the suite's default, call the database container "postgres")
EXPECTED_SERVICES=autonomous_alpha_bot,autonomous_alpha_db
EOF
  chmod 0644 "$BOT_DIR/.env"   # read by the suite's user (10001) through the bind mount; a throwaway
  mkdir -p "$BOT_DIR/logs" "$BOT_DIR/data/budget_reports" "$BOT_DIR/opscheck/reports" "$BOT_DIR/opscheck/anchor"
  chown -R "${bot_uid:-1000}:${bot_uid:-1000}" "$BOT_DIR/logs" "$BOT_DIR/data"   # the bot's user writes ./logs, ./data
  chown -R 10001:10001 "$BOT_DIR/opscheck"                                        # README: once, the image's user
  chmod 0660 "$sock"   # the Docker API for the docker ps items: group_add DOCKER_GID, as README says (the socket's group)
  export DOCKER_SOCKET=$sock DOCKER_GID=$(stat -c %g "$sock") OPS_CHECKS_IMAGE=$IMAGE STANDIN_PG_IMAGE=$PG_IMAGE \
    STANDIN_BOT_IMAGE=$BOT_IMAGE
  clash=$(podman ps -a --format '{{.Names}}' | grep -E '^autonomous_alpha_(db|bot)$' | tr '\n' ' ')
  if [[ -n $clash ]]; then
    fail "containers named $clash exist already (the prod file names them): remove them first"; prod_ready=""
  fi
fi
if [[ -n $prod_ready ]]; then
  # podman runs healthchecks from systemd timers, absent here: run the prod file's healthchecks by hand while the
  # stack is up (`up` waits for db's service_healthy; the docker ps items read the health)
  (while :; do for c in autonomous_alpha_db autonomous_alpha_bot; do podman healthcheck run "$c" >/dev/null 2>&1; done
     sleep 3; done) &
  health_pid=$!
  prod_up=1
  (cd "$BOT_DIR" && timeout 600 "${PROD[@]}" up -d db bot) >"$WORK/prod-up.log" 2>&1
  code=$?
  in_loop() { podman logs autonomous_alpha_bot >"$WORK/bot.log" 2>&1; grep -q 'Entering main loop' "$WORK/bot.log"; }   # no pipe: pipefail
  for _ in $(seq 90); do in_loop && break; sleep 1; done
  # the bot's healthcheck has a 60 s start period: the operator runs against a settled stack
  for _ in $(seq 90); do
    [[ $(podman inspect --format '{{.State.Health.Status}}' autonomous_alpha_bot 2>/dev/null) == healthy ]] && break; sleep 1
  done
  health=$(podman inspect --format '{{.State.Health.Status}}' autonomous_alpha_db autonomous_alpha_bot 2>/dev/null | tr '\n' ' ')
  running=$(podman ps --format '{{.Names}}' | grep -E '^autonomous_alpha_(db|bot)$' | sort | tr '\n' ' ')
  if [[ $code -eq 0 && $running == "autonomous_alpha_bot autonomous_alpha_db " ]] && in_loop; then
    tables=$(podman exec autonomous_alpha_db psql -U sovereign -d autonomous_alpha -Atc \
      "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'" 2>&1)
    listening=$(podman exec autonomous_alpha_bot python -c "import socket; socket.create_connection(('127.0.0.1', 8080), 2)" \
      >/dev/null 2>&1 && echo "answers" || echo "is not listening (its CMD python main.py starts no API)")
    ok "TRADE_BOT's prod stack up: db (migrations 001-026 at init: $tables tables), bot (python main.py in its main loop; network internal; bot:8080 $listening); health (db bot): $health"
  else
    fail "docker-compose up -d db bot (exit $code, running: ${running:-none}): $(last_line "$WORK/prod-up.log") / bot: $(last_line "$WORK/bot.log")"
    prod_ready=""
  fi
fi

# 10d. the operator's one-time steps (the suite's schema; the rotations of the fresh secrets), then the documented
#      commands: the read-only live preflight and the pre-session one with --allow-mutations
run_opscheck() { (cd "$BOT_DIR" && timeout 900 "${PROD[@]}" run --rm -T "$@"); }   # run_opscheck [--entrypoint E] opscheck ARGS…
breaker() { podman exec autonomous_alpha_db psql -U sovereign -d autonomous_alpha -Atc \
  "SELECT coalesce(string_agg(circuit_breaker_active::text, ','), 'no row') FROM system_settings" 2>&1; }
operator_run() {  # operator_run NAME ARGS…: one documented command; prints its lines
  local name=$1 code v traces causes; shift
  run_opscheck opscheck preflight --target live --env-file /config/.env "$@" --operator "A. Operator" --witness "B. Witness" \
    >"$WORK/prod-$name.log" 2>&1
  code=$?
  v=$(ls -1t "$BOT_DIR"/opscheck/reports/*/verdict.json 2>/dev/null | head -n 1)
  traces=$(grep -c 'Traceback' "$WORK/prod-$name.log")
  causes=$(sed -n '/^WHY NO-GO/,/^$/p' "$WORK/prod-$name.log" | grep -cE '^C[0-9]+ ')
  if [[ $code -eq 1 && -n $v && $(jq -r .verdict "$v") == NO-GO && $traces -eq 0 && $v -nt "$WORK/prod-$name.log.start" ]]; then
    ok "operator's command ($name): exit 1, $(grep -m 1 '^VERDICT' "$WORK/prod-$name.log" | cut -c1-150); no traceback; reports on the host: ./opscheck/reports/$(basename "$(dirname "$v")")/ ($(ls "$(dirname "$v")" | tr '\n' ' '))"
  else
    fail "operator's command ($name): exit $code, verdict.json '${v:+$(jq -r .verdict "$v")}', $traces tracebacks: $(last_line "$WORK/prod-$name.log")"
  fi
  echo "  WHY NO-GO ($name): $causes cause lines:"
  sed -n '/^WHY NO-GO/,/^$/p' "$WORK/prod-$name.log" | grep -E '^C[0-9]+ ' | cut -c1-150 | sed 's/^/    /'
}
if [[ -n $prod_ready ]]; then
  if run_opscheck opscheck init --env-file /config/.env >"$WORK/prod-init.log" 2>&1 \
    && run_opscheck --entrypoint sh opscheck -c 'for n in VALR_API_KEY VALR_API_SECRET SOVEREIGN_SECRET GUARDIAN_RESET_CODE OPENROUTER_API_KEY; do
         opscheck secrets rotated "$n" --by container-check --env-file /config/.env || exit 1; done' >"$WORK/prod-rotated.log" 2>&1; then
    ok "opscheck init and secrets rotated (5 fresh secrets) through the override: $(grep -m 1 -i 'schema' "$WORK/prod-init.log" | cut -c1-100)"
  else
    fail "opscheck init / secrets rotated through the override: $(last_line "$WORK/prod-init.log") $(last_line "$WORK/prod-rotated.log" 2>/dev/null)"
  fi
  touch -d '-1 second' "$WORK/prod-read-only.log.start"
  operator_run read-only
  before=$(breaker)
  touch -d '-1 second' "$WORK/prod-allow-mutations.log.start"
  operator_run allow-mutations --allow-mutations
  after=$(breaker)
  if [[ $before == false && $after == "$before" ]]; then
    ok "kill switch as the operator had it: system_settings.circuit_breaker_active $before before --allow-mutations, $after after"
  else
    fail "kill switch: circuit_breaker_active '$before' before --allow-mutations, '$after' after"
  fi
fi

if ((failed)); then echo "container-check: FAILED"; exit 1; fi
echo "container-check: all steps ok"
