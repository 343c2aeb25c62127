#!/bin/sh
# cli-nogan-filter-stream.sh — nogan-filter reads SYNTH in chunks: every
# --chunk-rows (1 row, a few rows, the whole file) gives byte-identical kept
# rows, rejected rows and report, for each way of deciding (rows kept
# early and the DCR sample's second pass, near-copy tests, --quantile and
# --keep with their second pass, --exact), from a file and from stdin,
# with CRLF and quoted multi-line fields.
. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"
REAL="$top_srcdir/datasets/filter-real.csv"
SYNTH="$top_srcdir/datasets/filter-synth.csv"
F=nogan-filter
cd "$TMPD"
# CRLF, and a quoted field spanning two lines in a categorical column.
sed 's/$/\r/; 7s/^\([^,]*\),/"\1\nsecond line",/' "$SYNTH" > multi.csv
for opts in "" "--dcr-sample=20" "--drop-copies" "--min-dist=0.02" "--quantile=0.5" \
            "--keep=40 --drop-copies" "--exact --dcr-sample=10" "--max-dist=0.1" "--missing=drop"; do
    for input in "$SYNTH" multi.csv; do
        $F -q $opts --chunk-rows=0 --rejected=r0 --report=p0.json "$REAL" "$input" > o0 2> e0
        for n in 1 7 100; do
            $F -q $opts --chunk-rows=$n --rejected=r1 --report=p1.json "$REAL" "$input" > o1 2> e1
            check "--chunk-rows=$n $opts $(basename "$input"): same kept rows" cmp -s o0 o1
            check "--chunk-rows=$n $opts $(basename "$input"): same rejected rows and report" \
                sh -c 'cmp -s r0 r1 && cmp -s p0.json p1.json'
        done
        $F -q $opts --chunk-rows=5 -j2 --rejected=r2 --report=p2.json "$REAL" - < "$input" > o2
        check "stdin, --chunk-rows=5 -j2 $opts $(basename "$input"): same output" \
            sh -c 'cmp -s o0 o2 && cmp -s r0 r2 && cmp -s p0.json p2.json'
    done
done
check "the multi-line row is kept or rejected whole" \
    sh -c "cat o0 r0 | grep -c 'second line' | grep -qx 1"
# An error in a later chunk is located in the file, and -o is not left.
awk 'NR == 200 { sub(/^[^,]*,[^,]*,/, "&x") } { print }' "$SYNTH" > bad.csv
expect_fail 1 "bad.csv:200:3: " "error in a later chunk located" $F --chunk-rows=16 -o out.csv "$REAL" bad.csv
check "no -o file after the error" [ ! -e out.csv ]
expect_fail 1 "--chunk-rows: 'x' is not a whole number" "bad --chunk-rows" $F --chunk-rows=x "$REAL" "$SYNTH"
exit 0
