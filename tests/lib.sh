# tests/lib.sh — TAP helpers for the command-line tests (sourced).
#
# Each check prints "ok N - what" or "not ok N - what" and the plan is
# printed at the end, so a script that dies half-way shows as an error
# rather than as a short green run.  Programs are run from the build tree.
set -u
: "${top_builddir:=$(pwd)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
PATH="$top_builddir/bin:$PATH"
export PATH LC_ALL=C
tap_n=0
tap_failed=0
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/pann-test.XXXXXX")
trap 'rm -rf "$TMPD"; echo "1..$tap_n"' EXIT
DATA="$top_srcdir/tests/data"

ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
not_ok() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $1"; }
check() { # check "what" command...   (passes when the command succeeds)
    what=$1; shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}
# run PROG ARGS...: sets $out, $err, $rc (stdout, stderr, exit status)
run() {
    "$@" >"$TMPD/out" 2>"$TMPD/err"
    rc=$?
    out=$(cat "$TMPD/out"); err=$(cat "$TMPD/err")
}
# expect_fail RC PATTERN what PROG ARGS...: exit status RC, one stderr line
# matching the extended regex PATTERN, nothing on stdout.
expect_fail() {
    want_rc=$1; pat=$2; what=$3; shift 3
    run "$@"
    nlines=$(printf '%s\n' "$err" | grep -c .)
    if [ "$rc" -eq "$want_rc" ] && printf '%s\n' "$err" | grep -Eq -- "$pat" \
        && [ "$nlines" -eq 1 ] && [ -z "$out" ]; then
        ok "$what"
    else
        not_ok "$what"
        echo "# rc=$rc (want $want_rc) stderr: $err"
        echo "# stdout: $(printf '%s' "$out" | head -c 200)"
    fi
}
