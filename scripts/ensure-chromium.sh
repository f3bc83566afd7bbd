#!/usr/bin/env bash
# Debian's Chromium for the report-rendering test; installed when missing (root), else a one-line error.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "ensure-chromium: chromium not installed and not root: install Debian's chromium package" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null 2>&1 || { echo "ensure-chromium: install failed" >&2; exit 1; }
