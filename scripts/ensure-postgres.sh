#!/usr/bin/env bash
# Make sure Postgres server binaries (initdb, pg_ctl) exist; installs Debian's postgresql when root and missing.
set -euo pipefail
have() {
  local d
  if command -v pg_config >/dev/null 2>&1; then d=$(pg_config --bindir 2>/dev/null || true); [[ -x "$d/initdb" ]] && return 0; fi
  command -v initdb >/dev/null 2>&1 && return 0
  for d in /usr/lib/postgresql/*/bin; do [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && return 0; done
  return 1
}
have && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "ensure-postgres: no Postgres server binaries and not root: install postgresql (server) or set OPSCHECK_SANDBOX_DSN" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
have || { echo "ensure-postgres: postgresql installed but initdb not found" >&2; exit 1; }
