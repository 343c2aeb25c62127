#!/bin/sh
# cli-ecdf-ks.sh — ecdf-ks from the command line: every statistic against an
# independent awk computation on small generated data full of ties and
# duplicate rows (dominance counts node by node, the classical two-sample KS
# for d = 1 and per column, total variation of categories), the symmetry of
# swapping REAL and SYNTH, reproducibility and every option's errors.
. "${top_srcdir:-.}/tests/lib.sh"
E="$DATA/ecdf"

# gen SEED ROWS [CAT]: columns a,b,c with values in {0, 0.5, ..., 2} (exact
# in float, so awk and ecdf-ks agree on every tie), every 5th row a copy of
# an earlier one; with CAT, a categorical column "kind" in the middle.
gen() {
    awk -v seed="$1" -v rows="$2" -v cat="${3:-}" 'BEGIN {
        srand(seed)
        print cat ? "a,kind,b,c" : "a,b,c"
        for (i = 1; i <= rows; i++) {
            if (i % 5 == 0 && i > 1) { line[i] = line[int(rand() * (i - 1)) + 1] }
            else {
                a = int(rand() * 5) / 2; b = int(rand() * 5) / 2; c = int(rand() * 5) / 2
                k = rand() < 0.5 ? "x" : (rand() < 0.5 ? "y" : "z")
                line[i] = cat ? a "," k "," b "," c : a "," b "," c
            }
            print line[i]
        }
    }'
}
gen 11 40 >"$TMPD/R.csv"
gen 12 30 >"$TMPD/S.csv"
gen 13 35 >"$TMPD/R2.csv"
gen 14 40 cat >"$TMPD/Rc.csv"
gen 15 30 cat >"$TMPD/Sc.csv"

# brute NODES REAL SYNTH: for every node (a CSV with a header, numeric
# columns in the same order), "count_real,count_synth" by a triple loop;
# then a last line "ks <value>" with KS = max |cs/m - cr/n|.
brute() {
    awk -F, 'FNR == 1 { file++; next }
        file == 1 { k++; for (j = 1; j <= NF; j++) z[k, j] = $j; d = NF; next }
        file == 2 { n++; for (j = 1; j <= NF; j++) r[n, j] = $j; next }
        file == 3 { m++; for (j = 1; j <= NF; j++) s[m, j] = $j; next }
        END {
            best = 0
            for (i = 1; i <= k; i++) {
                cr = 0; cs = 0
                for (p = 1; p <= n; p++) { in_ = 1; for (j = 1; j <= d; j++) if (r[p, j] + 0 > z[i, j] + 0) in_ = 0; cr += in_ }
                for (p = 1; p <= m; p++) { in_ = 1; for (j = 1; j <= d; j++) if (s[p, j] + 0 > z[i, j] + 0) in_ = 0; cs += in_ }
                print cr "," cs
                diff = cs / m - cr / n; if (diff < 0) diff = -diff
                if (diff > best) best = diff
            }
            printf "ks %.12f\n", best
        }' "$1" "$2" "$3"
}
# classic_ks FILE1 FILE2 COLUMN: the textbook two-sample KS of one column.
classic_ks() {
    { tail -n +2 "$1" | cut -d, -f"$3" | sed 's/$/,1/'; tail -n +2 "$2" | cut -d, -f"$3" | sed 's/$/,2/'; } |
        sort -t, -k1,1g | awk -F, -v n="$(($(wc -l <"$1") - 1))" -v m="$(($(wc -l <"$2") - 1))" '
        { if (NR > 1 && $1 != prev) { d = cs / m - cr / n; if (d < 0) d = -d; if (d > best) best = d }
          if ($2 == 1) cr++; else cs++; prev = $1 }
        END { d = cs / m - cr / n; if (d < 0) d = -d; if (d > best) best = d; printf "%.12f\n", best + 0 }'
}
# total_variation FILE1 FILE2 COLUMN: half the sum of |p_real - p_synth|.
total_variation() {
    awk -F, -v col="$3" 'FNR == 1 { file++; next }
        file == 1 { n++; pr[$col]++; all[$col] = 1; next }
        { m++; ps[$col]++; all[$col] = 1 }
        END { for (v in all) { d = pr[v] / n - ps[v] / m; t += d < 0 ? -d : d }; printf "%.12f\n", t / 2 }' "$1" "$2"
}
near() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(d < 1e-8 && d > -1e-8) }'; }
field() { printf '%s\n' "$1" | sed -n 2p | cut -d, -f"$2"; }
# node_file DUMP: the coordinates of a dump (columns 7-) as a nodes CSV
node_file() { cut -d, -f7- "$1"; }

run ecdf-ks --help
check "--help exits 0 and shows usage" test "$rc" -eq 0 -a -n "$(printf '%s' "$out" | grep 'Usage: ecdf-ks')"
run ecdf-ks --version
check "--version exits 0" test "$rc" -eq 0 -a -n "$(printf '%s' "$out" | grep -E '^ecdf-ks \(pann\) [0-9]')"

# --points=all against the triple loop, node by node
run ecdf-ks -q --dump="$TMPD/dump.csv" "$TMPD/R.csv" "$TMPD/S.csv"
{ echo a,b,c; tail -n +2 "$TMPD/R.csv"; tail -n +2 "$TMPD/S.csv"; } >"$TMPD/allnodes.csv"
brute "$TMPD/allnodes.csv" "$TMPD/R.csv" "$TMPD/S.csv" >"$TMPD/brute.txt"
check "header is ks,points,base_ks,source,node,f_real,f_synth,a,b,c" test "$(printf '%s\n' "$out" | head -n 1)" = "ks,points,base_ks,source,node,f_real,f_synth,a,b,c"
check "--points=all: ks equals the brute force" near "$(field "$out" 1)" "$(tail -n 1 "$TMPD/brute.txt" | cut -d' ' -f2)"
check "--points=all: points = n + m = 70" test "$(field "$out" 2)" = 70
check "--dump: one line per node with the documented header" test "$(wc -l <"$TMPD/dump.csv")" -eq 71 -a "$(head -n 1 "$TMPD/dump.csv")" = "source,node,f_real,f_synth,count_real,count_synth,a,b,c"
head -n -1 "$TMPD/brute.txt" >"$TMPD/brute.counts"
tail -n +2 "$TMPD/dump.csv" | cut -d, -f5,6 >"$TMPD/dump.counts"
check "--dump: counts of all 70 nodes equal the brute force" cmp -s "$TMPD/dump.counts" "$TMPD/brute.counts"
check "--dump: nodes are REAL's rows 1-40 then SYNTH's 1-30" test "$(tail -n +2 "$TMPD/dump.csv" | cut -d, -f1,2 | tr '\n' ' ' | cut -d' ' -f1,40,41,70)" = "real,1 real,40 synth,1 synth,30"
arg=$(printf '%s\n' "$out" | sed -n 2p | cut -d, -f4,5,6,7)
check "the reported node and its F values are a line of the dump with |f_synth - f_real| = ks" \
    sh -c "grep -q '^$arg,' '$TMPD/dump.csv'"

# swapping REAL and SYNTH: same ks; on the same nodes the F columns swap
run ecdf-ks -q "$TMPD/S.csv" "$TMPD/R.csv"
check "swap REAL and SYNTH (--points=all): same ks" near "$(field "$out" 1)" "$(tail -n 1 "$TMPD/brute.txt" | cut -d' ' -f2)"
node_file "$TMPD/dump.csv" >"$TMPD/nodes.csv"
ecdf-ks -q --points="$TMPD/nodes.csv" --dump="$TMPD/d1.csv" "$TMPD/R.csv" "$TMPD/S.csv" >"$TMPD/o1.csv"
ecdf-ks -q --points="$TMPD/nodes.csv" --dump="$TMPD/d2.csv" "$TMPD/S.csv" "$TMPD/R.csv" >"$TMPD/o2.csv"
check "swap on the same nodes: f_real and f_synth swap on every node" \
    sh -c "paste -d, '$TMPD/d1.csv' '$TMPD/d2.csv' | tail -n +2 | awk -F, '\$3 != \$13 || \$4 != \$12 { bad++ } END { exit bad > 0 }'"
check "swap on the same nodes: same ks" test "$(tail -n 1 "$TMPD/o1.csv" | cut -d, -f1)" = "$(tail -n 1 "$TMPD/o2.csv" | cut -d, -f1)"
check "--points=FILE with the same nodes as all: same ks" test "$(tail -n 1 "$TMPD/o1.csv" | cut -d, -f1)" = "$(field "$(cat "$TMPD/o1.csv")" 1)" -a "$(field "$(ecdf-ks -q "$TMPD/R.csv" "$TMPD/S.csv")" 1)" = "$(tail -n 1 "$TMPD/o1.csv" | cut -d, -f1)"
check "--points=FILE: source is file and node its data row" test "$(tail -n +2 "$TMPD/d1.csv" | cut -d, -f1,2 | sed -n '1p;70p' | tr '\n' ' ')" = "file,1 file,70 "

# d = 1: the classical two-sample KS, for each column
for col in 1 2 3; do
    run ecdf-ks -q -c $col "$TMPD/R.csv" "$TMPD/S.csv"
    check "d = 1 (column $col): ks equals the classical two-sample KS" near "$(field "$out" 1)" "$(classic_ks "$TMPD/R.csv" "$TMPD/S.csv" $col)"
done

# random nodes
ecdf-ks -q --points=500 --seed=3 -j 1 --dump="$TMPD/r1.csv" "$TMPD/R.csv" "$TMPD/S.csv" >"$TMPD/ro1.csv"
ecdf-ks -q --points=500 --seed=3 -j 2 --dump="$TMPD/r2.csv" "$TMPD/R.csv" "$TMPD/S.csv" >"$TMPD/ro2.csv"
check "--points=N --seed: identical output with -j 1 and -j 2" cmp -s "$TMPD/ro1.csv" "$TMPD/ro2.csv"
check "--points=N --seed: identical dump with -j 1 and -j 2" cmp -s "$TMPD/r1.csv" "$TMPD/r2.csv"
ecdf-ks -q --points=500 --seed=4 --dump="$TMPD/r4.csv" "$TMPD/R.csv" "$TMPD/S.csv" >/dev/null
check "another seed draws other nodes" test -n "$(cmp "$TMPD/r1.csv" "$TMPD/r4.csv" 2>&1)"
kept=$(tail -n 1 "$TMPD/ro1.csv" | cut -d, -f2)
check "--points=N: points <= N and = the dump's nodes" test "$kept" -le 500 -a "$kept" -eq "$(($(wc -l <"$TMPD/r1.csv") - 1))"
check "--points=N: no node with F_real = 0 is kept" sh -c "tail -n +2 '$TMPD/r1.csv' | awk -F, '\$5 == 0 { bad++ } END { exit bad > 0 }'"
check "--points=N: every coordinate inside REAL's column range" sh -c "tail -n +2 '$TMPD/r1.csv' | awk -F, '\$7 < 0 || \$7 > 2 || \$8 < 0 || \$8 > 2 || \$9 < 0 || \$9 > 2 { bad++ } END { exit bad > 0 }'"
node_file "$TMPD/r1.csv" >"$TMPD/rnodes.csv"
brute "$TMPD/rnodes.csv" "$TMPD/R.csv" "$TMPD/S.csv" >"$TMPD/rbrute.txt"
check "--points=N: ks equals the brute force on the dumped nodes" near "$(tail -n 1 "$TMPD/ro1.csv" | cut -d, -f1)" "$(tail -n 1 "$TMPD/rbrute.txt" | cut -d' ' -f2)"
tail -n +2 "$TMPD/r1.csv" | cut -d, -f5,6 >"$TMPD/r.counts"
check "--points=N: every node's counts equal the brute force" sh -c "head -n -1 '$TMPD/rbrute.txt' | cmp -s - '$TMPD/r.counts'"
check "--points=N: source is random, node the index drawn (increasing, <= N)" sh -c "tail -n +2 '$TMPD/r1.csv' | awk -F, '\$1 != \"random\" || \$2 <= prev || \$2 > 500 { bad++ } { prev = \$2 } END { exit bad > 0 }'"

# --points=FILE: columns by name in another order, an extra column ignored
printf 'c,extra,a,b\n1,zz,1,1\n2,zz,0.5,2\n0,zz,2,2\n1.5,zz,1.5,0.5\n' >"$TMPD/fnodes.csv"
printf 'a,b,c\n1,1,1\n0.5,2,2\n2,2,0\n1.5,0.5,1.5\n' >"$TMPD/fnodes-abc.csv"
ecdf-ks -q --points="$TMPD/fnodes.csv" --dump="$TMPD/fd.csv" "$TMPD/R.csv" "$TMPD/S.csv" >"$TMPD/fo.csv"
brute "$TMPD/fnodes-abc.csv" "$TMPD/R.csv" "$TMPD/S.csv" >"$TMPD/fbrute.txt"
tail -n +2 "$TMPD/fd.csv" | cut -d, -f5,6 >"$TMPD/f.counts"
check "--points=FILE: columns matched by name, counts equal the brute force" sh -c "head -n -1 '$TMPD/fbrute.txt' | cmp -s - '$TMPD/f.counts'"
check "--points=FILE: ks equals the brute force" near "$(tail -n 1 "$TMPD/fo.csv" | cut -d, -f1)" "$(tail -n 1 "$TMPD/fbrute.txt" | cut -d' ' -f2)"
check "--points=FILE: points = 4" test "$(tail -n 1 "$TMPD/fo.csv" | cut -d, -f2)" = 4
ecdf-ks -q --points=- "$TMPD/R.csv" "$TMPD/S.csv" <"$TMPD/fnodes.csv" >"$TMPD/fstdin.csv"
check "--points=- reads the nodes from stdin" cmp -s "$TMPD/fstdin.csv" "$TMPD/fo.csv"

# --base: KS(REAL, REAL2) on the same construction
run ecdf-ks -q --base="$TMPD/R2.csv" "$TMPD/R.csv" "$TMPD/S.csv"
{ echo a,b,c; tail -n +2 "$TMPD/R.csv"; tail -n +2 "$TMPD/R2.csv"; } >"$TMPD/basenodes.csv"
check "--base (all): base_ks equals the brute force over the rows of REAL and REAL2" near "$(field "$out" 3)" "$(brute "$TMPD/basenodes.csv" "$TMPD/R.csv" "$TMPD/R2.csv" | tail -n 1 | cut -d' ' -f2)"
check "--base leaves ks unchanged" near "$(field "$out" 1)" "$(tail -n 1 "$TMPD/brute.txt" | cut -d' ' -f2)"
run ecdf-ks -q --points=500 --seed=3 --base="$TMPD/R2.csv" "$TMPD/R.csv" "$TMPD/S.csv"
check "--base (random): base_ks equals the brute force on the same nodes" near "$(field "$out" 3)" "$(brute "$TMPD/rnodes.csv" "$TMPD/R.csv" "$TMPD/R2.csv" | tail -n 1 | cut -d' ' -f2)"
check "--base (random): ks and nodes unchanged" test "$(field "$out" 1),$(field "$out" 2)" = "$(tail -n 1 "$TMPD/ro1.csv" | cut -d, -f1,2)"
run ecdf-ks -q "$TMPD/R.csv" "$TMPD/S.csv"
check "without --base, base_ks is empty" test -z "$(field "$out" 3)"

# categorical columns: left out with a warning naming them, scored by TV
run ecdf-ks -q --marginals="$TMPD/m.csv" "$TMPD/Rc.csv" "$TMPD/Sc.csv"
check "categorical column: a warning naming it, even with -q" sh -c "printf '%s' \"\$1\" | grep -q \"warning: categorical column 'kind' left out of the multivariate ECDF\"" _ "$err"
check "categorical column: the ECDF is over a,b,c only" test "$(printf '%s\n' "$out" | head -n 1)" = "ks,points,base_ks,source,node,f_real,f_synth,a,b,c"
ecdf-ks -q -c a,b,c "$TMPD/Rc.csv" "$TMPD/Sc.csv" >"$TMPD/num.csv"
check "categorical column: same ks as with -c a,b,c" test "$(field "$out" 1)" = "$(tail -n 1 "$TMPD/num.csv" | cut -d, -f1)"
check "--marginals: header and one line per column plus (mean)" test "$(head -n 1 "$TMPD/m.csv")" = "column,kind,statistic,value,complement,base_value,base_complement" -a "$(wc -l <"$TMPD/m.csv")" -eq 6
i=1
for col in a kind b c; do
    i=$((i + 1))
    line=$(sed -n "${i}p" "$TMPD/m.csv")
    if [ $col = kind ]; then
        want=$(total_variation "$TMPD/Rc.csv" "$TMPD/Sc.csv" 2); label="kind,categorical,tv"
    else
        want=$(classic_ks "$TMPD/Rc.csv" "$TMPD/Sc.csv" $((i - 1))); label="$col,numeric,ks"
    fi
    check "--marginals: $label equals the awk value, complement = 1 - value" sh -c "
        case '$line' in $label,*) ;; *) exit 1 ;; esac
        v=\$(echo '$line' | cut -d, -f4); c=\$(echo '$line' | cut -d, -f5)
        awk -v v=\"\$v\" -v c=\"\$c\" -v w='$want' 'BEGIN { exit !((v - w)^2 < 1e-16 && (1 - v - c)^2 < 1e-16) }'"
done
check "--marginals: (mean) is the mean of the four values" sh -c "awk -F, 'NR > 1 && NR < 6 { s += \$4 } NR == 6 { exit !(\$1 == \"(mean)\" && (\$4 - s / 4)^2 < 1e-16) }' '$TMPD/m.csv'"
check "--marginals without --base: base columns empty" sh -c "tail -n +2 '$TMPD/m.csv' | awk -F, '\$6 != \"\" || \$7 != \"\" { bad++ } END { exit bad > 0 }'"
gen 16 25 cat >"$TMPD/Rc2.csv"
ecdf-ks -q --base="$TMPD/Rc2.csv" --marginals="$TMPD/mb.csv" "$TMPD/Rc.csv" "$TMPD/Sc.csv" >/dev/null 2>&1
check "--marginals --base: base_value of kind is the TV of REAL vs REAL2" near "$(sed -n 3p "$TMPD/mb.csv" | cut -d, -f6)" "$(total_variation "$TMPD/Rc.csv" "$TMPD/Rc2.csv" 2)"
ecdf-ks -q -o "$TMPD/main.csv" --marginals=- "$TMPD/Rc.csv" "$TMPD/Sc.csv" >"$TMPD/mstdout.csv" 2>/dev/null
check "--marginals=- with -o: marginals on stdout" cmp -s "$TMPD/mstdout.csv" "$TMPD/m.csv"

# the same answer whatever the scaling, from stdin, and through -o
ecdf-ks -q "$TMPD/R.csv" "$TMPD/S.csv" >"$TMPD/plain.csv"
for s in std range; do
    ecdf-ks -q --scale=$s "$TMPD/R.csv" "$TMPD/S.csv" >"$TMPD/scaled.csv"
    check "--scale=$s: same output (ECDFs are scale-invariant; coordinates in file units)" cmp -s "$TMPD/scaled.csv" "$TMPD/plain.csv"
done
ecdf-ks -q - "$TMPD/S.csv" <"$TMPD/R.csv" >"$TMPD/stdin.csv"
check "'-' reads REAL from stdin" cmp -s "$TMPD/stdin.csv" "$TMPD/plain.csv"
ecdf-ks -q -o "$TMPD/out.csv" "$TMPD/R.csv" "$TMPD/S.csv"
check "-o writes the same as stdout" cmp -s "$TMPD/out.csv" "$TMPD/plain.csv"
mkfifo "$TMPD/fifo"
cat "$TMPD/fifo" >"$TMPD/fromfifo.csv" &
ecdf-ks -q -o "$TMPD/fifo" "$TMPD/R.csv" "$TMPD/S.csv"; wait
check "-o to a FIFO writes through it and leaves it a FIFO (never renamed over)" sh -c "test -p '$TMPD/fifo' && cmp -s '$TMPD/fromfifo.csv' '$TMPD/plain.csv'"
: >"$TMPD/target.csv"; ln -s target.csv "$TMPD/link.csv"
ecdf-ks -q -o "$TMPD/link.csv" "$TMPD/R.csv" "$TMPD/S.csv"
check "-o to a symbolic link writes its target and keeps the link" sh -c "test -L '$TMPD/link.csv' && cmp -s '$TMPD/target.csv' '$TMPD/plain.csv'"
run ecdf-ks --points=500 "$TMPD/R.csv" "$TMPD/S.csv"
check "summary reports the nodes evaluated, those left out, and the seed" sh -c "printf '%s' \"\$1\" | grep -Eq 'random nodes evaluated \([0-9]+ of 500 had F_real = 0 and were left out\), seed 1'" _ "$err"

# (the man page's examples run in tests/cli-docs.sh)

# errors
expect_fail 1 "^ecdf-ks: .*no column 'c'" "schema mismatch: SYNTH lacks a column" ecdf-ks "$E/small.csv" "$E/two-cols.csv"
expect_fail 1 "^ecdf-ks: .*text.csv:3:2: 'x' is not a number" "a text value in a numeric column: located" ecdf-ks "$E/small.csv" "$E/text.csv"
expect_fail 1 "^ecdf-ks: .*ragged.csv:2:" "ragged row: located" ecdf-ks "$E/small.csv" "$E/ragged.csv"
expect_fail 1 "^ecdf-ks: .*no column 'c'" "--base lacks a column" ecdf-ks --base="$E/two-cols.csv" "$E/small.csv" "$E/small.csv"
expect_fail 2 "^ecdf-ks: .*nonexistent.csv: No such file" "missing file: exit 2" ecdf-ks "$E/small.csv" "$TMPD/nonexistent.csv"
expect_fail 2 "^ecdf-ks: .*nonexistent.csv: No such file" "missing --points file: exit 2" ecdf-ks --points="$TMPD/nonexistent.csv" "$E/small.csv" "$E/small.csv"
expect_fail 1 "^ecdf-ks: --points: '0'" "--points=0" ecdf-ks --points=0 "$E/small.csv" "$E/small.csv"
expect_fail 1 "^ecdf-ks: --points: '1e5'" "--points=1e5" ecdf-ks --points=1e5 "$E/small.csv" "$E/small.csv"
expect_fail 1 "^ecdf-ks: --points: '-3'" "--points=-3" ecdf-ks --points=-3 "$E/small.csv" "$E/small.csv"
expect_fail 1 "^ecdf-ks: --points: empty" "--points= (empty)" ecdf-ks --points= "$E/small.csv" "$E/small.csv"
expect_fail 1 "^ecdf-ks: .*nodes-bad.csv:3:2: 'oops' is not a number" "--points=FILE: bad coordinate located" ecdf-ks --points="$E/nodes-bad.csv" "$E/small.csv" "$E/small.csv"
expect_fail 1 "^ecdf-ks: .*nodes-missing.csv:3:2: missing value" "--points=FILE: missing coordinate located" ecdf-ks --points="$E/nodes-missing.csv" "$E/small.csv" "$E/small.csv"
expect_fail 1 "^ecdf-ks: .*nodes-no-b.csv has no column 'b'" "--points=FILE: missing column named" ecdf-ks --points="$E/nodes-no-b.csv" "$E/small.csv" "$E/small.csv"
expect_fail 1 "^ecdf-ks: --points: .*nodes-empty.csv has no data rows" "--points=FILE: no nodes" ecdf-ks --points="$E/nodes-empty.csv" "$E/small.csv" "$E/small.csv"
expect_fail 1 "^ecdf-ks: no numeric column .*'plan', 'region'" "only categorical columns: clear error" ecdf-ks "$E/all-cat.csv" "$E/all-cat.csv"
expect_fail 1 "^ecdf-ks: --metric" "--metric does not apply" ecdf-ks --metric=l2 "$E/small.csv" "$E/small.csv"
expect_fail 1 "^ecdf-ks: --exact" "--exact does not apply" ecdf-ks --exact "$E/small.csv" "$E/small.csv"
expect_fail 1 "^ecdf-ks: expected REAL SYNTH, got 1 file" "one file" ecdf-ks "$E/small.csv"
expect_fail 1 "^ecdf-ks: expected REAL SYNTH, got 3 files" "three files" ecdf-ks "$E/small.csv" "$E/small.csv" "$E/small.csv"
expect_fail 1 "^ecdf-ks: standard input .*once" "stdin twice" ecdf-ks --points=- - "$E/small.csv"
expect_fail 1 "^ecdf-ks: --dump=-: .*use -o" "--dump=- without -o" ecdf-ks --dump=- "$E/small.csv" "$E/small.csv"
expect_fail 1 "^ecdf-ks: --threads: '0'" "--threads=0" ecdf-ks -j 0 "$E/small.csv" "$E/small.csv"
expect_fail 1 "^ecdf-ks: --seed: 'x'" "bad --seed" ecdf-ks --seed=x "$E/small.csv" "$E/small.csv"
expect_fail 2 "^ecdf-ks: write error on stdout" "stdout full (/dev/full)" sh -c "ecdf-ks -q '$E/small.csv' '$E/small.csv' >/dev/full"
expect_fail 2 "^ecdf-ks: .*nodir/d.csv" "--dump in a missing directory: exit 2, nothing on stdout" ecdf-ks -q --dump="$TMPD/nodir/d.csv" "$E/small.csv" "$E/small.csv"
expect_fail 2 "^ecdf-ks: .*nodir/m.csv" "--marginals in a missing directory" ecdf-ks -q --marginals="$TMPD/nodir/m.csv" "$E/small.csv" "$E/small.csv"
