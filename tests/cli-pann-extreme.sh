#!/bin/sh
# cli-pann-extreme.sh — pann-extreme from the command line: the envelope and
# the outliers against awk brute forces, the exhausted anytime search against
# --exact, reproducibility, the output format (verbatim rows, TSV, CRLF, no
# header), and every option's error.
. "${top_srcdir:-.}/tests/lib.sh"
B="$top_srcdir/datasets/extreme-blob.csv"
X="$DATA/extreme"

# awk brute force of the envelope on columns 1-2 of a CSV with a header:
# each row's farthest other row (ties to the lowest row), then the rows
# chosen with their counts, highest first, ties by row.  Prints row,score.
brute_envelope() { # brute_envelope METRIC FILE
    awk -F, -v metric="$1" '
        NR == 1 { next }
        { n++; x[n] = $1; y[n] = $2 }
        END {
            for (k = 1; k <= n; k++) {
                best = -1; bi = 0
                for (i = 1; i <= n; i++) {
                    if (i == k) continue
                    dx = x[k] - x[i]; dy = y[k] - y[i]
                    if (dx < 0) dx = -dx; if (dy < 0) dy = -dy
                    s = metric == "l2" ? dx * dx + dy * dy : dx + dy
                    if (s > best) { best = s; bi = i }
                }
                count[bi]++
            }
            for (i = 1; i <= n; i++) if (count[i]) printf "%d,%d\n", i, count[i]
        }' "$2" | sort -t, -k2,2nr -k1,1n
}

# awk brute force of the outliers: each row's distance to its K-th nearest
# other row (L1, columns 1-2).  Prints row,distance in row order.
brute_outliers() { # brute_outliers K FILE
    awk -F, -v k="$1" '
        NR == 1 { next }
        { n++; x[n] = $1; y[n] = $2 }
        END {
            for (q = 1; q <= n; q++) {
                m = 0
                for (i = 1; i <= n; i++) {
                    if (i == q) continue
                    dx = x[q] - x[i]; dy = y[q] - y[i]
                    if (dx < 0) dx = -dx; if (dy < 0) dy = -dy
                    d = dx + dy
                    for (j = ++m; j > 1 && a[j - 1] > d; j--) a[j] = a[j - 1]
                    a[j] = d
                    if (m > k) m = k          # keep the k smallest, sorted
                }
                printf "%d,%.10g\n", q, a[k]
            }
        }' "$2"
}

run pann-extreme --help
check "--help exits 0 and shows usage and --outliers" test "$rc" -eq 0 \
    -a -n "$(printf '%s' "$out" | grep 'Usage: pann-extreme')" \
    -a -n "$(printf '%s' "$out" | grep -- '--outliers')"
run pann-extreme --version
check "--version exits 0" test "$rc" -eq 0 -a -n "$(printf '%s' "$out" | grep -E '^pann-extreme \(pann\) [0-9]')"

# ---- the envelope --------------------------------------------------------
for metric in l1 l2; do
    pann-extreme -q --exact --metric=$metric -c x,y "$B" | tail -n +2 | cut -d, -f1,2 >"$TMPD/exact"
    brute_envelope $metric "$B" >"$TMPD/brute"
    check "--exact --metric=$metric envelope equals the awk brute force" cmp -s "$TMPD/exact" "$TMPD/brute"
done
# the blob's points pushed out to the unit circle: many extreme points in L2
# (in L1 the farthest rows crowd at the diagonals)
awk -F, 'NR == 1 { print "x,y"; next }
    NR <= 121 { r = sqrt($1 * $1 + $2 * $2); printf "%.4f,%.4f\n", $1 / r, $2 / r }' "$B" >"$TMPD/ring.csv"
pann-extreme -q --exact --metric=l2 "$TMPD/ring.csv" | tail -n +2 | cut -d, -f1,2 >"$TMPD/exact"
brute_envelope l2 "$TMPD/ring.csv" >"$TMPD/brute"
check "--exact --metric=l2 equals brute force on a ring (many extreme points)" \
    test "$(wc -l <"$TMPD/exact")" -gt 20 -a -z "$(cmp "$TMPD/exact" "$TMPD/brute" 2>&1)"

pann-extreme -q --iterations=0 -c x,y "$B" >"$TMPD/exhausted.csv"
pann-extreme -q --exact -c x,y "$B" >"$TMPD/exact.csv"
check "--iterations=0 (exhausted anytime search) equals --exact" cmp -s "$TMPD/exhausted.csv" "$TMPD/exact.csv"

run pann-extreme --iterations=0 -c x,y "$B"
check "summary: exhausted search proves every row" test -n "$(printf '%s' "$err" | grep 'proven for 305 of 305 rows (100.0%)')"
run pann-extreme -c x,y --seed=5 "$B"
check "summary: rows, seed, extreme points, proposals" test "$rc" -eq 0 \
    -a -n "$(printf '%s' "$err" | grep '305 rows, 2 columns, metric l1, seed 5')" \
    -a -n "$(printf '%s' "$err" | grep -E '[0-9]+ extreme points; farthest row proven')" \
    -a -n "$(printf '%s' "$err" | grep '15250 proposals')"
points=$(printf '%s\n' "$err" | sed -n 's/.*: \([0-9]*\) extreme points.*/\1/p')
total=$(printf '%s\n' "$out" | tail -n +2 | awk -F, '{ s += $2 } END { print s }')
check "anytime: as many output rows as extreme points, scores add up to the rows" \
    test "$(printf '%s\n' "$out" | tail -n +2 | wc -l)" -eq "$points" -a "$total" -eq 305

pann-extreme -q -j1 -c x,y "$B" >"$TMPD/j1.csv"
pann-extreme -q -j2 -c x,y "$B" >"$TMPD/j2.csv"
check "anytime: -j1 and -j2 give identical output" cmp -s "$TMPD/j1.csv" "$TMPD/j2.csv"
pann-extreme -q -j2 -c x,y "$B" >"$TMPD/again.csv"
check "anytime: the same seed gives the same output" cmp -s "$TMPD/j2.csv" "$TMPD/again.csv"
pann-extreme -q --seed=2 --iterations=2000 -c x,y "$B" >"$TMPD/s2.csv"
pann-extreme -q --seed=3 --iterations=2000 -c x,y "$B" >"$TMPD/s3.csv"
check "anytime: another seed gives another search" sh -c '! cmp -s "$1" "$2"' sh "$TMPD/s2.csv" "$TMPD/s3.csv"

run pann-extreme --time=30 -c x,y "$B"
check "--time: a generous limit finishes the budget" test "$rc" -eq 0 \
    -a -n "$(printf '%s' "$err" | grep '15250 proposals')"

# ---- the outliers ---------------------------------------------------------
for k in 1 3; do
    pann-extreme -q --outliers -k $k -c x,y "$B" >"$TMPD/out.csv"
    brute_outliers $k "$B" >"$TMPD/brute"
    # every row once, its distance equal to brute force (float vs double:
    # 1e-5 relative), ranked by distance descending
    check "--outliers -k $k: distances equal the awk brute force" sh -c '
        tail -n +2 "$1" | cut -d, -f1,2 | sort -t, -k1,1n | paste -d, - "$2" | awk -F, "
            { rel = (\$2 - \$4) / (\$4 > 1e-9 ? \$4 : 1); if (rel < 0) rel = -rel
              if (\$1 != \$3 || rel > 1e-5) bad++ }
            END { exit bad > 0 || NR != 305 }"' sh "$TMPD/out.csv" "$TMPD/brute"
    check "--outliers -k $k: ranked most isolated first" sh -c '
        tail -n +2 "$1" | awk -F, "NR > 1 && \$2 > prev { bad++ } { prev = \$2 } END { exit bad > 0 }"' \
        sh "$TMPD/out.csv"
    sort -t, -k2,2gr -k1,1n "$TMPD/brute" | head -5 | cut -d, -f1 >"$TMPD/brute_top"
    tail -n +2 "$TMPD/out.csv" | head -5 | cut -d, -f1 >"$TMPD/top"
    check "--outliers -k $k: the five most isolated rows as brute force" cmp -s "$TMPD/top" "$TMPD/brute_top"
done
check "--outliers: the planted rows are the five most isolated" \
    test "$(pann-extreme -q --outliers -c x,y --top=5 "$B" | grep -c ',planted$')" -eq 5
pann-extreme -q --outliers -k 2 -j1 "$B" >"$TMPD/j1.csv"
pann-extreme -q --outliers -k 2 -j2 "$B" >"$TMPD/j2.csv"
check "--outliers: -j1 and -j2 give identical output" cmp -s "$TMPD/j1.csv" "$TMPD/j2.csv"
pann-extreme -q --outliers --exact -k 2 "$B" >"$TMPD/exact.csv"
check "--outliers --exact is the same (outliers are always exact)" cmp -s "$TMPD/j1.csv" "$TMPD/exact.csv"
run pann-extreme --outliers -k 2 -c x,y "$B"
check "--outliers summary names the neighbour and the most isolated row" \
    test -n "$(printf '%s' "$err" | grep 'distance to neighbour 2 (exact): largest [0-9.]* (row 230)')"
run pann-extreme --outliers -k 304 -c x,y "$B"
check "--outliers -k rows-1 (the farthest row) is accepted" test "$rc" -eq 0

# ---- output format -----------------------------------------------------------
pann-extreme -q --exact -c x,y "$B" >"$TMPD/full.csv"
pann-extreme -q --exact -c x,y --top=2 "$B" >"$TMPD/top2.csv"
check "--top=2: the header and the first two rows of the full ranking" \
    sh -c 'head -3 "$1" | cmp -s - "$2"' sh "$TMPD/full.csv" "$TMPD/top2.csv"
check "rows are written verbatim after row,score" sh -c '
    tail -n +2 "$1" | while IFS=, read -r row score rest; do
        test "$(sed -n "$((row + 1))p" "$2")" = "$rest" || exit 1
    done' sh "$TMPD/full.csv" "$B"
check "header is row,score and the original header" test "$(head -1 "$TMPD/full.csv")" = "row,score,x,y,kind"
pann-extreme -q --exact -c x,y - <"$B" >"$TMPD/stdin.csv"
check "'-' reads standard input" cmp -s "$TMPD/stdin.csv" "$TMPD/full.csv"
run pann-extreme -q --exact -c x,y -o "$TMPD/o.csv" "$B"
check "-o writes the file and nothing on stdout" test "$rc" -eq 0 -a -z "$out" \
    -a -z "$(cmp "$TMPD/o.csv" "$TMPD/full.csv" 2>&1)"
run pann-extreme -q --exact -c x,y "$B"
check "-q: nothing on stderr" test -z "$err"

tr ',' '\t' <"$B" >"$TMPD/blob.tsv"
pann-extreme -q --exact -c x,y -d '\t' "$TMPD/blob.tsv" >"$TMPD/tsv.out"
check "TSV in, TSV out with the same rows" sh -c 'tr "\t" , <"$1" | cmp -s - "$2"' \
    sh "$TMPD/tsv.out" "$TMPD/full.csv"
sed 's/$/\r/' "$B" >"$TMPD/crlf.csv"
pann-extreme -q --exact -c x,y "$TMPD/crlf.csv" >"$TMPD/crlf.out"
check "CRLF input: no CR inside the output lines" cmp -s "$TMPD/crlf.out" "$TMPD/full.csv"
tail -n +2 "$B" >"$TMPD/nohead.csv"
pann-extreme -q --exact --no-header -c 1,2 "$TMPD/nohead.csv" >"$TMPD/nohead.out"
check "--no-header: header row,score,1,2,3" test "$(head -1 "$TMPD/nohead.out")" = "row,score,1,2,3"
check "--no-header: the same rows" sh -c 'tail -n +2 "$1" >"$1.body"; tail -n +2 "$2" | cmp -s - "$1.body"' \
    sh "$TMPD/nohead.out" "$TMPD/full.csv"
pann-extreme -q --exact "$X/quoted.csv" >"$TMPD/q.out"
check "quoted fields are passed on verbatim" test -n "$(grep -F '"far, away"' "$TMPD/q.out")"
pann-extreme -q --exact --missing=drop "$X/missing.csv" >"$TMPD/m.out"
check "--missing=drop: rows keep their numbers in the file" \
    test "$(tail -n +2 "$TMPD/m.out" | cut -d, -f1 | sort -n | tr '\n' ' ')" = "1 5 "

# (the man page's worked examples run in tests/cli-docs.sh)

# ---- errors ------------------------------------------------------------
expect_fail 1 '^pann-extreme: -k: 305 is too large: .*305 rows' "-k equal to the rows is an error naming -k" \
    pann-extreme --outliers -k 305 "$B"
expect_fail 1 '^pann-extreme: -k: ' "-k 0 is an error naming -k" pann-extreme --outliers -k 0 "$B"
expect_fail 1 '^pann-extreme: -k: ' "-k abc is an error naming -k" pann-extreme --outliers -k abc "$B"
expect_fail 1 '^pann-extreme: -k applies to --outliers only' "-k without --outliers" pann-extreme -k 2 "$B"
expect_fail 1 '^pann-extreme: --outliers is always exact' "--outliers with --iterations" \
    pann-extreme --outliers --iterations=10 "$B"
expect_fail 1 '^pann-extreme: --exact has no budget' "--exact with --time" pann-extreme --exact --time=1 "$B"
expect_fail 1 '^pann-extreme: --top: ' "--top=0" pann-extreme --top=0 "$B"
expect_fail 1 '^pann-extreme: --iterations: ' "--iterations=-3" pann-extreme --iterations=-3 "$B"
expect_fail 1 '^pann-extreme: --time: ' "--time=0" pann-extreme --time=0 "$B"
expect_fail 1 '^pann-extreme: --metric: ' "--metric=l7" pann-extreme --metric=l7 "$B"
expect_fail 1 '^pann-extreme: expected one DATA file, got 2' "two files" pann-extreme "$B" "$B"
expect_fail 1 '^pann-extreme: expected one DATA file, got 0' "no file" pann-extreme
run pann-extreme --frobnicate "$B"
check "an unknown option: exit 1, named, nothing on stdout" test "$rc" -eq 1 -a -z "$out" \
    -a -n "$(printf '%s' "$err" | grep -- "--frobnicate")"
expect_fail 2 '^pann-extreme: .*nonexistent.csv: No such file' "a missing file is a system error" \
    pann-extreme "$TMPD/nonexistent.csv"
expect_fail 1 '^pann-extreme: .*ragged.csv:4:[0-9]+: ' "a ragged row is located" pann-extreme "$X/ragged.csv"
expect_fail 1 '^pann-extreme: .*missing.csv:[0-9]+:[0-9]+: missing value' "a missing value is located" \
    pann-extreme "$X/missing.csv"
expect_fail 1 '^pann-extreme: .*no data rows' "every row dropped" \
    pann-extreme -q --missing=drop "$X/allmissing.csv"
expect_fail 2 '^pann-extreme: .*nodir/out.csv' "-o into a missing directory is a system error" \
    pann-extreme -o "$TMPD/nodir/out.csv" "$B"
# One row: no other row to be farthest from or nearest to.
printf 'a,b\n1,2\n' >"$TMPD/one.csv"
for mode in --exact --iterations=0 ""; do
    run pann-extreme $mode "$TMPD/one.csv"
    check "one row ($mode): header only, says no extreme point, 0 proven, no nan" \
        test "$rc" -eq 0 -a "$out" = "row,score,a,b" \
        -a -n "$(printf '%s' "$err" | grep 'no extreme point.*one row.*0 rows proven')" \
        -a -z "$(printf '%s' "$err" | grep -i nan)"
done
expect_fail 1 '^pann-extreme: .*one.csv: one row, and a row is never its own neighbour' \
    "--outliers on one row: one located line, exit 1" pann-extreme --outliers "$TMPD/one.csv"
