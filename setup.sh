#!/bin/sh
# setup.sh — the README's two commands.
#
#   ./setup.sh          install what is missing, build, run the main job
#   ./setup.sh check    the same set-up, then the whole test suite
#
# Packages come from Debian only: with root rights they are installed with
# apt-get; otherwise the exact command to run is printed.
set -eu
cd "$(dirname "$0")"
PACKAGES="gcc g++ make autoconf automake libtool autoconf-archive pkg-config libgsl-dev libcsv-dev libcriterion-dev"

install_missing() {
    missing=
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        echo "setup: installing$missing"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$missing >/dev/null
    else
        echo "setup: missing Debian packages; run this, then ./setup.sh again:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
        exit 1
    fi
}

build() {
    [ -x configure ] || autoreconf -fi
    [ -f Makefile ] || ./configure -q
    make -j"$(nproc)" >/dev/null
}

# The counts of test cases from the test-suite log: one line, so that a run
# that executed nothing cannot look green.
count_results() {
    log=${1:-test-suite.log}
    [ -f "$log" ] || { echo "0 passed, 1 failed (no $log)"; return; }
    pass=$(sed -n 's/^# PASS: *//p' "$log" | head -n 1)
    fail=$(sed -n 's/^# FAIL: *//p' "$log" | head -n 1)
    xpass=$(sed -n 's/^# XPASS: *//p' "$log" | head -n 1)
    error=$(sed -n 's/^# ERROR: *//p' "$log" | head -n 1)
    echo "$((${pass:-0})) passed, $((${fail:-0} + ${xpass:-0} + ${error:-0})) failed"
}

main_job() {
    echo "== Make synthetic data from a real table, refine it, evaluate it and draw it"
    echo "   (examples/evaluate.mk on datasets/eval-health.csv, split by a seeded hash"
    echo "   into 70 % TRAIN, which the synthesizer sees, and 30 % HOLDOUT, which every"
    echo "   figure is scored against; see README)"
    make -s -f examples/evaluate.mk BIN="$PWD/bin" OUT=eval-out >eval-out.log 2>&1 ||
        { cat eval-out.log; exit 1; }
    sed -n '3,6p; /^## Fidelity/,/^pann-privacy.s verdicts/p' eval-out/report.md | sed '$d'
    echo "== The report with its figures: eval-out/report.md (SVG figures beside it)"
    echo "== The article's own example (200 x 200 points), anytime search with the power-law fit:"
    bin/pann-match --iterations=10000 --fit -o gauss2d-matches.csv \
        datasets/gauss2d-S.csv datasets/gauss2d-T.csv
}

install_missing
build
case "${1:-run}" in
run) main_job ;;
check)
    status=0
    make -j"$(nproc)" check >/dev/null 2>&1 || status=$?
    grep -h -E '^(FAIL|ERROR|XPASS):' tests/*.log 2>/dev/null | head -n 50 || true
    # and what each failing TAP case said about itself (its "# ..." lines)
    awk '/^not ok/ && !/# TODO/ { n = 4; print FILENAME ": " $0; next }
         n && /^#/ { n--; print "    " $0; next } { n = 0 }' tests/*.log 2>/dev/null |
        head -n 60 || true
    count_results test-suite.log
    exit $status ;;
count) count_results "${2:-test-suite.log}" ;;
*) echo "usage: ./setup.sh [run|check]" >&2; exit 1 ;;
esac
