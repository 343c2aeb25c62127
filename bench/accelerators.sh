#!/bin/sh
# bench/accelerators.sh — the article's two accelerators and its 5 % claim,
# measured on the evaluations they save (distance evaluations, not seconds,
# so the machine's load does not matter; the uniform runs use -j 1, whose
# results are the same as any -j).
#  1. Re-sort with a top fraction (--top-fraction=0.5, the article's K = N/2,
#     against 1.0 = every row each epoch) and decay (--decay=0 against 0.1
#     and 0.3), on the article's 200 x 200 example (datasets/gauss2d-*.csv
#     and REPS-1 more data sets of the same law, 10,000 proposals each) and
#     on W1's first ROWS rows of S and T (a budget of 10 % of brute force):
#     the curve evaluations -> mean NN distance / exact mean, and the
#     evaluations needed to come within 5 % of the exact mean.
#  2. The article's claim "within 5 % of exact after at most 10 % of brute
#     force's evaluations", per strategy (uniform = the article's proposals,
#     tree = pann's k-d tree leaves), on W1 and W6 at full size.
# Usage: bench/accelerators.sh [--quick] [BUILD_DIR] [DATA_DIR]
#   DATA_DIR holds w1-S.csv, w1-T.csv (and w6.csv, w1-exact.csv, w6-exact.csv
#   when bench/run.sh made them); without it W1 is generated.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
quick=0
[ "${1:-}" = --quick ] && { quick=1; shift; }
build=$(cd "${1:-$here}" && pwd)
PATH="$build/bin:$PATH"
tmp=$(mktemp -d /tmp/pann-accel.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
data=${2:-}
if [ -z "$data" ]; then data=$tmp; /usr/bin/python3 "$here/bench/gen_workloads.py" "$tmp" W1; fi
if [ $quick = 1 ]; then reps=5 rows=4000 w1_share=0.1 w6_budget=2000000
else reps=20 rows=10000 w1_share=0.002 w6_budget=20000000; fi
settings="0.5:0 1.0:0 0.5:0.1 0.5:0.3"   # top fraction : decay; the first is the default

gauss() { # gauss SEED ROWS: the article's law, N(0, 0.1 I) in 2-D
    awk -v seed="$1" -v rows="$2" 'BEGIN {
        srand(seed); sd = sqrt(0.1); pi = 3.141592653589793
        print "x,y"
        for (i = 0; i < rows; i++) {
            u1 = 1 - rand(); u2 = rand(); r = sqrt(-2 * log(u1))
            printf "%.6f,%.6f\n", sd * r * cos(2 * pi * u2), sd * r * sin(2 * pi * u2)
        }
    }'
}
exact_mean() { # exact_mean S T...: pann-match --exact's mean NN distance
    pann-match --exact "$@" 2>&1 >/dev/null | sed -n 's/.*mean NN distance \([0-9.e+-]*\) over.*/\1/p'
}
csv_mean() { awk -F, 'NR > 1 { s += $3; n++ } END { printf "%.9g", s / n }' "$1"; }
# curve HIST EXACT GRID_STEP POINTS: one line "ev5 r1 r2 ... rP": the first
# evaluation count with mean_best <= 1.05 exact (-1 if never) and the ratio
# mean_best / exact at GRID_STEP, 2 GRID_STEP, ... (last history line <= g)
curve() {
    awk -F, -v ex="$2" -v g="$3" -v p="$4" 'NR > 1 {
            if (ev5 == "" && $4 <= 1.05 * ex) ev5 = $2
            while (k < p && $2 > (k + 1) * g) { r[++k] = last / ex }
            last = $4; cur = $5
        }
        END { while (k < p) r[++k] = last / ex
              printf "%s", (ev5 == "" ? -1 : ev5); for (i = 1; i <= p; i++) printf " %.4f", r[i]
              printf " %.4f\n", cur / ex }' "$1"
}
# report LABEL FILE GRID_LABELS...: mean curve per setting over data sets,
# the evaluations to within 5 % (median over data sets; - = not reached by
# most), and the mean of the current (not best) neighbours at the end, the
# only thing decay can change besides which rows the epochs re-sort
report() {
    file=$1; shift
    printf '%-22s' "setting \\ evaluations"; for g in "$@"; do printf ' %8s' "$g"; done; printf ' %12s %7s %s\n' "to 5% (med)" "current" "reached"
    for s in $settings; do
        grep "^$s " "$file" | awk -v s="$s" '{ n++; ev[n] = $2; for (i = 3; i <= NF; i++) r[i] += $i; last = NF - 1 }
            END { split(s, a, ":"); printf "top %-4s decay %-5s", a[1], a[2]
                  for (i = 3; i <= last; i++) printf " %8.4f", r[i] / n
                  m = 0; for (i = 1; i <= n; i++) if (ev[i] >= 0) ok[++m] = ev[i]
                  for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (ok[j] < ok[i]) { t = ok[i]; ok[i] = ok[j]; ok[j] = t }
                  printf " %12s %7.4f %d/%d\n", (m == n ? ok[int((m + 1) / 2)] : (m > n / 2 ? ok[int((n + 1) / 2)] : "-")), r[NF] / n, m, n }'
    done
}

echo "-- 1a. the article's 200 x 200 example, 10,000 proposals (25 % of brute force), $reps data sets;"
echo "   mean over data sets of (mean NN distance / exact mean) after so many evaluations"
cp "$here/datasets/gauss2d-S.csv" "$tmp/g1-S.csv"; cp "$here/datasets/gauss2d-T.csv" "$tmp/g1-T.csv"
i=2; while [ $i -le $reps ]; do gauss $((100 + 2 * i)) 200 >"$tmp/g$i-S.csv"; gauss $((101 + 2 * i)) 200 >"$tmp/g$i-T.csv"; i=$((i + 1)); done
: >"$tmp/gauss.txt"
i=1; while [ $i -le $reps ]; do
    ex=$(exact_mean "$tmp/g$i-S.csv" "$tmp/g$i-T.csv")
    for s in $settings; do
        pann-match -q -j 1 --estimate=0 --iterations=10000 --history-every=100 --seed=$i \
            --top-fraction=${s%:*} --decay=${s#*:} --history="$tmp/h.csv" \
            "$tmp/g$i-S.csv" "$tmp/g$i-T.csv" >/dev/null
        echo "$s $(curve "$tmp/h.csv" "$ex" 1000 10)" >>"$tmp/gauss.txt"
    done
    i=$((i + 1))
done
report "$tmp/gauss.txt" 1000 2000 3000 4000 5000 6000 7000 8000 9000 10000

echo "-- 1b. W1, first $rows rows of S and of T, uniform proposals, a budget of 10 % of brute force;"
echo "   mean NN distance / exact mean after so many % of brute force's evaluations"
head -n $((rows + 1)) "$data/w1-S.csv" >"$tmp/a-S.csv"; head -n $((rows + 1)) "$data/w1-T.csv" >"$tmp/a-T.csv"
brute=$((rows * rows)); ex=$(exact_mean "$tmp/a-S.csv" "$tmp/a-T.csv")
: >"$tmp/w1.txt"
for s in $settings; do
    pann-match -q -j 1 --estimate=0 --iterations=$((brute / 10)) --history-every=$((brute / 400)) \
        --top-fraction=${s%:*} --decay=${s#*:} --history="$tmp/h.csv" "$tmp/a-S.csv" "$tmp/a-T.csv" >/dev/null
    echo "$s $(curve "$tmp/h.csv" "$ex" $((brute / 100)) 10)" >>"$tmp/w1.txt"
done
report "$tmp/w1.txt" 1% 2% 3% 4% 5% 6% 7% 8% 9% 10%
echo "   (to 5 % in evaluations; brute force = $brute)"

echo "-- 2. the article's claim (within 5 % of the exact mean after <= 10 % of brute force), per strategy"
claim() { # claim NAME EXACT_MEAN BRUTE UNIFORM_BUDGET "LEAVES..." FILES...
    name=$1 ex=$2 brute=$3 budget=$4 leaves=$5; shift 5
    pann-match -q -j 1 --estimate=0 --iterations="$budget" --history-every=$((budget / 20)) --history="$tmp/h.csv" "$@" >/dev/null
    awk -F, -v ex="$ex" -v b="$brute" -v n="$name" 'NR > 1 { if (ev == "" && $4 <= 1.05 * ex) ev = $2; last = $4; it = $2 }
        END { printf "%s uniform: %s; at %.3g%% of brute force mean/exact = %.4f\n", n,
              (ev == "" ? "not within 5 % within the budget" : sprintf("within 5 %% after %.3g%% of brute force", 100 * ev / b)),
              100 * it / b, last / ex }' "$tmp/h.csv"
    for l in $leaves; do
        pann-match --strategy=tree --leaves=$l --estimate=0 "$@" 2>"$tmp/t.err" >/dev/null
        awk -v ex="$ex" -v n="$name" -v l=$l '/mean NN distance/ { m = $0; sub(/.*mean NN distance /, "", m); sub(/ .*/, "", m) }
            /distances computed/ { p = $0; sub(/.*computed \(/, "", p); sub(/%.*/, "", p) }
            END { m += 0; p += 0   # numbers, not strings, in the comparisons
                  printf "%s tree --leaves=%d: %.3g%% of brute force, mean/exact = %.4f%s\n", n, l, p, m / ex,
                  (m <= 1.05 * ex && p <= 10 ? " (claim holds)" : "") }' "$tmp/t.err"
    done
}
if [ -s "$data/w1-exact.csv" ]; then ex1=$(csv_mean "$data/w1-exact.csv"); else ex1=$(exact_mean "$data/w1-S.csv" "$data/w1-T.csv"); fi
n1=$(($(wc -l <"$data/w1-S.csv") - 1)); m1=$(($(wc -l <"$data/w1-T.csv") - 1))
b1=$(awk -v a="$n1" -v b="$m1" 'BEGIN { printf "%.0f", a * b }')
claim "W1 ($n1 x $m1)" "$ex1" "$b1" "$(awk -v b="$b1" -v s="$w1_share" 'BEGIN { printf "%.0f", b * s }')" "1 4 8 16 32" \
    "$data/w1-S.csv" "$data/w1-T.csv"
if [ -s "$data/w6.csv" ]; then
    n6=$(($(wc -l <"$data/w6.csv") - 1))
    if [ -s "$data/w6-exact.csv" ]; then ex6=$(csv_mean "$data/w6-exact.csv")
    else ex6=$(pann-match --strategy=tree --leaves=0 --estimate=0 "$data/w6.csv" 2>&1 >/dev/null |
               sed -n 's/.*mean NN distance \([0-9.e+-]*\) over.*/\1/p'); fi
    b6=$(awk -v a="$n6" 'BEGIN { printf "%.0f", a * (a - 1) }')
    claim "W6 ($n6 rows, self)" "$ex6" "$b6" "$w6_budget" "1 4 8 16 32" "$data/w6.csv"
fi
