#!/bin/sh
# cli-pann-knn.sh — pann-knn from the command line: exact lists against an
# awk + sort brute force, the anytime search exhausted and partial,
# leave-one-out votes against an awk vote over the exact lists, clusters
# against the known blobs, the man page's worked example, every option's
# error and the located input errors.
. "${top_srcdir:-.}/tests/lib.sh"
K="$DATA/knn"
TRAIN="$top_srcdir/datasets/knn-train.csv"
QUERY="$top_srcdir/datasets/knn-query.csv"

# brute K SELF TRAIN QUERY: query,rank,neighbor,distance by L1 on the
# columns of TRAIN (matched by name in QUERY); ties to the lower row.
brute() {
    awk -F, -v self="$2" '
        FNR == 1 { file++; for (j = 1; j <= NF; j++) col[file, $j] = j; nf = NF
                   if (file == 2) for (j = 1; j <= nf; j++) map[j] = col[2, name[j]]
                   else for (j = 1; j <= NF; j++) name[j] = $j
                   next }
        file == 1 { nr++; for (j = 1; j <= NF; j++) t[nr, j] = $j; next }
        { nq++
          for (i = 1; i <= nr; i++) {
              if (self && i == nq) continue
              s = 0
              for (j = 1; j <= nf; j++) { d = $(map[j]) - t[i, j]; s += d < 0 ? -d : d }
              print nq "," s "," i
          } }' "$3" "$4" | sort -t, -k1,1n -k2,2g -k3,3n |
    awk -F, -v k="$1" '$1 != q { q = $1; r = 0 } r < k { r++; print $1 "," r "," $3 "," $2 }'
}
lists() { tail -n +2 "$1" | cut -d, -f1-4; }

run pann-knn --help
check "--help exits 0 and shows usage" test "$rc" -eq 0 -a -n "$(printf '%s' "$out" | grep 'Usage: pann-knn -k K')"
run pann-knn --version
check "--version exits 0" test "$rc" -eq 0 -a -n "$(printf '%s' "$out" | grep -E '^pann-knn \(pann\) [0-9]')"

# ---- neighbour lists ----------------------------------------------------
for k in 1 4 12; do
    pann-knn -q -k $k --exact "$K/ties.csv" >"$TMPD/exact.csv"
    brute $k 1 "$K/ties.csv" "$K/ties.csv" >"$TMPD/brute.csv"
    check "--exact -k $k equals brute force with ties (TRAIN alone, self excluded)" \
        cmp -s "$TMPD/brute.csv" "$(lists "$TMPD/exact.csv" >"$TMPD/e"; echo "$TMPD/e")"
    pann-knn -q -k $k --exact "$K/ties.csv" "$K/ties-query.csv" >"$TMPD/exact2.csv"
    brute $k 0 "$K/ties.csv" "$K/ties-query.csv" >"$TMPD/brute.csv"
    check "--exact -k $k equals brute force (QUERY columns matched by name)" \
        cmp -s "$TMPD/brute.csv" "$(lists "$TMPD/exact2.csv" >"$TMPD/e"; echo "$TMPD/e")"
done
head -1 "$TMPD/exact.csv" >"$TMPD/h"
check "header query,rank,neighbor,distance,proven" test "$(cat "$TMPD/h")" = "query,rank,neighbor,distance,proven"
pann-knn -q -k 59 --exact "$K/ties.csv" >"$TMPD/all.csv"
check "-k = every candidate row: 59 distinct neighbours per row" \
    test "$(tail -n +2 "$TMPD/all.csv" | cut -d, -f1,3 | sort -u | wc -l)" -eq $((60 * 59))

pann-knn -q -k 4 --iterations=0 "$K/ties.csv" >"$TMPD/exhausted.csv"
pann-knn -q -k 4 --exact "$K/ties.csv" >"$TMPD/exact.csv"
check "anytime with --iterations=0 equals --exact" cmp -s "$TMPD/exhausted.csv" "$TMPD/exact.csv"
# a plain numeric file is loaded without its text; stdin takes the general path
awk 'BEGIN { srand(3); print "x,y,z"; for (i = 0; i < 30000; i++)
      printf "%.6f,%.4g,%d\n", rand(), rand() * 100, int(rand() * 50) }' >"$TMPD/big.csv"
pann-knn -q -k 4 --exact --scale=range "$TMPD/big.csv" >"$TMPD/big-file.csv"
pann-knn -q -k 4 --exact --scale=range - <"$TMPD/big.csv" >"$TMPD/big-stdin.csv"
check "numeric file loaded directly: same K lists as through stdin" \
    cmp -s "$TMPD/big-file.csv" "$TMPD/big-stdin.csv"
check "numeric file loaded directly: K lines for every row" \
    test "$(wc -l <"$TMPD/big-file.csv")" -eq 120001
run pann-knn -k 4 "$K/ties.csv"
check "default budget on a small table tries every candidate (proven, = exact)" \
    sh -c "printf '%s\n' \"\$1\" > '$TMPD/default.csv'; cmp -s '$TMPD/default.csv' '$TMPD/exact.csv'" _ "$out"
check "summary names the seed and the proven rows" \
    sh -c "printf '%s' \"\$1\" | grep -q 'seed 1' && printf '%s' \"\$1\" | grep -q '60 rows (100.0%) proven'" _ "$err"

pann-knn -q -k 5 --iterations=3000 -j 1 "$TRAIN" >"$TMPD/j1.csv"
pann-knn -q -k 5 --iterations=3000 -j 2 "$TRAIN" >"$TMPD/j2.csv"
check "same seed: byte-identical output for -j 1 and -j 2" cmp -s "$TMPD/j1.csv" "$TMPD/j2.csv"
pann-knn -q -k 5 --iterations=3000 --seed=2 "$TRAIN" >"$TMPD/s2.csv"
check "another seed, another partial search" sh -c "! cmp -s '$TMPD/j1.csv' '$TMPD/s2.csv'"
check "partial search: no row proven, 5 distinct neighbours, never itself" sh -c "
    tail -n +2 '$TMPD/j1.csv' | awk -F, '\$5 != 0 || \$1 == \$3 { bad++ } END { exit bad > 0 }' &&
    test \$(tail -n +2 '$TMPD/j1.csv' | cut -d, -f1,3 | sort -u | wc -l) -eq 1500"
pann-knn -q -k 5 --top-fraction=1 --iterations=3000 "$TRAIN" >"$TMPD/tf.csv"
check "--top-fraction changes which rows are searched" sh -c "! cmp -s '$TMPD/j1.csv' '$TMPD/tf.csv'"
pann-knn -q -k 3 --time=60 "$K/ties.csv" >"$TMPD/timed.csv"
pann-knn -q -k 3 --exact "$K/ties.csv" >"$TMPD/exact3.csv"
check "--time with time to spare: the default budget, exact lists" cmp -s "$TMPD/timed.csv" "$TMPD/exact3.csv"

pann-knn -q -k 3 --exact -o "$TMPD/o.csv" "$K/ties.csv"
pann-knn -q -k 3 --exact "$K/ties.csv" >"$TMPD/stdout.csv"
check "-o FILE equals stdout" cmp -s "$TMPD/o.csv" "$TMPD/stdout.csv"
pann-knn -q -k 3 --exact - <"$K/ties.csv" >"$TMPD/stdin.csv"
check "TRAIN read from stdin ('-')" cmp -s "$TMPD/stdin.csv" "$TMPD/stdout.csv"
tail -n +2 "$K/ties.csv" >"$TMPD/noheader.csv"
pann-knn -q -k 3 --exact --no-header -c 1-3 "$TMPD/noheader.csv" >"$TMPD/nh.csv"
check "--no-header and --columns by index" cmp -s "$TMPD/nh.csv" "$TMPD/stdout.csv"
pann-knn -q -k 2 --exact --metric=l2 --scale=std "$K/ties.csv" >"$TMPD/l2.csv"
check "--metric=l2 --scale=std run" test "$(wc -l <"$TMPD/l2.csv")" -eq 121

# ---- classification -----------------------------------------------------
# The awk vote: labels of the exact neighbours, majority, ties to the class
# of the nearest tied neighbour; compared with pann-knn's leave-one-out.
for k in 1 4 7; do
    pann-knn -q -k $k --exact --scale=range -c x,y,colour "$TRAIN" >"$TMPD/nb.csv"
    awk -F, 'FNR == 1 { file++; next }
        file == 1 { label[FNR - 1] = $4; next }
        $1 != q { if (q) decide(); q = $1; n = 0; split("", w) }
        { c = label[$3]; if (!(c in w)) order[++n] = c; w[c]++ }
        END { decide() }
        function decide(  i, best) { best = order[1]
            for (i = 2; i <= n; i++) if (w[order[i]] > w[best]) best = order[i]
            print q "," best "," label[q] }' "$TRAIN" "$TMPD/nb.csv" >"$TMPD/vote.csv"
    run pann-knn -k $k --exact --scale=range --label=species "$TRAIN"
    printf '%s\n' "$out" | tail -n +2 >"$TMPD/pred.csv"
    check "-k $k leave-one-out predictions equal an awk vote over the exact lists" \
        cmp -s "$TMPD/pred.csv" "$TMPD/vote.csv"
    right=$(awk -F, '$2 == $3' "$TMPD/vote.csv" | wc -l)
    check "-k $k leave-one-out accuracy reported as $right of 300" \
        sh -c "printf '%s' \"\$1\" | grep -q \"accuracy [0-9.]* ($right of 300 labelled queries)\"" _ "$err"
done
run pann-knn -k 7 --label=species --scale=range --weights=distance "$TRAIN" "$QUERY"
check "--weights=distance: one prediction per query" test "$rc" -eq 0 -a "$(printf '%s\n' "$out" | wc -l)" -eq 151
run pann-knn -k 7 --label=species --scale=range --report="$TMPD/confusion.csv" "$TRAIN" "$QUERY"
check "--report writes the confusion matrix (150 queries) and keeps it off stderr" sh -c "
    head -1 '$TMPD/confusion.csv' | grep -qx 'actual,alpha,beta,gamma' &&
    test \$(tail -n +2 '$TMPD/confusion.csv' | awk -F, '{ s += \$2 + \$3 + \$4 } END { print s }') -eq 150 &&
    ! printf '%s' \"\$1\" | grep -q confusion" _ "$err"
cut -d, -f1-3 "$QUERY" >"$TMPD/unlabelled.csv"
run pann-knn -k 7 --label=species --scale=range "$TRAIN" "$TMPD/unlabelled.csv"
check "QUERY without the label column: empty actual, no accuracy" sh -c "
    printf '%s\n' \"\$1\" | sed -n 2p | grep -qE '^1,[a-z]+,\$' &&
    printf '%s' \"\$2\" | grep -q 'no actual class'" _ "$out" "$err"
check "the label column never enters the distance (3 columns: x, y, colour)" \
    sh -c "printf '%s' \"\$1\" | grep -q '300 training rows, 3 columns'" _ "$err"

# The man page's worked example, output and summary as printed there.
man="$top_srcdir/man/pann-knn.1"
block() { # block PATTERN: the .nf/.fi block after the line matching PATTERN
    awk -v pat="$1" 'index($0, pat) { on = 1; next } on && /^\.nf/ { inb = 1; next }
        inb && /^\.fi/ { exit } inb { gsub(/\\-/, "-"); gsub(/\\e/, "\\"); print }' "$man"
}
( cd "$top_srcdir" && pann-knn -k 7 --label=species --scale=range \
    datasets/knn-train.csv datasets/knn-query.csv >"$TMPD/predicted.csv" 2>"$TMPD/summary" )
block "The first lines of" >"$TMPD/man-out"
check "man page example: the first lines of predicted.csv" \
    sh -c "head -4 '$TMPD/predicted.csv' | cmp -s - '$TMPD/man-out'"
block "and on stderr" >"$TMPD/man-err"
check "man page example: the summary as printed" \
    sh -c "grep -v proposals '$TMPD/summary' | cmp -s - '$TMPD/man-err'"

# ---- clustering -----------------------------------------------------------
tail -n +2 "$K/blobs.csv" | cut -d, -f3 >"$TMPD/blob-col"
# same_partition FILE [refine]: row,cluster of FILE against the blob column:
# the same partition (or, with refine, no cluster spanning two blobs).
same_partition() {
    tail -n +2 "$1" | paste -d, - "$TMPD/blob-col" | awk -F, -v refine="${2:-}" '
        { if (($2 in c2b) && c2b[$2] != $3) bad++
          if (!refine && ($3 in b2c) && b2c[$3] != $2) bad++
          c2b[$2] = $3; b2c[$3] = $2 }
        END { exit bad > 0 }'
}
for k in 5 10; do
    pann-knn -q -k $k --exact --cluster -c x,y "$K/blobs.csv" >"$TMPD/cl.csv"
    check "--cluster -k $k recovers the three blobs exactly" same_partition "$TMPD/cl.csv"
done
pann-knn -q -k 10 --cluster -c x,y "$K/blobs.csv" >"$TMPD/cl-any.csv"
check "--cluster with the anytime search (default budget exhausts 89 candidates)" \
    same_partition "$TMPD/cl-any.csv"
run pann-knn -k 10 --exact --cluster -c x,y "$K/blobs.csv"
check "--cluster: row,cluster header, clusters numbered by first row, sizes" sh -c "
    printf '%s\n' \"\$1\" | sed -n '1,4p' | tr '\n' ' ' | grep -q '^row,cluster 1,1 2,2 3,3 ' &&
    printf '%s' \"\$2\" | grep -q '3 clusters (symmetrised K-NN graph); sizes in cluster order: 30, 30, 30'" _ "$out" "$err"
pann-knn -q -k 3 --exact --cluster --mutual -c x,y "$K/blobs.csv" >"$TMPD/mutual.csv"
check "--mutual: no cluster spans two blobs" same_partition "$TMPD/mutual.csv" refine

# ---- errors -----------------------------------------------------------------
expect_fail 1 "-k: the number of neighbours K is required" "no -k" pann-knn "$K/ties.csv"
expect_fail 1 "-k: '0' is not a whole number" "-k 0" pann-knn -k 0 "$K/ties.csv"
expect_fail 1 "-k: 60 neighbours asked, but .*ties.csv has 59 candidate rows" \
    "-k larger than the candidates (self excluded)" pann-knn -k 60 "$K/ties.csv"
expect_fail 1 "-k: 61 neighbours asked, but .* has 60 candidate rows" \
    "-k larger than TRAIN" pann-knn -k 61 "$K/ties.csv" "$K/ties-query.csv"
expect_fail 1 "expected TRAIN \[QUERY\], got 0 files" "no file" pann-knn -k 1
expect_fail 1 "expected TRAIN \[QUERY\], got 3 files" "three files" pann-knn -k 1 a b c
expect_fail 1 "--exact has no budget" "--exact with --iterations" pann-knn -k 1 --exact --iterations=5 "$K/ties.csv"
expect_fail 1 "--exact has no budget" "--exact with --time" pann-knn -k 1 --exact --time=5 "$K/ties.csv"
expect_fail 1 "--exact has no budget" "--exact with --top-fraction" pann-knn -k 1 --exact --top-fraction=0.5 "$K/ties.csv"
expect_fail 1 "--time: '0' is not a number" "bad --time" pann-knn -k 1 --time=0 "$K/ties.csv"
expect_fail 1 "--weights and --report need --label" "--weights without --label" pann-knn -k 1 --weights=distance "$K/ties.csv"
expect_fail 1 "--weights: 'votes' is not uniform or distance" "bad --weights" pann-knn -k 1 --label=c --weights=votes "$K/ties.csv"
expect_fail 1 "--mutual needs --cluster" "--mutual without --cluster" pann-knn -k 1 --mutual "$K/ties.csv"
expect_fail 1 "--cluster and --label exclude each other" "--cluster with --label" pann-knn -k 1 --cluster --label=c "$K/ties.csv"
expect_fail 1 "--cluster clusters TRAIN alone" "--cluster with QUERY" pann-knn -k 1 --cluster "$K/ties.csv" "$K/ties-query.csv"
expect_fail 1 "--top-fraction: '0' is not a number" "bad --top-fraction" pann-knn -k 1 --top-fraction=0 "$K/ties.csv"
expect_fail 1 "--iterations: 'x' is not a whole number" "bad --iterations" pann-knn -k 1 --iterations=x "$K/ties.csv"
expect_fail 1 "--columns: 'x,species' includes the label column 'species'" \
    "--columns naming the label" pann-knn -k 1 --label=species -c x,species "$TRAIN"
expect_fail 1 "unknown column 'kind'" "--label naming no column" pann-knn -k 1 --label=kind "$TRAIN"
expect_fail 1 "--label: '1-2' must name one column" "--label naming two columns" pann-knn -k 1 --label=1-2 "$TRAIN"
expect_fail 1 "missing-label.csv:4:3: missing label" "missing label in TRAIN, located" \
    pann-knn -k 1 --label=species "$K/missing-label.csv"
expect_fail 1 "can be read only once" "stdin twice" pann-knn -k 1 --label=c - - <"$K/ties.csv"
expect_fail 2 "nope.csv" "unreadable TRAIN: exit 2" pann-knn -k 1 "$TMPD/nope.csv"
expect_fail 1 "missing value|missing" "missing value in a distance column" \
    pann-knn -k 1 "$K/missing-label.csv" -c x,species

# --group: the same as running each category's rows on their own, with the
# row numbers mapped back (the group column left out of the distance).
G="$top_srcdir/tests/data/match/grouped.csv"
pann-knn -q -k 2 --exact --group=kind "$G" | tail -n +2 | sort -t, -k1,1n -k2,2n >"$TMPD/grouped.csv"
: >"$TMPD/separate.csv"
for kind in a b c; do
    awk -F, -v k="$kind" 'NR == 1 { print "x,y"; next } $1 == k { print $2 "," $3 }' "$G" >"$TMPD/part.csv"
    awk -F, -v k="$kind" 'NR > 1 && $1 == k { print NR - 1 }' "$G" >"$TMPD/rows.txt"
    pann-knn -q -k 2 --exact "$TMPD/part.csv" | tail -n +2 |
        awk -F, 'NR == FNR { row[FNR] = $1; next } { print row[$1] "," $2 "," row[$3] "," $4 "," $5 }' \
            "$TMPD/rows.txt" - >>"$TMPD/separate.csv"
done
sort -t, -k1,1n -k2,2n "$TMPD/separate.csv" >"$TMPD/separate.sorted"
check "--group equals a separate search per category" cmp -s "$TMPD/grouped.csv" "$TMPD/separate.sorted"
run pann-knn -k 2 --exact --group=kind --batch=5 "$G"
check "--batch: neighbours stay in their category and batch count is reported" sh -c "printf '%s' \"\$1\" | grep -q '3 categories, 12 searches'" _ "$err"
expect_fail 1 "^pann-knn: --batch needs --group" "--batch without --group" pann-knn -k 1 --batch=5 "$G"
expect_fail 1 "^pann-knn: --group: category 'a' has 19 candidate rows besides a row itself, fewer than K = 20" \
    "--group: a category smaller than K" pann-knn -k 20 --exact --group=kind "$G"
expect_fail 1 "^pann-knn: --columns: .*includes the group column 'kind'" "--columns naming the group column" \
    pann-knn -k 1 --group=kind -c kind,x "$G"
printf 'x,y,c\n1,2,a\n1e20,3,b\n4,5,a\n' >"$TMPD/overflow.csv"
expect_fail 1 "^pann-knn: .*overflow.csv:3:1: value '1e20' is too large: L2 distances would overflow" \
    "--label with L2: a value whose square overflows float is refused at its cell" \
    pann-knn -k 1 --label=c --metric=l2 "$TMPD/overflow.csv"

# QUERY streams in chunks: any chunk size gives the same lists (exact), and
# row numbers run on across chunks.
pann-knn -q -k 3 --exact --chunk-rows=0 "$TRAIN" "$top_srcdir/datasets/knn-query.csv" >"$TMPD/whole.csv"
for n in 1 7 64; do
    pann-knn -q -k 3 --exact --chunk-rows=$n "$TRAIN" "$top_srcdir/datasets/knn-query.csv" >"$TMPD/chunks.csv"
    check "QUERY in chunks of $n rows: the same lists as whole" cmp -s "$TMPD/whole.csv" "$TMPD/chunks.csv"
done
printf 'x,y,colour\n1,2,red\n3,4,blue\nbad,5,red\n' >"$TMPD/bad-late.csv"
expect_fail 1 "^pann-knn: .*bad-late.csv:4:1: 'bad' is not a number, but column 'x' is numeric" \
    "an error in a later chunk is located; -o leaves no file" \
    pann-knn -k 1 --chunk-rows=1 -c x,y -o "$TMPD/late-out.csv" "$TRAIN" "$TMPD/bad-late.csv"
check "an error in a later chunk: no -o file, no temporary file" \
    test -z "$(ls "$TMPD" | grep late-out)"

# ---- --strategy=tree: a leaf budget; 0 leaves = exact; proven rows exact
for args in "$K/ties.csv" "$TRAIN $QUERY"; do
    pann-knn -q -k 4 --exact $args >"$TMPD/exact-t.csv"
    pann-knn -q -k 4 --strategy=tree --leaves=0 $args >"$TMPD/tree0.csv"
    check "--strategy=tree --leaves=0 equals --exact ($(basename "${args%% *}"))" \
        cmp -s "$TMPD/exact-t.csv" "$TMPD/tree0.csv"
done
awk 'BEGIN { srand(7); print "a,b,c"; for (i = 0; i < 3000; i++)
             printf "%.4f,%.4f,%.4f\n", rand() * 10, rand() * 10, (rand() + rand()) * 5 }' \
    >"$TMPD/cloud.csv"
pann-knn -q -k 5 --exact "$TMPD/cloud.csv" >"$TMPD/cloud-exact.csv"
# --missing=drop: lines name the table's rows (row 2 dropped)
printf 'x,y\n0,0\n,1\n1,0\n5,0\n5.5,0\n' >"$TMPD/dropped.csv"
printf 'query,rank,neighbor,distance,proven\n1,1,3,1,1\n3,1,1,1,1\n4,1,5,0.5,1\n5,1,4,0.5,1\n' \
    >"$TMPD/dropped-want.csv"
pann-knn -q -k 1 --exact --missing=drop "$TMPD/dropped.csv" >"$TMPD/dropped-exact.csv"
check "--missing=drop --exact: rows named as in the file" \
    cmp -s "$TMPD/dropped-exact.csv" "$TMPD/dropped-want.csv"
pann-knn -q -k 5 --strategy=tree --leaves=1 "$TMPD/cloud.csv" >"$TMPD/cloud-tree.csv"
check "--strategy=tree --leaves=1: some rows unproven (the budget bites)" \
    test -n "$(awk -F, 'NR > 1 && $5 == 0' "$TMPD/cloud-tree.csv" | head -n 1)"
check "--strategy=tree --leaves=1: every proven row's list is the exact one" \
    test -z "$(awk -F, 'NR == FNR { if (FNR > 1) want[$1, $2] = $3 "," $4; next }
                        FNR > 1 && $5 == 1 && want[$1, $2] != $3 "," $4' \
               "$TMPD/cloud-exact.csv" "$TMPD/cloud-tree.csv")"
check "--strategy=tree --leaves=1: no list entry closer than the exact one of its rank" \
    test -z "$(awk -F, 'NR == FNR { if (FNR > 1) want[$1, $2] = $4; next }
                        FNR > 1 && $4 + 1e-6 < want[$1, $2]' \
               "$TMPD/cloud-exact.csv" "$TMPD/cloud-tree.csv")"
awk -F, 'NR == 1 { print $0 ",kind"; next } { print $0 "," (NR % 3 ? "a" : "b") }' \
    "$TMPD/cloud.csv" >"$TMPD/cloud-kinds.csv"
pann-knn -q -k 5 --exact --group=kind "$TMPD/cloud-kinds.csv" >"$TMPD/kinds-exact.csv"
pann-knn -q -k 5 --strategy=tree --leaves=0 --group=kind "$TMPD/cloud-kinds.csv" >"$TMPD/kinds-tree0.csv"
check "--strategy=tree --leaves=0 --group equals --exact --group" \
    cmp -s "$TMPD/kinds-exact.csv" "$TMPD/kinds-tree0.csv"
pann-knn -q -k 5 --strategy=tree --leaves=1 --group=kind "$TMPD/cloud-kinds.csv" >"$TMPD/kinds-tree1.csv"
check "--strategy=tree --leaves=1 --group: some rows unproven, every proven list the exact one" \
    sh -c "awk -F, 'NR > 1 && \$5 == 0' '$TMPD/kinds-tree1.csv' | grep -q . &&
           test -z \"\$(awk -F, 'NR == FNR { if (FNR > 1) want[\$1, \$2] = \$3 \",\" \$4; next }
                              FNR > 1 && \$5 == 1 && want[\$1, \$2] != \$3 \",\" \$4' \
                     '$TMPD/kinds-exact.csv' '$TMPD/kinds-tree1.csv')\""
expect_fail 1 "^pann-knn: --leaves is the budget of --strategy=tree" "--leaves without the tree" \
    pann-knn -k 2 --leaves=3 "$K/ties.csv"
expect_fail 1 "^pann-knn: --strategy=tree takes --leaves as its budget" "--strategy=tree with --exact" \
    pann-knn -k 2 --strategy=tree --exact "$K/ties.csv"
expect_fail 1 "^pann-knn: --strategy: 'graph' is not uniform or tree" "--strategy=graph" \
    pann-knn -k 2 --strategy=graph "$K/ties.csv"
