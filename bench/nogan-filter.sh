#!/bin/sh
# bench/nogan-filter.sh — nogan-filter on N synthetic rows against M real
# rows, 10 numeric columns (default 1,000,000 x 100,000): time and peak
# memory of the default (proven, pruned) run against --exact (brute force)
# measured in the same run.  Data are generated with numpy into a temporary
# directory.  Usage: bench/nogan-filter.sh [N [M]]  (nogan-filter on PATH)
set -eu
N=${1:-1000000}; M=${2:-100000}
T=$(mktemp -d /tmp/nogan-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 - "$T" "$N" "$M" <<'PY'
import sys, numpy as np
d, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(7)
A = rng.normal(size=(10, 10)) / 3
def rows(k, far):
    x = rng.normal(size=(k, 10)) @ A + np.arange(10)
    x[rng.random(k) < far] += 3.0        # a share of rows off the real data
    return x
for name, k, far in (("real", m, 0.0), ("synth", n, 0.05)):
    np.savetxt(f"{d}/{name}.csv", rows(k, far), fmt="%.5f", delimiter=",",
               header=",".join(f"x{i}" for i in range(10)), comments="")
PY
measure() { # label args...: prints seconds and peak RSS
    label=$1; shift
    /usr/bin/time -v nogan-filter -q "$@" "$T/real.csv" "$T/synth.csv" > "$T/$label.out" 2> "$T/$label.time"
    s=$(awk -F': ' '/Elapsed/ { n = split($2, a, ":"); t = 0; for (i = 1; i <= n; i++) t = t * 60 + a[i]; print t }' "$T/$label.time")
    kb=$(awk -F': ' '/Maximum resident/ { print $2 }' "$T/$label.time")
    echo "$s $kb"
}
set -- $(measure default --report="$T/report.csv"); s1=$1; k1=$2
set -- $(measure exact --exact); s2=$1; k2=$2
cmp -s "$T/default.out" "$T/exact.out" && same=yes || same=NO
work=$(awk -F, '$1 == "work_fraction" { print $2 }' "$T/report.csv")
echo "nogan-filter bench: $N synthetic x $M real rows, 10 columns, $(nproc) cores"
printf 'default (pruned, proven): %.1f s, peak RSS %d MB, %.2f%% of brute-force distance evaluations\n' "$s1" $((k1 / 1024)) "$(awk -v w="$work" 'BEGIN { print 100 * w }')"
printf 'brute force (--exact):    %.1f s, peak RSS %d MB\n' "$s2" $((k2 / 1024))
printf 'speed-up %.1fx, memory ratio %.2f, same kept rows: %s\n' \
    "$(awk -v a="$s2" -v b="$s1" 'BEGIN { print a / b }')" \
    "$(awk -v a="$k1" -v b="$k2" 'BEGIN { print a / b }')" "$same"
