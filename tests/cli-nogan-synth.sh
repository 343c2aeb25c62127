#!/bin/sh
# cli-nogan-synth.sh — nogan-synth from the command line: the man page's
# example, every synthetic row inside a non-empty real box and the real
# counts reproduced (checked by an awk recomputation of the quantile bins),
# reproducibility, stdin, delimiters, missing values, every error.
. "${top_srcdir:-.}/tests/lib.sh"
REAL="$top_srcdir/datasets/eval-health.csv"
SD="$DATA/synth"

# edges FILE COL BINS: the bin edges of numeric column COL (sorted values
# at ranks floor(i n / BINS), the maximum last, repeats removed), one a line.
edges() {
    tail -n +2 "$1" | cut -d, -f"$2" | sort -g | awk -v k="$3" '
        { v[NR - 1] = $1 }
        END { n = NR
              for (i = 0; i <= k; i++) {
                  e = i == k ? v[n - 1] : v[int(i * n / k)]
                  if (i == 0 || e != last) print e
                  last = e } }'
}
# keys FILE: the box of every data row of FILE (age, bmi, glucose binned
# by the edges of $TMPD/e1..e3 computed on REAL; the categories as text).
keys() {
    awk -F, -v e1="$TMPD/e1" -v e2="$TMPD/e2" -v e3="$TMPD/e3" '
        function load(f, j,   x, n) { n = 0; while ((getline x < f) > 0) E[j, n++] = x + 0; NE[j] = n }
        function bin(j, x,   i) {
            if (NE[j] == 1) return x == E[j, 0] ? 0 : "out"
            for (i = 0; i + 1 < NE[j]; i++)
                if (x >= E[j, i] && (x < E[j, i + 1] || (i + 2 == NE[j] && x <= E[j, i + 1]))) return i
            return "out" }
        BEGIN { load(e1, 1); load(e2, 2); load(e3, 3) }
        NR > 1 { print bin(1, $1 + 0) "|" bin(2, $2 + 0) "|" bin(3, $3 + 0) "|" $4 "|" $5 "|" $6 }' "$1"
}

run nogan-synth --help
check "--help exits 0 and shows usage" test "$rc" -eq 0 -a -n "$(printf '%s' "$out" | grep 'Usage: nogan-synth')"
run nogan-synth --version
check "--version exits 0" test "$rc" -eq 0 -a -n "$(printf '%s' "$out" | grep -E '^nogan-synth \(pann\) [0-9]')"

# The man page's example, output and summary as printed there.
(cd "$top_srcdir" && nogan-synth --seed=7 --rows=5 --bins=age:3,bmi:5 -c age,bmi,smoker \
    datasets/eval-health.csv) >"$TMPD/ex.out" 2>"$TMPD/ex.err"
sed -n '/^age,bmi,smoker$/,/^\.fi$/p' "$top_srcdir/man/nogan-synth.1" | grep -v '^\.fi$' >"$TMPD/man.txt"
cat "$TMPD/ex.out" "$TMPD/ex.err" >"$TMPD/ex.txt"
check "the man page's example gives the output printed there" cmp -s "$TMPD/ex.txt" "$TMPD/man.txt"

for j in 1 2 3; do edges "$REAL" $j 3 >"$TMPD/e$j"; done
keys "$REAL" | sort | uniq -c | awk '{ print $2, $1 }' | sort >"$TMPD/real.boxes"
for draw in uniform gaussian; do
    nogan-synth -q --bins=3 --draw=$draw --rows=20000 --seed=5 "$REAL" >"$TMPD/s.csv"
    check "--draw=$draw: 20000 rows and the real header" test "$(wc -l <"$TMPD/s.csv")" -eq 20001 \
        -a "$(head -n 1 "$TMPD/s.csv")" = "$(head -n 1 "$REAL")"
    keys "$TMPD/s.csv" | sort -u >"$TMPD/s.keys"
    check "--draw=$draw: every synthetic row lies in a non-empty real box (awk bins)" \
        test -z "$(cut -d' ' -f1 "$TMPD/real.boxes" | comm -13 - "$TMPD/s.keys")"
done
check "integer and one-decimal columns keep their decimals" \
    sh -c "tail -n +2 '$TMPD/s.csv' | awk -F, '\$1 !~ /^[0-9]+\$/ || \$2 !~ /^[0-9]+\\.[0-9]\$/ { bad++ } END { exit bad > 0 }'"

nogan-synth -q --bins=3 --counts=real --seed=9 "$REAL" >"$TMPD/r.csv"
keys "$TMPD/r.csv" | sort | uniq -c | awk '{ print $2, $1 }' | sort >"$TMPD/r.boxes"
check "--counts=real: every box gets exactly its real count" cmp -s "$TMPD/real.boxes" "$TMPD/r.boxes"

# Total variation between real and synthetic box shares falls as rows grow
# (multinomial counts).
tv() { keys "$1" | sort | uniq -c | awk '{ print $2, $1 }' | sort | join -a 1 -e 0 -o 0,1.2,2.2 "$TMPD/real.boxes" - |
       awk -v n="$2" '{ t += ($2 / 1000 - $3 / n) < 0 ? ($3 / n - $2 / 1000) : ($2 / 1000 - $3 / n) } END { printf "%.6f\n", t / 2 }'; }
nogan-synth -q --bins=3 --counts=multinomial --rows=1000 --seed=3 "$REAL" >"$TMPD/a.csv"
nogan-synth -q --bins=3 --counts=multinomial --rows=200000 --seed=3 "$REAL" >"$TMPD/b.csv"
tva=$(tv "$TMPD/a.csv" 1000); tvb=$(tv "$TMPD/b.csv" 200000)
check "box shares converge: TV $tva at 1000 rows > TV $tvb at 200000 rows, < 0.02" \
    awk -v a="$tva" -v b="$tvb" 'BEGIN { exit !(a > b && b < 0.02) }'

# Proportional counts (the default): the real count times rows / 1000,
# rounded down or up, and exactly the real counts at 1000 rows.
nogan-synth -q --bins=3 --seed=4 "$REAL" >"$TMPD/p.csv"
check "default counts at as many rows as REAL: every box gets its real count" \
    test "$(tv "$TMPD/p.csv" 1000)" = 0.000000
nogan-synth -q --bins=3 --rows=2500 --seed=4 "$REAL" >"$TMPD/p.csv"
keys "$TMPD/p.csv" | sort | uniq -c | awk '{ print $2, $1 }' | sort | join -a 1 -e 0 -o 0,1.2,2.2 "$TMPD/real.boxes" - >"$TMPD/p.join"
check "default counts at 2500 rows: each box floor or ceil of 2.5 times its real count" \
    awk '{ x = 2.5 * $2; if ($3 < int(x) || $3 > int(x) + (x > int(x))) bad++; s += $3 }
         END { exit !(bad == 0 && s == 2500) }' "$TMPD/p.join"

nogan-synth -q --seed=11 -j 1 "$REAL" >"$TMPD/j1.csv"
nogan-synth -q --seed=11 -j 2 "$REAL" >"$TMPD/j2.csv"
check "same seed: identical output with -j 1 and -j 2" cmp -s "$TMPD/j1.csv" "$TMPD/j2.csv"
nogan-synth -q --seed=12 "$REAL" >"$TMPD/s12.csv"
check "another seed gives other rows" test -n "$(cmp "$TMPD/j1.csv" "$TMPD/s12.csv" 2>&1)"
check "default --rows: as many as the real file" test "$(wc -l <"$TMPD/j1.csv")" -eq "$(wc -l <"$REAL")"
nogan-synth -q --seed=11 - <"$REAL" >"$TMPD/stdin.csv"
check "'-' reads stdin" cmp -s "$TMPD/j1.csv" "$TMPD/stdin.csv"
nogan-synth -q --seed=11 -o "$TMPD/o.csv" "$REAL"
check "-o writes the file" cmp -s "$TMPD/j1.csv" "$TMPD/o.csv"

nogan-synth -q -d '\t' --rows=50 "$SD/tabs.tsv" >"$TMPD/t.tsv"
check "TSV in, TSV out, categories with blanks kept" test "$(head -n 1 "$TMPD/t.tsv")" = "$(printf 'x\ty\tname')" \
    -a "$(tail -n +2 "$TMPD/t.tsv" | cut -f3 | grep -cv -e '^one two$' -e '^three$' -e '^four$')" -eq 0
tail -n +2 "$SD/tabs.tsv" | nogan-synth -q -d tab --no-header --rows=30 - >"$TMPD/nh.tsv"
check "--no-header: no header written, 30 rows of 3 fields" \
    test "$(wc -l <"$TMPD/nh.tsv")" -eq 30 -a "$(awk -F'\t' 'NF != 3' "$TMPD/nh.tsv" | wc -l)" -eq 0 \
    -a -z "$(cut -f3 "$TMPD/nh.tsv" | grep -v -e '^one two$' -e '^three$' -e '^four$')"
nogan-synth -q --rows=4000 --bins=2 "$SD/missing.csv" >"$TMPD/m.csv"
share=$(tail -n +2 "$TMPD/m.csv" | awk -F, '$2 == "NA" { na++ } END { printf "%.3f", na / NR }')
check "missing cells form their own bin, written as NA ($share of rows, real 3/8)" \
    awk -v s="$share" 'BEGIN { exit !(s > 0.33 && s < 0.42) }'
check "non-missing cells of that column are numbers inside the real range" \
    sh -c "tail -n +2 '$TMPD/m.csv' | awk -F, '\$2 != \"NA\" && !(\$2 >= 0.5 && \$2 <= 3.75) { bad++ } END { exit bad > 0 }'"
nogan-synth -q --categorical=id --rows=300 "$SD/missing.csv" >"$TMPD/c.csv"
check "--categorical: the id column keeps the real codes only" \
    test -z "$(tail -n +2 "$TMPD/c.csv" | cut -d, -f1 | sort -u | grep -v '^[1-8]$')"

expect_fail 1 'expected one REAL file' "no file is a usage error" nogan-synth
expect_fail 2 'nope.csv' "unreadable file: exit 2" nogan-synth "$TMPD/nope.csv"
expect_fail 1 "bins: no chosen column 'x'" "--bins naming an unknown column" nogan-synth --bins=x:3 "$REAL"
expect_fail 1 "bins: '0'" "--bins=0" nogan-synth --bins=0 "$REAL"
expect_fail 1 'drop --rows' "--counts=real with --rows" nogan-synth --counts=real --rows=5 "$REAL"
expect_fail 1 'counts' "--counts=bad" nogan-synth --counts=bad "$REAL"
expect_fail 1 'draw' "--draw=bad" nogan-synth --draw=bad "$REAL"
expect_fail 1 'metric has no meaning' "--metric is refused" nogan-synth --metric=l2 "$REAL"
expect_fail 1 'rows' "--rows=-3" nogan-synth --rows=-3 "$REAL"
expect_fail 1 'ragged.csv:[0-9]+:' "a ragged file is located" nogan-synth "$DATA/match/ragged.csv"
expect_fail 1 'no data rows' "a header without rows" nogan-synth "$DATA/match/header-only.csv"
