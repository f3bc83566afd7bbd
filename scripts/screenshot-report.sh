#!/usr/bin/env bash
# Headless screenshot of a single-file HTML report opened from file://, to look at what an auditor sees.
# Usage: scripts/screenshot-report.sh REPORT_HTML OUT_PNG [WIDTHxHEIGHT]   (default 1400x900: the first screen)
# Installs Debian's chromium when missing (root only). Chromium's background networking is switched off:
# this machine's network is closed, and the report must render with nothing from the network anyway.
set -euo pipefail

if [ "$#" -lt 2 ] || [ "$#" -gt 3 ]; then
    echo "usage: $0 REPORT_HTML OUT_PNG [WIDTHxHEIGHT]" >&2
    exit 2
fi
SIZE="${3:-1400x900}"
if ! [[ "$SIZE" =~ ^([0-9]{3,5})x([0-9]{3,5})$ ]]; then
    echo "screenshot-report: size must be WIDTHxHEIGHT (e.g. 1400x1800), not: $SIZE" >&2
    exit 2
fi
WINDOW="${BASH_REMATCH[1]},${BASH_REMATCH[2]}"
REPORT="$(realpath -e -- "$1")" || { echo "screenshot-report: no such file: $1" >&2; exit 2; }
OUT="$(realpath -m -- "$2")"
mkdir -p "$(dirname "$OUT")"

CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$CHROMIUM" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "screenshot-report: chromium not found and not root; install Debian's chromium first" >&2
        exit 1
    fi
    echo "screenshot-report: installing chromium" >&2
    export DEBIAN_FRONTEND=noninteractive
    aptlog="$(mktemp)"
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } >"$aptlog" 2>&1; then
        echo "screenshot-report: apt-get failed: $(tail -n 1 "$aptlog")" >&2
        rm -f -- "$aptlog"
        exit 1
    fi
    rm -f -- "$aptlog"
    CHROMIUM="$(command -v chromium)"
fi

PROFILE="$(mktemp -d)"
trap 'rm -rf -- "$PROFILE"' EXIT
rm -f -- "$OUT"
timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$PROFILE" --window-size="$WINDOW" --virtual-time-budget=5000 \
    --screenshot="$OUT" "file://$REPORT" >/dev/null 2>"$PROFILE/chromium.log" || {
    rc=$?
    echo "screenshot-report: chromium failed (exit $rc): $(grep -v '^\s*$' "$PROFILE/chromium.log" | tail -n 1)" >&2
    exit 1
}
if [ ! -s "$OUT" ]; then
    echo "screenshot-report: no screenshot written: $(grep -v '^\s*$' "$PROFILE/chromium.log" | tail -n 1)" >&2
    exit 1
fi
echo "$OUT"
