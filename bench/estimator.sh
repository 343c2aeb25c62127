#!/bin/sh
# bench/estimator.sh — how well pann-match estimates the exact mean NN
# distance, against the exact value from --exact in the same run.
#
# 1. The article's example (section 3): S and T of 200 points from a 2-D
#    Gaussian with covariance 0.1*I, 10,000 proposals, repeated on REPS data
#    sets.  Compares the power-law fit's a (the article's estimate) and the
#    difference estimator (pann's), with the share of 95 % intervals that
#    cover the exact value.
# 2. A 100,000-row set (d = 4, Gaussian), 50 proposals per row.
# Usage: bench/estimator.sh [BUILD_DIR] [REPS]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here}
reps=${2:-20}
PATH="$build/bin:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

gauss() { # gauss SEED ROWS COLS SD
    awk -v seed="$1" -v rows="$2" -v cols="$3" -v sd="$4" 'BEGIN {
        srand(seed); pi = 3.141592653589793
        for (j = 1; j <= cols; j++) printf "%sx%d", (j > 1 ? "," : ""), j; print ""
        for (i = 0; i < rows; i++) {
            for (j = 1; j <= cols; j++) {
                u1 = 1 - rand(); u2 = rand()
                printf "%s%.6f", (j > 1 ? "," : ""), sd * sqrt(-2 * log(u1)) * cos(2 * pi * u2)
            }
            print ""
        }
    }'
}
# summary fields from pann-match's stderr
field() { sed -n "$1" "$2" | head -n 1; }

echo "== The article's example: 200 x 200, 2-D, 10,000 proposals, $reps data sets"
printf '%-4s %10s %10s %10s %10s %s\n' rep exact fit_a estimate halfwidth covered
i=0
while [ $i -lt "$reps" ]; do
    gauss $((1000 + 2 * i)) 200 2 0.316228 >"$tmp/S.csv"
    gauss $((1001 + 2 * i)) 200 2 0.316228 >"$tmp/T.csv"
    pann-match --exact "$tmp/S.csv" "$tmp/T.csv" 2>"$tmp/exact.err" >/dev/null
    pann-match --iterations=10000 --fit --seed=$((i + 1)) "$tmp/S.csv" "$tmp/T.csv" 2>"$tmp/any.err" >/dev/null
    exact=$(field 's/.*mean NN distance \([0-9.e+-]*\) over.*/\1/p' "$tmp/exact.err")
    a=$(field 's/.*: a = \([0-9.e+-]*\) .*/\1/p' "$tmp/any.err")
    est=$(field 's/.*estimated exact mean NN distance \([0-9.e+-]*\) .*/\1/p' "$tmp/any.err")
    half=$(field 's/.*estimated exact mean NN distance [0-9.e+-]* +\/- \([0-9.e+-]*\) .*/\1/p' "$tmp/any.err")
    work=$(field 's/.*rows sampled, \([0-9.e+-]*\)% of brute-force work.*/\1/p' "$tmp/any.err")
    cov=$(awk -v e="$exact" -v m="$est" -v h="$half" 'BEGIN { print (m - h <= e && e <= m + h) ? 1 : 0 }')
    printf '%-4d %10s %10s %10s %10s %s\n' "$i" "$exact" "$a" "$est" "$half" "$cov"
    echo "$exact $a $est $cov $work" >>"$tmp/rows"
    i=$((i + 1))
done
awk '{ n++; ea += ($2 - $1) / $1; aa += ($2 > $1 ? $2 - $1 : $1 - $2) / $1
       ee += ($3 - $1) / $1; ae += ($3 > $1 ? $3 - $1 : $1 - $2 * 0 - $3 + 0 ) / $1; cov += $4; w += $5 }
     END { printf "fit a:     mean relative error %+.1f%%, mean |error| %.1f%%\n", 100 * ea / n, 100 * aa / n
           printf "estimate:  mean relative error %+.1f%%, mean |error| %.1f%%, 95%% interval covered %d of %d\n", 100 * ee / n, 100 * ae / n, cov, n
           printf "work: anytime 25%% of brute force (10,000 of 40,000 pairs) + estimate %.1f%%\n", w / n }' "$tmp/rows"

echo "== 100,000 x 100,000 rows, d = 4, 50 proposals per row"
gauss 7 100000 4 1 >"$tmp/S.csv"
gauss 8 100000 4 1 >"$tmp/T.csv"
t0=$(date +%s.%N)
pann-match --exact "$tmp/S.csv" "$tmp/T.csv" 2>"$tmp/exact.err" >/dev/null
t1=$(date +%s.%N)
pann-match "$tmp/S.csv" "$tmp/T.csv" 2>"$tmp/any.err" >/dev/null
t2=$(date +%s.%N)
exact=$(field 's/.*mean NN distance \([0-9.e+-]*\) over.*/\1/p' "$tmp/exact.err")
anytime=$(field 's/.*mean NN distance \([0-9.e+-]*\) over.*/\1/p' "$tmp/any.err")
est=$(field 's/.*estimated exact mean NN distance \([0-9.e+-]*\) .*/\1/p' "$tmp/any.err")
half=$(field 's/.*estimated exact mean NN distance [0-9.e+-]* +\/- \([0-9.e+-]*\) .*/\1/p' "$tmp/any.err")
work=$(field 's/.*rows sampled, \([0-9.e+-]*\)% of brute-force work.*/\1/p' "$tmp/any.err")
awk -v e="$exact" -v a="$anytime" -v m="$est" -v h="$half" -v w="$work" -v te="$(echo "$t1 - $t0" | bc)" -v ta="$(echo "$t2 - $t1" | bc)" 'BEGIN {
    printf "exact mean %.6g (%.2f s); anytime mean %.6g; estimate %.6g +/- %.2g: error %+.2f%%\n", e, te, a, m, h, 100 * (m - e) / e
    printf "work: anytime 0.05%% of brute force + estimate %s%%; time %.2f s, %.2fx the exact run\n", w, ta, ta / te }'
