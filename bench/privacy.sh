#!/bin/sh
# bench/privacy.sh — pann-privacy against a numpy/scikit-learn computation
# of the same definitions (bench/privacy_reference.py: exact KDTree queries)
# run in the same bench: time, agreement of every figure, and pann-privacy's
# peak RSS against the size of its three float32 matrices.
#
#   bench/privacy.sh [NS [NT [NH [NUMERIC [CATEGORICAL]]]]]
#
# Default: 1,000,000 SYNTH x 500,000 TRAIN x 500,000 HOLDOUT rows, 8 numeric
# and 2 categorical columns (d = 10).  `bench/privacy.sh 32500 32500 32500
# 15 4` is the 32,500 x 19 case.  Data: correlated Gaussian columns and two
# categorical ones of 4 and 6 levels tied to the first column; SYNTH is
# drawn from the same distribution, 1 % of it copies of TRAIN rows and 3 %
# near copies (so the figures are not all at their ideals).  REFERENCE=no
# in the environment runs pann-privacy alone (for sizes where the
# reference would take hours).  pann-privacy on PATH.
set -eu
NS=${1:-1000000}; NT=${2:-500000}; NH=${3:-500000}; NUM=${4:-8}; CAT=${5:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/privacy-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 - "$T" "$NS" "$NT" "$NH" "$NUM" "$CAT" <<'PY'
import sys, numpy as np
d, ns, nt, nh, num, cat = sys.argv[1], *map(int, sys.argv[2:])
rng = np.random.default_rng(11)
A = rng.normal(size=(num, num)) / np.sqrt(num)
def rows(k):
    x = rng.normal(size=(k, num)) @ A
    cats = []
    for j in range(cat):
        levels = 4 if j % 2 == 0 else 6
        code = np.clip(((x[:, 0] + rng.normal(size=k)) * 1.2 + levels / 2).astype(int), 0, levels - 1)
        cats.append(np.array([f"c{j}_{v}" for v in range(levels)])[code])
    return x, cats
def write(name, x, cats):
    cols = [np.char.mod("%.5f", x[:, j]) for j in range(num)] + cats
    with open(f"{d}/{name}.csv", "w") as f:
        f.write(",".join([f"x{j}" for j in range(num)] + [f"k{j}" for j in range(cat)]) + "\n")
        out = cols[0]
        for c in cols[1:]:
            out = np.char.add(np.char.add(out, ","), c)
        f.write("\n".join(out.tolist()) + "\n")
tx, tc = rows(nt)
write("train", tx, tc)
hx, hc = rows(nh)
write("holdout", hx, hc)
sx, sc = rows(ns)
u = rng.random(ns)
copy = u < 0.04
src = rng.integers(0, nt, size=ns)
sx[copy] = tx[src[copy]] + (u[copy] >= 0.01)[:, None] * rng.normal(scale=1e-3, size=(copy.sum(), num))
for j in range(cat):
    sc[j][copy] = tc[j][src[copy]]
write("synth", sx, sc)
PY
CATS=$(awk -v c="$CAT" 'BEGIN { for (j = 0; j < c; j++) printf "%sk%d", j ? "," : "", j }')
/usr/bin/time -v pann-privacy -q --seed=3 "$T/train.csv" "$T/synth.csv" "$T/holdout.csv" \
    >"$T/pann.csv" 2>"$T/pann.time"
secs() { awk -F': ' '/Elapsed/ { n = split($2, a, ":"); t = 0; for (i = 1; i <= n; i++) t = t * 60 + a[i]; print t }' "$1"; }
kb() { awk -F': ' '/Maximum resident/ { print $2 }' "$1"; }
p_s=$(secs "$T/pann.time"); p_kb=$(kb "$T/pann.time")
matrix_mb=$(awk -v n=$((NS + NT + NH)) -v d=$((NUM + CAT)) 'BEGIN { printf "%.1f", n * d * 4 / 1048576 }')
echo "pann-privacy bench: $NS SYNTH x $NT TRAIN x $NH HOLDOUT rows, $NUM numeric + $CAT categorical columns, $(nproc) cores"
printf 'pann-privacy (whole process: read, encode, every search and figure): %.2f s, peak RSS %d MB\n' \
    "$p_s" $((p_kb / 1024))
printf 'peak RSS / float32 matrices (%s MB): %.2f\n' "$matrix_mb" \
    "$(awk -v a="$p_kb" -v m="$matrix_mb" 'BEGIN { print a / 1024 / m }')"
if [ "${REFERENCE:-yes}" = no ]; then
    sed 's/^/  /' "$T/pann.csv"
    exit 0
fi
/usr/bin/time -v /usr/bin/python3 "$HERE/privacy_reference.py" "$T/train.csv" "$T/synth.csv" \
    "$T/holdout.csv" "$CATS" 5 3 >"$T/ref.csv" 2>"$T/ref.time"
ref_compute=$(sed -n 's/^read [0-9.]* s, compute \([0-9.]*\) s$/\1/p' "$T/ref.time")
ref_read=$(sed -n 's/^read \([0-9.]*\) s, compute [0-9.]* s$/\1/p' "$T/ref.time")
printf 'numpy + scikit-learn KDTree: %.2f s computing (%.2f s more reading), peak RSS %d MB\n' \
    "$ref_compute" "$ref_read" $(($(kb "$T/ref.time") / 1024))
printf 'speed-up (scikit-learn computing alone / pann-privacy whole): %.1fx\n' \
    "$(awk -v a="$ref_compute" -v b="$p_s" 'BEGIN { print a / b }')"
# every figure side by side; the detection samples differ (each tool's own
# seeded sample of SYNTH), so it agrees within sampling noise only
echo "figure,pann-privacy,scikit-learn,|difference|"
awk -F, 'NR == FNR { if (FNR > 1) ref[$1] = $2; next }
    FNR > 1 && ($1 in ref) { d = $2 - ref[$1]; d = d < 0 ? -d : d
        printf "%s,%s,%s,%.2g\n", $1, $2, ref[$1], d
        if ($1 != "detection" && d > 1e-4 + 1e-4 * (ref[$1] < 0 ? -ref[$1] : ref[$1])) bad++ }
    END { print (bad ? bad " figures DIFFER beyond 1e-4" : "every figure but detection agrees within 1e-4 (relative)") }' \
    "$T/ref.csv" "$T/pann.csv"
