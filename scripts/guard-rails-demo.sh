#!/usr/bin/env bash
# The guard rails, shown: each of four faults is planted in a fresh copy of this repository, and .ci/run must fail
# there in `make lint` (ruff check, ruff format --check, the layer test, mypy), before `make test` starts.
#   an upward import          core imports the CLI (the layer test)
#   a type error              `x: int = "s"` in a core module (mypy)
#   an unformatted file       bad spacing in a core module (ruff format --check)
#   a registry string         an item's check names ops_checks.cli.app:main, above drills (the layer test)
# One line per plant: `planted <what>: .ci/run exit N — <the first line of the failure>`. Exit 0 only when all four
# made .ci/run fail in make lint (and the copy without a plant passes make lint); 1 otherwise; 2 when it cannot run.
#
# The copies (git ls-files: the working tree as it is, uncommitted changes included) sit in a temporary folder beside
# the repository and are removed at the end. They reuse this checkout's installed .venv/ and .tools/ (symlinks; make
# sees .venv/.installed-stamp newer than pyproject.toml, so `make install` does nothing). A worktree without its
# own: GUARD_DEMO_VENV=/path/to/.venv (and GUARD_DEMO_TOOLS=/path/to/.tools).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${GUARD_DEMO_VENV:-$ROOT/.venv}
TOOLS=${GUARD_DEMO_TOOLS:-$ROOT/.tools}
CORE_MODULE=ops_checks/core/result.py
ITEMS_MODULE=ops_checks/catalogue/items/s1_preconditions.py
TIMEOUT=${GUARD_DEMO_TIMEOUT:-600}

die() {
    echo "guard-rails-demo: cannot run: $*" >&2
    exit 2
}
[ -x "$VENV/bin/python" ] && [ -f "$VENV/.installed-stamp" ] ||
    die "no installed virtualenv at $VENV (make install there, or set GUARD_DEMO_VENV)"
VENV=$(cd "$VENV" && pwd -P)
[ -d "$TOOLS" ] && TOOLS=$(cd "$TOOLS" && pwd -P)
for f in "$CORE_MODULE" "$ITEMS_MODULE" .ci/run Makefile; do
    [ -f "$ROOT/$f" ] || die "$f not found"
done

WORK=$(mktemp -d "$(dirname "$ROOT")/.guard-rails-demo.XXXXXX") || die "no temporary folder beside $ROOT"
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# the tracked and new (not ignored) files as they are in the working tree
BASE=$WORK/base
mkdir -p "$BASE"
git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -f "$ROOT/$f" ] && printf '%s\0' "$f"; done |
    tar -C "$ROOT" --null -T - -cf - | tar -C "$BASE" -xf - || die "copying the repository failed"
[ -d "$ROOT/.mypy_cache" ] && cp -a "$ROOT/.mypy_cache" "$BASE/" # a warm start; mypy rechecks what differs

fresh_copy() { # $1: name -> the copy's path on stdout
    local dir=$WORK/$1
    cp -a "$BASE" "$dir"
    ln -s "$VENV" "$dir/.venv"
    [ -d "$TOOLS" ] && ln -sfn "$TOOLS" "$dir/.tools"
    touch -d '2000-01-01 00:00:00' "$dir/pyproject.toml" # older than .venv/.installed-stamp: install is a no-op
    echo "$dir"
}

append() { # $1: file, $2: text -> appended on lines of their own
    printf '\n%s\n' "$2" >>"$1"
}

plant_upward_import() { # a function-level import of the CLI: ruff and mypy accept it, the layer rule does not
    append "$1/$CORE_MODULE" $'\ndef _planted_upward() -> object:\n    from ops_checks.cli import app\n\n    return app'
}

plant_type_error() {
    append "$1/$CORE_MODULE" $'\nx: int = "s"'
}

plant_unformatted() {
    append "$1/$CORE_MODULE" $'\n_PLANTED_SPACING = {  "a":1 ,"b" :2}'
}

plant_registry_string() { # the first item's check binding names the CLI's entry point
    local file=$1/$ITEMS_MODULE
    sed -i -E '0,/check="ops_checks\.[A-Za-z0-9_.]+:[A-Za-z0-9_]+"/s//check="ops_checks.cli.app:main"/' "$file"
    grep -q 'check="ops_checks.cli.app:main"' "$file"
}

# The first line that says what failed: a finding that starts with its file:line (mypy, the layer test's assertion)
# or ruff's message with the ` --> file:line:col` below it (ruff check, ruff format --check); else an error line.
first_failure() { # $1: log
    local line
    line=$(awk '
        /^(E +)?(ops_checks|steps|tests|conftest\.py)[^ :]*:[0-9]+/ { sub(/^E +/, ""); print; exit }
        /^ *--> / { loc = $0; sub(/^ *--> /, "", loc); print loc ": " head; exit }
        /^[^ \t]/ { head = $0 }
    ' "$1" | sed -E 's/[[:space:]]+$//')
    [ -n "$line" ] || line=$(grep -m1 -iE 'error|failed' "$1")
    printf '%s' "${line:-(no failure line in the output)}"
}

failed_step() { # $1: log -> the last command make echoed before it stopped
    grep -E '^\.venv/bin/|^(\.venv/bin/)?python' "$1" | tail -n1 |
        sed -E 's#^\.venv/bin/##; s#(python -m pytest) .*(tests/test_layers\.py).*#pytest \2#; s# \.$##'
}

status=0

# control: without a plant, make lint passes in a copy (else the plants prove nothing)
control=$(fresh_copy control)
start=$SECONDS
if (cd "$control" && timeout "$TIMEOUT" make lint) >"$WORK/control.log" 2>&1; then
    echo "no plant: make lint exit 0 ($((SECONDS - start)) s)"
else
    echo "no plant: make lint FAILED — $(first_failure "$WORK/control.log")"
    status=1
fi

for plant in upward_import type_error unformatted registry_string; do
    case $plant in
    upward_import) what="an upward import (core imports cli, $CORE_MODULE)" ;;
    type_error) what="a type error (x: int = \"s\", $CORE_MODULE)" ;;
    unformatted) what="an unformatted file ($CORE_MODULE)" ;;
    registry_string) what="a registry string naming a higher layer (check=\"ops_checks.cli.app:main\", $ITEMS_MODULE)" ;;
    esac
    copy=$(fresh_copy "$plant")
    if ! "plant_$plant" "$copy"; then
        echo "planted $what: NOT PLANTED (the file no longer has the expected shape)"
        status=1
        continue
    fi
    log=$WORK/$plant.log
    start=$SECONDS
    # were make lint to pass, make test would only collect (never the whole suite on a shared machine)
    (cd "$copy" && CI=true PYTEST_ARGS="--collect-only -q" timeout "$TIMEOUT" bash .ci/run) >"$log" 2>&1 </dev/null
    rc=$?
    took=$((SECONDS - start))
    if [ "$rc" -eq 0 ]; then
        echo "planted $what: .ci/run exit 0 — NOT CAUGHT"
        status=1
    elif grep -qE 'pytest tests -n' "$log"; then
        echo "planted $what: .ci/run exit $rc — NOT CAUGHT by make lint (make test ran): $(first_failure "$log")"
        status=1
    else
        echo "planted $what: .ci/run exit $rc — $(first_failure "$log")  [make lint: $(failed_step "$log"), ${took} s]"
    fi
done
exit "$status"
