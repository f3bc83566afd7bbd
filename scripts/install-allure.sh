#!/usr/bin/env bash
# Install the Allure 2 CLI (npm package allure-commandline, Java) into .tools/allure under the repo.
# Idempotent: a second run with the pinned version already present is a fast no-op.
# Installs a headless JRE from Debian when java is missing and we are root.
# On success prints the absolute path of the allure binary (and nothing else on stdout).
set -euo pipefail

ALLURE_VERSION="${ALLURE_VERSION:-2.46.1}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="$REPO_ROOT/.tools/allure"
BIN="$PREFIX/node_modules/allure-commandline/dist/bin/allure"
PKG_JSON="$PREFIX/node_modules/allure-commandline/package.json"

log() { echo "install-allure: $*" >&2; }

# 1. Java (Allure 2 is a Java program).
if ! command -v java >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        log "error: java not found and not root; install a JRE (e.g. default-jre-headless) first"
        exit 1
    fi
    log "java not found; installing default-jre-headless"
    export DEBIAN_FRONTEND=noninteractive
    aptlog="$(mktemp)"
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends default-jre-headless; } \
        >"$aptlog" 2>&1; then
        log "error: apt-get failed: $(tail -n 1 "$aptlog")"
        rm -f -- "$aptlog"
        exit 1
    fi
    rm -f -- "$aptlog"
    if ! command -v java >/dev/null 2>&1; then
        log "error: java still not found after installing default-jre-headless"
        exit 1
    fi
fi

# 2. Allure CLI, unless the pinned version is already there.
installed=""
if [ -f "$PKG_JSON" ] && [ -x "$BIN" ]; then
    installed="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$PKG_JSON" | head -n 1)"
fi
if [ "$installed" != "$ALLURE_VERSION" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        if [ "$(id -u)" -ne 0 ]; then
            log "error: npm not found and not root; install Node.js and npm first"
            exit 1
        fi
        log "npm not found; installing Debian's npm"
        export DEBIAN_FRONTEND=noninteractive
        aptlog="$(mktemp)"
        if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends npm; } >"$aptlog" 2>&1; then
            log "error: apt-get failed: $(tail -n 1 "$aptlog")"
            rm -f -- "$aptlog"
            exit 1
        fi
        rm -f -- "$aptlog"
    fi
    log "installing allure-commandline@$ALLURE_VERSION into $PREFIX"
    mkdir -p "$PREFIX"
    npm install --prefix "$PREFIX" --no-audit --no-fund --no-progress --loglevel=error \
        --no-save "allure-commandline@$ALLURE_VERSION" >/dev/null
fi

if [ ! -x "$BIN" ]; then
    log "error: allure binary not found at $BIN after install"
    exit 1
fi
echo "$BIN"
