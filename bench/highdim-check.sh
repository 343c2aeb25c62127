#!/bin/sh
# bench/highdim-check.sh — checks bench/highdim.py's recall against an
# independent count (awk, joined on the query column) on a small W7
# (T 2,000 rows): an IVF answer as written, the same answer with every
# seventh neighbour field empty (as pann-match writes a query with no
# neighbour), and that answer shuffled with a tenth of its queries left
# out.  Run from a build directory; exits non-zero on a mismatch.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
PY=/usr/bin/python3
PM="$TOP/bin/pann-match"
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT

"$PY" "$HERE/gen_workloads.py" "$D" W7@2000 >/dev/null
"$PM" -q -j2 --exact --metric=cosine "$D/w7-S.npy" "$D/w7-T.npy" >"$D/exact.csv"
"$PM" -q -j2 --strategy=ivf --probes=1 --estimate=0 --metric=cosine \
    "$D/w7-S.npy" "$D/w7-T.npy" >"$D/ivf.csv"
awk -F, 'NR > 1 && (NR - 1) % 7 == 0 { print $1 ",,,0"; next } { print }' \
    "$D/ivf.csv" >"$D/holes.csv"
{ head -1 "$D/holes.csv"; tail -n +2 "$D/holes.csv" |
    awk 'BEGIN { srand(1) } NR % 10 != 3 { print rand() "\t" $0 }' |
    sort -k1,1 | cut -f2-; } >"$D/shuffled.csv"

fail=0
for answer in ivf holes shuffled; do
    got=$("$PY" "$HERE/highdim.py" recall "$D/exact.csv" "$D/$answer.csv")
    want=$(awk -F, 'FNR == 1 { next }
        NR == FNR { a[$1] = $2; next }
        { n++; if (($1 in a) && a[$1] != "" && a[$1] == $2) h++ }
        END { printf "%.4f", h / n }' "$D/$answer.csv" "$D/exact.csv")
    if [ "$got" = "$want" ]; then
        echo "ok: $answer recall $got"
    else
        echo "FAIL: $answer recall $got, independent count $want"; fail=1
    fi
done
exit $fail
