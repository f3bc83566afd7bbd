#!/usr/bin/env bash
# The suite where the bot runs: builds the image with podman, runs it, runs the CI compose stack against TRADE_BOT's
# migrations and the sandbox's testcontainers path over podman's Docker API. Not part of `make test` (minutes).
# Installs what it needs itself (as root: podman, runc, debootstrap, podman-compose; ../shared/CONTAINERS.md).
# One line per step: "ok: …", "skipped: … (why)" or "FAILED: …"; exit 1 when a step failed.
# Settings: OPS_CHECKS_BASE (the image's BASE; default a local Debian bookworm minbase image built here, as no
# registry answers on these machines), OPS_CHECKS_PG_IMAGE (default a local Postgres 15 stand-in built here),
# TRADE_BOT_DIR (a checkout holding database/migrations; else the local mirror or GitHub, cloned to a temp dir),
# OPS_CHECKS_PYTHON (the Python that runs the suite outside containers; default .venv/bin/python, made by make install).
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

ok() { echo "ok: $*"; }
skipped() { echo "skipped: $*"; }
fail() { echo "FAILED: $*"; failed=1; }
last_line() { grep -v '^\s*$' "$1" | tail -n 1 | cut -c1-300; }

cleanup() {
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
for tool in podman runc debootstrap podman-compose; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    fail "missing ${missing[*]} and not root: install them (apt-get install podman runc debootstrap podman-compose)"
    exit 1
  fi
  if DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$WORK/apt.log" 2>&1 \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap podman-compose >>"$WORK/apt.log" 2>&1; then
    ok "installed ${missing[*]} ($(podman --version))"
  else
    fail "apt-get install ${missing[*]}: $(last_line "$WORK/apt.log")"
    exit 1
  fi
else
  ok "podman, runc, debootstrap, podman-compose present ($(podman --version))"
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

if ((failed)); then echo "container-check: FAILED"; exit 1; fi
echo "container-check: all steps ok"
