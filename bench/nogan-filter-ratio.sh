#!/bin/sh
# bench/nogan-filter-ratio.sh — the ratio selection's time and memory
# against the distance rule, in the same run: SYNTH N rows (default
# 1,000,000) x REAL N/10 rows, d = 10, a Gaussian mixture (the synthetic
# rows a wider copy of it).  Target: ratio time <= 2x the distance rule's;
# peak RSS <= 2x the two matrices plus O(K n).
# usage: bench/nogan-filter-ratio.sh [BUILD_DIR] [N]
set -eu
build=${1:-.}
n=${2:-1000000}
work=$(mktemp -d "${TMPDIR:-/tmp}/pann-ratio.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
/usr/bin/python3 - "$work" "$n" <<'PY'
import sys, numpy as np
out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(5)
def mix(rows, spread):
    c = rng.integers(0, 8, rows)
    centres = np.random.default_rng(1).normal(size=(8, 10)) * 3
    return centres[c] + rng.normal(size=(rows, 10)) * spread
hdr = ",".join("x%d" % j for j in range(10))
np.savetxt(out + "/real.csv", mix(n // 10, 1.0), delimiter=",", header=hdr, comments="", fmt="%.5g")
np.savetxt(out + "/synth.csv", mix(n, 1.2), delimiter=",", header=hdr, comments="", fmt="%.5g")
PY
measure() { # label args...
    label=$1; shift
    /usr/bin/time -f '%e %M' -o "$work/t" "$build/bin/nogan-filter" -q "$@" \
        "$work/real.csv" "$work/synth.csv" > "$work/kept.csv"
    read -r s kb < "$work/t"
    echo "$label $s $kb $(($(wc -l < "$work/kept.csv") - 1))"
}
d=$(measure distance --select=distance)
r=$(measure ratio --select=ratio)
echo "$d
$r" | awk -v n="$n" '
    { name[NR] = $1; s[NR] = $2; kb[NR] = $3; kept[NR] = $4 }
    END {
      mat = (n + n / 10) * 10 * 4 / 1048576
      for (i = 1; i <= 2; i++)
          printf "%-9s %7.1f s  peak RSS %6.0f MB  kept %d of %d\n", name[i], s[i], kb[i] / 1024, kept[i], n
      printf "ratio / distance time %.2f (target <= 2); ratio peak RSS %.1f x the matrices (%.0f MB)\n",
             s[2] / s[1], kb[2] / 1024 / mat, mat
    }'
