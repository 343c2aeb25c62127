#!/bin/sh
# cli-pann-match.sh — pann-match from the command line: exact search against an
# awk brute force, the anytime search's invariants, reproducibility, every
# option's error and the located input errors.
. "${top_srcdir:-.}/tests/lib.sh"
S="$top_srcdir/datasets/gauss2d-S.csv"
T="$top_srcdir/datasets/gauss2d-T.csv"
M="$DATA/match"

# awk brute force: for each row of Q its nearest (or farthest) row of R,
# ties to the lowest row, self excluded when SELF=1.  Prints query,neighbor,distance.
brute() { # brute METRIC MODE SELF QUERY REFERENCE
    awk -F, -v metric="$1" -v mode="$2" -v self="$3" '
        FNR == 1 { file++; next }
        file == 1 { nr++; for (j = 1; j <= NF; j++) r[nr, j] = $j; nf = NF; next }
        {
            nq++; best = ""; bi = 0
            for (i = 1; i <= nr; i++) {
                if (self && i == nq) continue
                s = 0
                for (j = 1; j <= nf; j++) {
                    d = $j - r[i, j]; if (d < 0) d = -d
                    s += metric == "l2" ? d * d : d
                }
                if (best == "" || (mode == "min" ? s < best : s > best)) { best = s; bi = i }
            }
            printf "%d,%d,%.10g\n", nq, bi, metric == "l2" ? sqrt(best) : best
        }' "$5" "$4"
}
# Same neighbours and distances within 1e-5 relative.  pann computes in
# float32, awk in double: two rows at distances equal to float precision
# are a tie for pann (lowest row wins), so a different neighbour is accepted
# only when its distance equals the brute-force one to 1e-6.
same_answers() { # same_answers PANN_CSV BRUTE_CSV
    tail -n +2 "$1" | cut -d, -f1-3 | paste -d, - "$2" | awk -F, '
        { rel = ($3 - $6) / ($6 > 1e-12 ? $6 : 1); if (rel < 0) rel = -rel
          if ($1 != $4 || ($2 != $5 && rel > 1e-6)) { print "row " $1 ": " $2 " vs " $5; bad++ }
          if (rel > 1e-5) { print "row " $1 ": distance " $3 " vs " $6; bad++ } }
        END { exit bad > 0 }'
}

run pann-match --help
check "--help exits 0 and shows usage" test "$rc" -eq 0 -a -n "$(printf '%s' "$out" | grep 'Usage: pann-match')"
run pann-match --version
check "--version exits 0" test "$rc" -eq 0 -a -n "$(printf '%s' "$out" | grep -E '^pann-match \(pann\) [0-9]')"

for metric in l1 l2; do
    pann-match -q --exact --metric=$metric "$S" "$T" >"$TMPD/exact.csv"
    brute $metric min 0 "$S" "$T" >"$TMPD/brute.csv"
    check "--exact --metric=$metric equals brute force (two files)" same_answers "$TMPD/exact.csv" "$TMPD/brute.csv"
    pann-match -q --exact --metric=$metric "$S" >"$TMPD/exact.csv"
    brute $metric min 1 "$S" "$S" >"$TMPD/brute.csv"
    check "--exact --metric=$metric equals brute force (one file, self excluded)" same_answers "$TMPD/exact.csv" "$TMPD/brute.csv"
done
pann-match -q --exact --mode=max "$S" "$T" >"$TMPD/exact.csv"
brute l1 max 0 "$S" "$T" >"$TMPD/brute.csv"
check "--exact --mode=max equals brute-force farthest rows" same_answers "$TMPD/exact.csv" "$TMPD/brute.csv"

pann-match -q --iterations=0 "$S" "$T" >"$TMPD/exhausted.csv"
pann-match -q --exact "$S" "$T" >"$TMPD/exact.csv"
check "--iterations=0 (exhaustion) equals --exact" cmp -s "$TMPD/exhausted.csv" "$TMPD/exact.csv"

pann-match -q --strategy=tree --leaves=0 "$S" "$T" >"$TMPD/tree.csv"
check "--strategy=tree --leaves=0 equals --exact" cmp -s "$TMPD/tree.csv" "$TMPD/exact.csv"
pann-match -q --strategy=tree --leaves=1 -j 1 "$S" "$T" >"$TMPD/tree1.csv"
pann-match -q --strategy=tree --leaves=1 -j 2 "$S" "$T" >"$TMPD/tree2.csv"
check "--strategy=tree: identical output with -j 1 and -j 2" cmp -s "$TMPD/tree1.csv" "$TMPD/tree2.csv"
tail -n +2 "$TMPD/exact.csv" >"$TMPD/exact.body"
check "--strategy=tree: proven rows equal the exact answer" sh -c "tail -n +2 '$TMPD/tree1.csv' | paste -d, - '$TMPD/exact.body' | awk -F, '\$4 == 1 && (\$2 != \$6 || \$3 != \$7) { bad++ } END { exit bad > 0 }'"
expect_fail 1 "^pann-match: --strategy=tree takes --leaves" "--strategy=tree with --history" pann-match --strategy=tree --history=x "$S"
expect_fail 1 "^pann-match: --strategy: 'best'" "unknown strategy" pann-match --strategy=best "$S"
pann-match -q --strategy=graph -j 1 "$S" "$T" >"$TMPD/graph1.csv"
pann-match -q --strategy=graph -j 2 "$S" "$T" >"$TMPD/graph2.csv"
check "--strategy=graph: identical output with -j 1 and -j 2" cmp -s "$TMPD/graph1.csv" "$TMPD/graph2.csv"
check "--strategy=graph: at least 95% of rows get the exact neighbour" sh -c "tail -n +2 '$TMPD/graph1.csv' | paste -d, - '$TMPD/exact.body' | awk -F, '\$2 == \$6 { ok++ } END { exit ok < 190 }'"
expect_fail 1 "^pann-match: --strategy=graph takes" "--strategy=graph with --mode=max" pann-match --strategy=graph --mode=max "$S"
pann-match -q --seed=7 -j 1 --decay=0.3 "$S" "$T" >"$TMPD/j1.csv"
pann-match -q --seed=7 -j 2 --decay=0.3 "$S" "$T" >"$TMPD/j2.csv"
check "same seed: identical output with -j 1 and -j 2" cmp -s "$TMPD/j1.csv" "$TMPD/j2.csv"
pann-match -q --seed=8 "$S" "$T" >"$TMPD/seed8.csv"
check "another seed gives another path" test -n "$(cmp "$TMPD/j1.csv" "$TMPD/seed8.csv" 2>&1)"
check "one output row per query row, with the header" test "$(wc -l <"$TMPD/j1.csv")" -eq 201
check "header is query,neighbor,distance,proven" test "$(head -n 1 "$TMPD/j1.csv")" = "query,neighbor,distance,proven"
tail -n +2 "$TMPD/j1.csv" | cut -d, -f3 >"$TMPD/any.d"
tail -n +2 "$TMPD/exact.csv" | cut -d, -f3 >"$TMPD/ex.d"
check "anytime distance >= exact distance on every row" sh -c "paste -d, '$TMPD/any.d' '$TMPD/ex.d' | awk -F, '\$1 < \$2 - 1e-6 { bad++ } END { exit bad > 0 }'"

# --group: an awk brute force restricted to the query's category (column 1),
# the group column left out of the distance; ties to the lowest row.
group_brute() { # group_brute SELF QUERY REFERENCE
    awk -F, -v self="$1" '
        FNR == 1 { file++; next }
        file == 1 { nr++; g[nr] = $1; x[nr] = $2; y[nr] = $3; next }
        { nq++; best = ""; bi = ""
          for (i = 1; i <= nr; i++) {
              if (g[i] != $1 || (self && i == nq)) continue
              d = ($2 > x[i] ? $2 - x[i] : x[i] - $2) + ($3 > y[i] ? $3 - y[i] : y[i] - $3)
              if (best == "" || d < best) { best = d; bi = i } }
          printf "%d,%s,%s\n", nq, bi, best }' "$3" "$2"
}
G="$M/grouped.csv"
GQ="$M/grouped-query.csv"
pann-match -q --exact --group=kind "$G" | tail -n +2 | cut -d, -f1-3 >"$TMPD/g.csv"
group_brute 1 "$G" "$G" >"$TMPD/gb.csv"
check "--group --exact equals a brute force within each category (one file)" cmp -s "$TMPD/g.csv" "$TMPD/gb.csv"
run pann-match --exact --group=kind "$GQ" "$G"
printf '%s\n' "$out" | tail -n +2 | cut -d, -f1-3 >"$TMPD/g2.csv"
group_brute 0 "$GQ" "$G" | sed 's/,,$/,,/' >"$TMPD/gb2.csv"
check "--group --exact equals a brute force within each category (two files)" cmp -s "$TMPD/g2.csv" "$TMPD/gb2.csv"
check "--group: a category absent from the reference is reported" sh -c "printf '%s' \"\$1\" | grep -q '5 query rows have a category absent'" _ "$err"
pann-match -q --exact --group=kind --batch=1000 "$G" | tail -n +2 | cut -d, -f1-3 >"$TMPD/g3.csv"
check "--batch larger than every category changes nothing" cmp -s "$TMPD/g3.csv" "$TMPD/gb.csv"
run pann-match --exact --group=kind --batch=5 "$G"
check "--batch=5 reports the searches and the share of pairs" sh -c "printf '%s' \"\$1\" | grep -q '3 categories, 12 searches; 300 pairs within batches, 8.33%'" _ "$err"
check "--batch: every neighbour is in the same category" sh -c "printf '%s\n' \"\$1\" | tail -n +2 | awk -F, 'NR == FNR { if (FNR > 1) g[FNR - 1] = \$1; next } \$2 != \"\" && g[\$1] != g[\$2] { bad++ } END { exit bad > 0 }' '$G' -" _ "$out"
expect_fail 1 "^pann-match: --batch needs --group" "--batch without --group" pann-match --batch=5 "$G"
expect_fail 1 "^pann-match: .*unknown column 'nope'" "--group names an unknown column" pann-match --group=nope "$G"
expect_fail 1 "^pann-match: --columns: .*includes the group column" "--columns naming the group column" pann-match --group=kind -c kind,x "$G"

run pann-match -q --iterations=10000 --history="$TMPD/h.csv" --fit "$S" "$T"
check "--history has the documented header" test "$(head -n 1 "$TMPD/h.csv")" = "step,iteration,swaps,mean_best,mean_current"
check "--history: first line once every row has a candidate (200 proposals)" test "$(sed -n 2p "$TMPD/h.csv" | cut -d, -f2)" = 200
check "--history: then a line per epoch (100 proposals) up to 10,000" test "$(tail -n +2 "$TMPD/h.csv" | wc -l)" -eq 99
check "--history: mean_best never rises from its first line" sh -c "tail -n +2 '$TMPD/h.csv' | awk -F, 'NR > 1 && \$4 > prev + 1e-9 { bad++ } { prev = \$4 } END { exit bad > 0 }'"
# A table of 569 rows and 30 columns on scales from 1 to 1000 split in
# halves: in min mode without temperature the history never rises from its
# first line, which comes after each row's first candidate, counted.
awk 'BEGIN { srand(11); for (j = 1; j <= 30; j++) printf "%sc%d", (j > 1 ? "," : ""), j; print ""
             for (i = 0; i < 569; i++) { for (j = 1; j <= 30; j++)
                 printf "%s%.4f", (j > 1 ? "," : ""), rand() * 10 ^ (j % 4); print "" } }' >"$TMPD/x.csv"
head -n 286 "$TMPD/x.csv" >"$TMPD/xs.csv"
{ head -n 1 "$TMPD/x.csv"; tail -n +287 "$TMPD/x.csv"; } >"$TMPD/xt.csv"
run pann-match --scale=none --seed=7 --history="$TMPD/hx.csv" "$TMPD/xs.csv" "$TMPD/xt.csv"
check "--history on 285 x 284 rows: first line at 285 proposals, no swap yet" test "$(sed -n 2p "$TMPD/hx.csv" | cut -d, -f2,3)" = 285,0
check "--history on 285 x 284 rows: mean_current never rises" sh -c "tail -n +2 '$TMPD/hx.csv' | awk -F, 'NR > 1 && (\$5 > prev || \$4 != \$5) { bad++ } { prev = \$5 } END { exit bad > 0 || NR < 90 }'"
check "--history: the summary's proposals include the first pass" sh -c "printf '%s' \"\$1\" | grep -q '14250 proposals'" _ "$err"
pann-match -q -j1 --scale=none --seed=7 --history="$TMPD/hx1.csv" "$TMPD/xs.csv" "$TMPD/xt.csv" >"$TMPD/mx1.csv"
check "--history and matches: the same for -j1 and -j2" sh -c "cmp -s '$TMPD/hx.csv' '$TMPD/hx1.csv' && printf '%s\n' \"\$1\" | cmp -s - '$TMPD/mx1.csv'" _ "$out"
# A self-match of one row: no neighbour exists, said once, nothing proven,
# no nan anywhere (summary, matches, history).
printf 'a,b\n1,2\n' >"$TMPD/one.csv"
for opts in "" --exact --strategy=tree --strategy=graph --iterations=0 "--history=$TMPD/h1.csv --fit" --group=a; do
    run pann-match $opts "$TMPD/one.csv"
    check "one-row self-match ${opts:-(default)}: the row with empty fields and proven 0" \
        test "$rc" -eq 0 -a "$out" = "$(printf 'query,neighbor,distance,proven\n1,,,0')"
    check "one-row self-match ${opts:-(default)}: 'no neighbour' said once, no nan, no mean" sh -c '
        [ "$(printf "%s\n" "$1" | grep -c "no neighbour")" -eq 1 ] &&
        printf "%s\n" "$1" | grep -q "one.csv has one row and a row is never its own neighbour (0 rows proven" &&
        ! printf "%s\n" "$1" | grep -qi "nan\|mean NN\|proven exact"' _ "$err"
done
check "one-row self-match --history: empty means, no nan" test "$(tail -n +2 "$TMPD/h1.csv")" = "1,1,0,,"
printf 'g,x\na,1\na,2\na,4\nb,7\n' >"$TMPD/single.csv"
run pann-match --exact --group=g "$TMPD/single.csv"
check "--group with a category of one row: that row has no neighbour and is not proven" \
    test "$(printf '%s\n' "$out" | tail -n +2 | tr '\n' ' ')" = "1,2,1,1 2,1,1,1 3,2,2,1 4,,,0 "
check "--group with a category of one row: 3 rows proven of 4, no nan" sh -c '
    printf "%s\n" "$1" | grep -q "mean NN distance 1.33333 over 3 rows; exact search; 3 rows (75.0%) proven exact" &&
    ! printf "%s\n" "$1" | grep -qi nan' _ "$err"
run pann-match --iterations=10000 --fit "$S" "$T"
check "summary reports the fit and the estimate" sh -c "printf '%s' \"\$1\" | grep -q 'fit a + b\*t^c' && printf '%s' \"\$1\" | grep -q 'estimated exact mean'" _ "$err"
check "summary reports the seed" sh -c "printf '%s' \"\$1\" | grep -q 'seed 1'" _ "$err"
run pann-match --exact --progress "$S" "$T"
check "--progress: a progress line on stderr even when it is not a terminal" sh -c "printf '%s' \"\$1\" | tr '\\r' '\\n' | grep -q '200/200 done (100%)'" _ "$err"
run pann-match --iterations=1000 --progress "$S" "$T"
check "--progress: the anytime search reports proposals" sh -c "printf '%s' \"\$1\" | tr '\\r' '\\n' | grep -q '1000/1000 done'" _ "$err"
run pann-match -q "$S" "$T"
check "-q prints nothing on stderr" test -z "$err" -a "$rc" -eq 0

pann-match -q --exact - "$T" <"$S" >"$TMPD/stdin.csv"
pann-match -q --exact "$S" "$T" >"$TMPD/file.csv"
check "'-' reads the query from stdin" cmp -s "$TMPD/stdin.csv" "$TMPD/file.csv"
# Plain numeric files are loaded without their text (lib/load.c); stdin
# takes the general path: both must give the same bytes, and the same
# located error for a file the loader leaves to the general path.
awk 'BEGIN { srand(7); print "a,b,c,d,e"; for (i = 0; i < 40000; i++)
      printf "%.6f,%.4g,%d,%.3e,%.5f\n", rand(), rand() * 100, int(rand() * 50), rand() - 0.5, rand() * 9 }' \
    >"$TMPD/big-T.csv"
awk 'BEGIN { srand(8); print "e,b,a,c,d"; for (i = 0; i < 3000; i++)
      printf "%.5f,%.4g,%.6f,%d,%.3e\n", rand() * 9, rand() * 100, rand(), int(rand() * 50), rand() - 0.5 }' \
    >"$TMPD/big-S.csv"
pann-match -q --exact --scale=std "$TMPD/big-S.csv" "$TMPD/big-T.csv" >"$TMPD/big-file.csv"
pann-match -q --exact --scale=std - "$TMPD/big-T.csv" <"$TMPD/big-S.csv" >"$TMPD/big-stdin-S.csv"
pann-match -q --exact --scale=std "$TMPD/big-S.csv" - <"$TMPD/big-T.csv" >"$TMPD/big-stdin-T.csv"
check "numeric files loaded directly: same output as through stdin (query)" \
    cmp -s "$TMPD/big-file.csv" "$TMPD/big-stdin-S.csv"
check "numeric files loaded directly: same output as through stdin (reference)" \
    cmp -s "$TMPD/big-file.csv" "$TMPD/big-stdin-T.csv"
check "numeric files: an answer for every query row" test "$(wc -l <"$TMPD/big-file.csv")" -eq 3001
pann-match -q --exact -c a,c "$TMPD/big-T.csv" >"$TMPD/big-self.csv"
pann-match -q --exact -c a,c - <"$TMPD/big-T.csv" >"$TMPD/big-self-stdin.csv"
check "numeric file, columns chosen, self match: same as through stdin" \
    cmp -s "$TMPD/big-self.csv" "$TMPD/big-self-stdin.csv"
{ cat "$TMPD/big-T.csv"; echo "1,2,NA,4,5"; } >"$TMPD/big-na.csv"
expect_fail 1 "^pann-match: .*big-na.csv:40002:3: missing value" \
    "a missing value after 1 MB of plain numbers: located as by the general path" \
    pann-match -q "$TMPD/big-na.csv"
pann-match -q --exact -o "$TMPD/o.csv" "$S" "$T"
check "-o writes the same as stdout" cmp -s "$TMPD/o.csv" "$TMPD/file.csv"
check "-o leaves no temporary file" test "$(ls "$TMPD" | grep -c '\.tmp\.')" -eq 0
pann-match -q --exact --eps=0.05 "$S" "$T" >"$TMPD/eps.csv"
check "--eps: no neighbour closer than eps" sh -c "tail -n +2 '$TMPD/eps.csv' | awk -F, '\$3 != \"\" && \$3 < 0.05 { bad++ } END { exit bad > 0 }'"
run pann-match -q --exact "$M/bom-crlf.csv"
check "BOM, CRLF and quotes are read" test "$rc" -eq 0 -a "$(printf '%s\n' "$out" | sed -n 2p)" = "1,2,5,1"

expect_fail 1 "^pann-match: .*ragged.csv:3:3: " "ragged row: located error" pann-match "$M/ragged.csv"
expect_fail 1 "^pann-match: .*text.csv:4:2: .*'x'.*not a number" "non-numeric value: located error" pann-match "$M/text.csv"
expect_fail 1 "^pann-match: .*empty.csv.*empty" "empty file" pann-match "$M/empty.csv"
expect_fail 1 "^pann-match: .*missing.csv:3:2: missing value" "missing value: located error" pann-match "$M/missing.csv"
expect_fail 1 "^pann-match: .*unknown column 'zz'" "unknown column name" pann-match -c zz "$S"
expect_fail 1 "^pann-match: .*no column 'x'" "schema mismatch between the files" pann-match "$M/two-cols.csv" "$S"
expect_fail 1 "^pann-match: .*cosine.*categorical" "cosine with a categorical column" pann-match --metric=cosine "$M/categorical.csv"
expect_fail 2 "^pann-match: .*nonexistent.csv: No such file" "missing file: exit 2" pann-match "$TMPD/nonexistent.csv"
expect_fail 2 "^pann-match: .*is a directory" "a directory: exit 2" pann-match "$TMPD"
expect_fail 1 "^pann-match: --threads: '0'" "--threads=0" pann-match --threads=0 "$S"
expect_fail 1 "^pann-match: --top-fraction: '1.5'" "--top-fraction=1.5" pann-match --top-fraction=1.5 "$S"
expect_fail 1 "^pann-match: --iterations: '-5'" "negative --iterations" pann-match --iterations=-5 "$S"
expect_fail 1 "^pann-match: --metric: 'foo'" "unknown metric" pann-match --metric=foo "$S"
expect_fail 1 "^pann-match: --mode: 'mid'" "unknown mode" pann-match --mode=mid "$S"
expect_fail 1 "^pann-match: --scale: 'z'" "unknown scale" pann-match --scale=z "$S"
expect_fail 1 "^pann-match: standard input .*once" "stdin twice" pann-match - -
expect_fail 1 "^pann-match: --exact has no history" "--exact with --history" pann-match --exact --history=x "$S"
expect_fail 1 "^pann-match: expected QUERY" "no file" pann-match
expect_fail 1 "^pann-match: expected QUERY" "three files" pann-match "$S" "$S" "$S"
expect_fail 2 "^pann-match: write error on stdout" "stdout full (/dev/full)" sh -c "pann-match -q '$S' >/dev/full"
expect_fail 2 "^pann-match: .*nodir/out.csv" "-o in a missing directory" pann-match -o "$TMPD/nodir/out.csv" "$S"

# ---- --missing=drop: the lines name the table's rows, not the kept rows'
# order (the self-match's own memory path and the output's row ids)
printf 'x,y\n0,0\n,1\n1,0\n5,0\n5.5,0\n' >"$TMPD/dropped.csv"
printf 'query,neighbor,distance,proven\n1,3,1,1\n3,1,1,1\n4,5,0.5,1\n5,4,0.5,1\n' >"$TMPD/dropped-want.csv"
pann-match -q --exact --missing=drop "$TMPD/dropped.csv" >"$TMPD/dropped-exact.csv"
check "--missing=drop --exact (self): rows named as in the file" \
    cmp -s "$TMPD/dropped-exact.csv" "$TMPD/dropped-want.csv"
pann-match -q --strategy=tree --estimate=0 --missing=drop "$TMPD/dropped.csv" >"$TMPD/dropped-tree.csv"
check "--missing=drop --strategy=tree --estimate=0 (self): the same" \
    cmp -s "$TMPD/dropped-tree.csv" "$TMPD/dropped-want.csv"

# ---- a column that holds a row index (as pandas writes one) is named on
# stderr, -q or not; the answers are the file's as given; -c leaves it out
awk 'BEGIN { srand(5); print ",x,y"; for (i = 0; i < 60; i++) printf "%d,%.3f,%.3f\n", (i * 7) % 60 + 100, rand(), rand() }' >"$TMPD/indexed.csv"
pann-match -q --exact "$TMPD/indexed.csv" >"$TMPD/indexed.out" 2>"$TMPD/indexed.err"
check "an index column: one warning naming the file and the column, exit 0" \
    sh -c "[ \$(wc -l <'$TMPD/indexed.err') -eq 1 ] && grep -q '^pann-match: warning: $TMPD/indexed.csv: column with no name holds a different value in every row' '$TMPD/indexed.err'"
pann-match -q --exact -c 2- "$TMPD/indexed.csv" >"$TMPD/noindex.out" 2>"$TMPD/noindex.err"
check "-c 2- leaves the index out: no warning" test ! -s "$TMPD/noindex.err"
check "the index weighs in the distances (the answers differ without it)" \
    sh -c "! cmp -s '$TMPD/indexed.out' '$TMPD/noindex.out'"
awk 'NR == 1 { print; next } NR == 5 { $0 = "100" substr($0, index($0, ",")) } { print }' "$TMPD/indexed.csv" >"$TMPD/repeat.csv"
pann-match -q --exact "$TMPD/repeat.csv" >/dev/null 2>"$TMPD/repeat.err"
check "a whole-number column with one value repeated: no warning" test ! -s "$TMPD/repeat.err"

# ---- a named pipe as QUERY is read once, as the file would be
mkfifo "$TMPD/query.fifo"
pann-match -q --exact "$S" "$T" >"$TMPD/from-file.csv"
cat "$S" >"$TMPD/query.fifo" &
timeout 60 pann-match -q --exact "$TMPD/query.fifo" "$T" >"$TMPD/from-fifo.csv"
wait
check "QUERY a named pipe: the answers of the file" cmp -s "$TMPD/from-file.csv" "$TMPD/from-fifo.csv"
