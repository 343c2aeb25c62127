#!/bin/sh
# cli-ivf.sh — pann-match --strategy=ivf from the command line: a budget of
# every cell (or half of them) is the exact search, a smaller one gives
# answers no closer than exact with the same bytes for any -j, the history
# is one line per pass with a falling mean, and misuse is refused.
. "${top_srcdir:-.}/tests/lib.sh"
FIX="$top_builddir/tests/npy_fixture"
D=$TMPD
"$FIX" matrix "$D/t.npy" "$D/t.csv" 3000 16 f4 1 3
"$FIX" matrix "$D/q.npy" "$D/q.csv" 200 16 f4 1 4

pann-match -q --exact --metric=l2 "$D/q.npy" "$D/t.npy" >"$D/exact.csv"
for p in 0 20 40; do
    pann-match -q --strategy=ivf --cells=40 --probes=$p --metric=l2 "$D/q.npy" "$D/t.npy" >"$D/ivf.csv"
    check "--probes=$p of 40 cells equals --exact" cmp -s "$D/exact.csv" "$D/ivf.csv"
done
run pann-match --strategy=ivf --cells=40 --probes=20 --metric=l2 "$D/q.npy" "$D/t.npy"
check "the summary says the exact search took over" \
    sh -c 'printf "%s\n" "$1" | grep -q -- "--probes=20 of 40 cells: exact search instead"' sh "$err"
pann-match -q -j1 --strategy=ivf --cells=40 --probes=3 --metric=l2 "$D/q.npy" "$D/t.npy" >"$D/j1.csv"
pann-match -q -j2 --strategy=ivf --cells=40 --probes=3 --metric=l2 "$D/q.npy" "$D/t.npy" >"$D/j2.csv"
check "-j1 and -j2 write the same bytes" cmp -s "$D/j1.csv" "$D/j2.csv"
check "the csv of the CSV input is the same" sh -c \
    'pann-match -q --strategy=ivf --cells=40 --probes=3 --metric=l2 "$1/q.csv" "$1/t.csv" | cmp -s - "$1/j1.csv"' sh "$D"
paste -d, "$D/exact.csv" "$D/j1.csv" | tail -n +2 >"$D/both"
check "no answer closer than the exact one; proven answers are exact" awk -F, '
    $7 + 0 < $3 - 1e-6 * $3 { bad = 1 } $8 == 1 && $6 != $2 { bad = 1 } END { exit bad }' "$D/both"
check "3 of 40 cells already find most neighbours" test \
    "$(awk -F, '$2 == $6' "$D/both" | wc -l)" -ge 100
run pann-match --strategy=ivf --cells=40 --probes=3 --metric=l2 --history="$D/h.csv" "$D/q.npy" "$D/t.npy"
check "summary: cells, probes and passes" sh -c \
    'printf "%s\n" "$1" | grep -Eq "40 cells, 3 probes per row, 3 passes"' sh "$err"
check "history: a line before the search and one per pass" test "$(wc -l <"$D/h.csv")" -eq 5
check "history: the mean distance does not rise" awk -F, 'NR > 3 && $4 > prev { bad = 1 }
    NR > 2 { prev = $4 } END { exit bad }' "$D/h.csv"
expect_fail 1 "^pann-match: --strategy=ivf takes --probes" "--iterations with ivf" \
    pann-match --strategy=ivf --iterations=5 "$D/q.npy" "$D/t.npy"
expect_fail 1 "^pann-match: --strategy=ivf takes --probes" "--mode=max with ivf" \
    pann-match --strategy=ivf --mode=max "$D/q.npy" "$D/t.npy"
expect_fail 1 "^pann-match: --cells and --probes are options of --strategy=ivf" \
    "--probes without ivf" pann-match --probes=3 "$D/q.npy" "$D/t.npy"
expect_fail 1 "^pann-match: the IVF strategy needs numeric columns" "a categorical column" \
    pann-match --strategy=ivf --categorical=1 "$D/q.csv" "$D/t.csv"
exit 0
