#!/bin/sh
# bench/pann-knn.sh — the K = 10 neighbour graph of 50,000 rows x 10
# columns (Gaussian, L1, each row against the others): time of the exact
# search (blocked brute force, all cores), time and recall@10 of the anytime
# K-copies search at several budgets against the exact lists, and a naive
# baseline measured in the same run: a plain C double loop (one thread,
# -O2, top-10 by insertion) over a subsample of the queries, extrapolated
# to all rows and checked against the exact lists on that subsample.
# Usage: bench/pann-knn.sh [BUILD_DIR] [ROWS] [NAIVE_QUERIES]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here}
rows=${2:-50000}
naive_q=${3:-1000}
cols=10
k=10
PATH="$build/bin:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

awk -v seed=7 -v rows="$rows" -v cols=$cols 'BEGIN {
    srand(seed); pi = 3.141592653589793
    for (j = 1; j <= cols; j++) printf "%sx%d", (j > 1 ? "," : ""), j; print ""
    for (i = 0; i < rows; i++) {
        for (j = 1; j <= cols; j++) {
            u1 = 1 - rand(); u2 = rand()
            printf "%s%.6f", (j > 1 ? "," : ""), sqrt(-2 * log(u1)) * cos(2 * pi * u2)
        }
        print ""
    }
}' >"$tmp/data.csv"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
# recall FILE: share of the exact (query, neighbour) pairs found in FILE
recall() {
    awk -F, 'FNR == 1 { file++; next }
             file == 1 { want[$1 "," $3] = 1; total++; next }
             ($1 "," $3) in want { hit++ }
             END { printf "%.4f", hit / total }' "$tmp/exact.csv" "$1"
}

echo "== K = $k neighbour graph, $rows rows x $cols columns, L1, $(nproc) cores"
t0=$(now)
pann-knn -q -k $k --exact "$tmp/data.csv" >"$tmp/exact.csv"
t_exact=$(elapsed "$t0")
printf '%-34s %8s s\n' "exact (blocked brute force)" "$t_exact"

brute=$(awk -v n="$rows" 'BEGIN { printf "%.0f", n * (n - 1) }')
printf '%-34s %8s %10s %12s\n' "anytime budget" seconds recall@10 "vs exact"
for share in default 0.03; do
    if [ "$share" = default ]; then
        opt=""; label="default (50*K per row)"
    else
        opt="--iterations=$(awk -v b="$brute" -v s="$share" 'BEGIN { printf "%.0f", b * s }')"
        label="$share of brute force"
    fi
    t0=$(now)
    pann-knn -q -k $k $opt "$tmp/data.csv" >"$tmp/any.csv"
    t_any=$(elapsed "$t0")
    printf '%-34s %8s %10s %11.2fx\n' "$label" "$t_any" "$(recall "$tmp/any.csv")" \
        "$(awk -v a="$t_any" -v e="$t_exact" 'BEGIN { print a / e }')"
done

# The naive baseline: the first NAIVE_QUERIES rows against all rows.
cat >"$tmp/naive.c" <<'EOF'
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
    size_t n = strtoul(argv[1], 0, 10), d = strtoul(argv[2], 0, 10),
           nq = strtoul(argv[3], 0, 10), k = 10;
    float *x = malloc(n * d * sizeof *x);
    char line[4096];
    if (!fgets(line, sizeof line, stdin)) return 1;
    for (size_t i = 0; i < n * d; i++)
        if (scanf("%f%*[,\n]", &x[i]) != 1) return 1;
    printf("query,rank,neighbor\n");
    for (size_t q = 0; q < nq; q++) {
        float best[10]; size_t nb[10], have = 0;
        for (size_t j = 0; j < n; j++) {
            if (j == q) continue;
            float s = 0;
            for (size_t c = 0; c < d; c++) s += fabsf(x[q * d + c] - x[j * d + c]);
            if (have == k && !(s < best[k - 1])) continue;
            size_t p = have < k ? have++ : k - 1;
            for (; p > 0 && s < best[p - 1]; p--) { best[p] = best[p - 1]; nb[p] = nb[p - 1]; }
            best[p] = s; nb[p] = j;
        }
        for (size_t r = 0; r < k; r++) printf("%zu,%zu,%zu\n", q + 1, r + 1, nb[r] + 1);
    }
    return 0;
}
EOF
cc -O2 -o "$tmp/naive" "$tmp/naive.c" -lm
t0=$(now)
"$tmp/naive" "$rows" $cols "$naive_q" <"$tmp/data.csv" >"$tmp/naive.csv"
t_naive=$(elapsed "$t0")
agree=$(awk -F, -v nq="$naive_q" 'FNR == 1 { file++; next }
    file == 1 { want[$1 "," $2] = $3; next }
    $1 <= nq { total++; same += want[$1 "," $2] == $3 }
    END { printf "%d of %d", same, total }' "$tmp/naive.csv" "$tmp/exact.csv")
t_naive_all=$(awk -v t="$t_naive" -v q="$naive_q" -v n="$rows" 'BEGIN { printf "%.1f", t * n / q }')
printf '%-34s %8s s for %d queries (list entries equal to --exact: %s)\n' \
    "naive C loop, 1 thread, -O2" "$t_naive" "$naive_q" "$agree"
printf '%-34s %8s s extrapolated to %d queries\n' "" "$t_naive_all" "$rows"
printf 'ratio naive / exact: %.1fx\n' "$(awk -v a="$t_naive_all" -v e="$t_exact" 'BEGIN { print a / e }')"
