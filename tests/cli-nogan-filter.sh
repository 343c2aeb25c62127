#!/bin/sh
# cli-nogan-filter.sh — nogan-filter from the command line: the man page's
# worked example, decisions against pann-match --exact distances, verbatim
# rows (LF and CRLF input), the rejected file and the report, thread-count
# independence, and every option's error message.
. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"
REAL="$top_srcdir/datasets/filter-real.csv"
SYNTH="$top_srcdir/datasets/filter-synth.csv"
F="nogan-filter --select=distance"

# The man page's example, as printed there.
cd "$TMPD"
run $F --drop-copies --rejected=dropped.csv "$REAL" "$SYNTH"
printf '%s\n' "$out" > kept.csv
check "man example: exit 0" [ "$rc" -eq 0 ]
check "man example: 247 lines kept" [ "$(wc -l < kept.csv)" -eq 247 ]
check "man example: 6 near copies" [ "$(grep -c near_copy dropped.csv)" -eq 6 ]
printf '%s\n' "$err" > err
check "man example: summary line" grep -q "kept 246; dropped 24 too far, 6 near copies" err

# Kept + rejected (without the two added fields) = the input, in order.
merge() { # $1 kept, $2 rejected: rebuild SYNTH by line order of SYNTH
    awk -v K="$1" -v R="$2" 'BEGIN { while ((getline l < K) > 0) keep[++nk] = l
        getline l < R; while ((getline l < R) > 0) { sub(/,[a-z_]+,[^,]*\r?$/, "", l); rej[++nr] = l } }
        { if (ik < nk && $0 == keep[ik + 1]) { ik++; print } else if (ir < nr && $0 == rej[ir + 1]) { ir++; print } }
        END { if (ik != nk || ir != nr) print "LEFT OVER" }' "$3"
}
merge kept.csv dropped.csv "$SYNTH" > rebuilt.csv
check "kept and rejected rows are the input lines, in order" cmp -s rebuilt.csv "$SYNTH"
check "kept header is the input header" [ "$(head -1 kept.csv)" = "$(head -1 "$SYNTH")" ]
check "rejected header gets reason,distance" \
    [ "$(head -1 dropped.csv)" = "region,score,age,income,reason,distance" ]

# Decisions against brute force: pann-match --exact distances, same scaling.
run $F -q --report=rep.csv "$REAL" "$SYNTH"
max=$(awk -F, '$1 == "max_dist" { print $2 }' rep.csv)
pann-match -q --exact --scale=range "$REAL" > loo.csv
want_max=$(awk -F, 'NR > 1 { print $3 }' loo.csv | sort -g | awk '{ v[NR] = $1 } END { k = int(0.95 * NR); if (k < 0.95 * NR) k++; print v[k] }')
check "default maximum = 0.95 quantile of LOO distances ($max vs $want_max)" \
    awk -v a="$max" -v b="$want_max" 'BEGIN { exit !(a - b < 1e-6 && b - a < 1e-6) }'
pann-match -q --exact --scale=range "$SYNTH" "$REAL" > nn.csv
run $F -q --rejected=rej2.csv "$REAL" "$SYNTH"
awk -F, -v m="$max" 'NR > 1 && $3 > m { print $1 }' nn.csv > want_far
awk 'NR == FNR { if (FNR > 1) line[$0] = FNR - 1; next } FNR > 1 { sub(/,too_far,[^,]*$/, ""); print line[$0] }' \
    "$SYNTH" rej2.csv | sort -n > got_far
check "too-far rows = brute-force distance above the maximum" cmp -s want_far got_far
check "injected far rows found (at least 12)" [ "$(wc -l < got_far)" -ge 12 ]
awk -F, 'NR > 1 { print $4 }' rej2.csv | sort -g > got_d
awk -F, -v m="$max" 'NR > 1 && $3 > m { print $3 }' nn.csv | sort -g > want_d
check "rejected distances = brute force" \
    awk 'NR == FNR { w[FNR] = $1; next } { d = $1 - w[FNR]; if (d > 1e-6 * (1 + w[FNR]) || -d > 1e-6 * (1 + w[FNR])) exit 1 } END { exit FNR == 0 }' want_d got_d

# --exact gives the same output; -j1 = -j2.
$F -q --rejected=r1 --report=p1.json "$REAL" "$SYNTH" -j1 > o1
$F -q --rejected=r2 --report=p2.json "$REAL" "$SYNTH" -j2 > o2
$F -q --exact --rejected=r3 "$REAL" "$SYNTH" -j2 > o3
check "-j1 and -j2: same kept rows" cmp -s o1 o2
check "-j1 and -j2: same rejected rows" cmp -s r1 r2
check "-j1 and -j2: same report" cmp -s p1.json p2.json
check "--exact: same kept rows" cmp -s o1 o3
check "--exact: same rejected rows" cmp -s r1 r3
check "JSON report has the DCR ratio" grep -q '"dcr_ratio": [0-9]' p1.json
check "JSON report: all decisions proven" grep -q '"decisions_proven": 276' p1.json
$F -q --report=p3.txt --report-format=json "$REAL" "$SYNTH" > /dev/null
check "--report-format=json" cmp -s p1.json p3.txt

# CRLF input: kept rows keep their CRLF; rejected fields go before it.
sed 's/$/\r/' "$SYNTH" > crlf.csv
$F -q --rejected=rcrlf.csv "$REAL" crlf.csv > ocrlf.csv
sed 's/$/\r/' o1 > o1crlf
check "CRLF input: kept lines byte-identical" cmp -s ocrlf.csv o1crlf
sed 's/$/\r/' r1 > r1crlf
check "CRLF input: rejected lines end in reason,distance CRLF" cmp -s rcrlf.csv r1crlf

# stdin, -o, thresholds.
$F -q -o out.csv "$REAL" - < "$SYNTH"
check "SYNTH from stdin, -o" cmp -s out.csv o1
run $F -q --keep=100 "$REAL" "$SYNTH"
check "--keep=100 keeps 100 rows" [ "$(printf '%s\n' "$out" | wc -l)" -eq 101 ]
run $F -q --quantile=0.5 "$REAL" "$SYNTH"
check "--quantile=0.5 keeps half" [ "$(printf '%s\n' "$out" | wc -l)" -eq 139 ]
run $F -q --max-dist=0 "$REAL" "$SYNTH"
check "--max-dist=0 keeps the exact copies only" [ "$(printf '%s\n' "$out" | wc -l)" -eq 7 ]
run $F -q --min-dist=0.02 --max-quantile=1 --rejected=rm.csv "$REAL" "$SYNTH"
check "--min-dist: copies and near copies dropped" [ "$(grep -c near_copy rm.csv)" -ge 12 ]
run $F --min-quantile=0.01 --max-quantile=0.99 "$REAL" "$SYNTH"
check "--min-quantile: reported" sh -c "printf '%s' \"\$1\" | grep -q 'quantile 0.01 of the real'" - "$err"
run $F -q --report=rep2.csv --dcr-sample=50 "$REAL" "$SYNTH"
check "--dcr-sample=50" grep -q '^median_synth_rows,50$' rep2.csv
sed 's/^\([^,]*\),\([^,]*\),\([^,]*\),\([^,]*\)/\1,\2,\3,\4/; 5s/,0\.[0-9]*,/,NA,/' "$SYNTH" > miss.csv
run $F -q --missing=drop --rejected=rmiss.csv "$REAL" miss.csv
check "--missing=drop: the row is rejected as missing" grep -q ',missing,$' rmiss.csv
printf 'a,b\n1,2\n3,4\n' > t1.csv
printf '5\t6\n1\t2\n' > t2.tsv
printf '5\t6\n1\t9\n' > t3.tsv
run $F -q -d '\t' --no-header --max-dist=0.5 t2.tsv t3.tsv
check "TSV, --no-header" [ "$out" = "$(printf '5\t6')" ]
run $F --help
check "--help" [ "$rc" -eq 0 ]
run $F --version
check "--version" [ "$rc" -eq 0 ]

# Errors: one line, the option or the file named.
expect_fail 1 "expected REAL SYNTH, got 1 file" "one file" $F "$REAL"
expect_fail 1 "at most one of --max-dist" "two maximum rules" $F --keep=3 --quantile=0.5 "$REAL" "$SYNTH"
expect_fail 1 "at most one of --min-dist, --min-quantile" "two minimum rules" $F --min-dist=1 --min-quantile=0.5 "$REAL" "$SYNTH"
expect_fail 1 "--max-dist: 'x' is not a number" "bad --max-dist" $F --max-dist=x "$REAL" "$SYNTH"
expect_fail 1 "--max-quantile: '2' is not a number from 0 to 1" "bad --max-quantile" $F --max-quantile=2 "$REAL" "$SYNTH"
expect_fail 1 "--quantile: '-1' is not a number" "bad --quantile" $F --quantile=-1 "$REAL" "$SYNTH"
expect_fail 1 "--keep: 'many' is not a whole number" "bad --keep" $F --keep=many "$REAL" "$SYNTH"
expect_fail 1 "--min-dist: '-2' is not a number" "bad --min-dist" $F --min-dist=-2 "$REAL" "$SYNTH"
expect_fail 1 "--min-quantile: '1.5' is not a number" "bad --min-quantile" $F --min-quantile=1.5 "$REAL" "$SYNTH"
expect_fail 1 "--report-format: 'xml' is not csv or json" "bad --report-format" $F --report-format=xml "$REAL" "$SYNTH"
expect_fail 1 "--dcr-sample: 'x' is not a whole number" "bad --dcr-sample" $F --dcr-sample=x "$REAL" "$SYNTH"
expect_fail 1 "filter-synth.csv has no column 'a'" "schema mismatch" $F t1.csv "$SYNTH"
printf 'age,income,region,score\n1,2,x,3\n' > one.csv
expect_fail 1 "one.csv: .*at least 2 real rows" "one real row, default rule" $F one.csv "$SYNTH"
expect_fail 2 "nope.csv" "missing file" $F nope.csv "$SYNTH"
expect_fail 2 "rejected|/no/such" "unwritable --rejected" $F --rejected=/no/such/dir/r.csv "$REAL" "$SYNTH"
# --group: the same rows kept as filtering each category's real and synthetic
# rows on their own (the group column left out; --scale=none, since range
# scaling would come from all real rows in one case, one category in the
# other); a category with no real
# row is dropped as too far.
GR="$top_srcdir/tests/data/filter/grouped-real.csv"
GS="$top_srcdir/tests/data/filter/grouped-synth.csv"
$F -q --scale=none --group=kind "$GR" "$GS" | tail -n +2 | cut -d, -f2- | sort >"$TMPD/grouped.kept"
: >"$TMPD/separate.kept"
for kind in a b c; do
    awk -F, -v k="$kind" 'NR == 1 { print "x,y"; next } $1 == k { print $2 "," $3 }' "$GR" >"$TMPD/r.csv"
    awk -F, -v k="$kind" 'NR == 1 { print "x,y"; next } $1 == k { print $2 "," $3 }' "$GS" >"$TMPD/s.csv"
    $F -q --scale=none --exact "$TMPD/r.csv" "$TMPD/s.csv" | tail -n +2 >>"$TMPD/separate.kept"
done
sort -o "$TMPD/separate.kept" "$TMPD/separate.kept"
check "--group keeps what filtering each category alone keeps" cmp -s "$TMPD/grouped.kept" "$TMPD/separate.kept"
check "--group: rows of a category absent from REAL are not kept" \
    test "$($F -q --group=kind "$GR" "$GS" | grep -c '^z,')" -eq 0
run $F --group=kind "$GR" "$GS"
check "--group: the summary names the categories and the rows without a real category" \
    sh -c "printf '%s' \"\$1\" | grep -q '4 categories in SYNTH' && printf '%s' \"\$1\" | grep -q '30 synthetic rows have a category with no real row'" _ "$err"
$F -q --group=kind --rejected="$TMPD/rej.csv" "$GR" "$GS" >"$TMPD/kept.csv"
check "--group: kept and rejected rows together are the input rows" \
    test "$(($(wc -l <"$TMPD/kept.csv") + $(wc -l <"$TMPD/rej.csv") - 2))" -eq 120
expect_fail 1 "^nogan-filter: --columns: .*includes the group column 'kind'" "--columns naming the group column" \
    $F --group=kind -c kind,x "$GR" "$GS"
run $F --group=kind --batch=10 "$GR" "$GS"
check "--batch=10: categories of 30 real rows are searched in 3 batches each" \
    sh -c "printf '%s' \"\$1\" | grep -q '4 categories in SYNTH, 9 searches'" _ "$err"
expect_fail 1 "^nogan-filter: --batch needs --group" "--batch without --group" $F --batch=5 "$GR" "$GS"
exit 0
