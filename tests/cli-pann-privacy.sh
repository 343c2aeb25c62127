#!/bin/sh
# cli-pann-privacy.sh — pann-privacy from the command line: the privacy
# figures against an awk brute force of their definitions on mixed tables
# (a text column, TRAIN's range as the scale, a SYNTH value outside it, a
# category TRAIN lacks, duplicates and ties: coordinates in eighths and
# quarters, exact in float), copies of TRAIN, the same output for any -j,
# the verdicts, and the errors.
. "${top_srcdir:-.}/tests/lib.sh"

# rows N SEED: x in 0..8, y in 0..4, c in a..c (awk's own generator)
rows() {
    awk -v n="$1" -v seed="$2" 'BEGIN { srand(seed); print "x,y,c"
        for (i = 0; i < n; i++)
            printf "%d,%d,%s\n", int(rand() * 9), int(rand() * 5), substr("abc", int(rand() * 3) + 1, 1) }'
}
{ echo "x,y,c"; echo "0,0,a"; echo "8,4,b"; rows 38 11 | tail -n +2; } >"$TMPD/train.csv"
{ rows 27 12; echo "10,1,d"; echo "3,2,a"; sed -n 5p "$TMPD/train.csv"; } >"$TMPD/synth.csv"
{ rows 24 13; sed -n 7p "$TMPD/train.csv"; } >"$TMPD/holdout.csv"

# brute TRAIN SYNTH HOLDOUT: the figures by their definitions, %.6g
brute() {
    awk -F, '
    FNR == 1 { f++; next }
    { n[f]++; x[f, n[f]] = $1; y[f, n[f]] = $2; c[f, n[f]] = $3 }
    f == 1 { if (n[1] == 1 || $1 < xlo) xlo = $1; if (n[1] == 1 || $1 > xhi) xhi = $1
             if (n[1] == 1 || $2 < ylo) ylo = $2; if (n[1] == 1 || $2 > yhi) yhi = $2 }
    function d(a, i, b, j) {
        return abs((x[a, i] - x[b, j]) / (xhi - xlo)) + abs((y[a, i] - y[b, j]) / (yhi - ylo)) \
             + (c[a, i] != c[b, j])
    }
    function abs(v) { return v < 0 ? -v : v }
    function nearest(a, i, b,   j, best, v) {   # also sets second
        best = second = 1e30
        for (j = 1; j <= n[b]; j++) { v = d(a, i, b, j)
            if (v < best) { second = best; best = v } else if (v < second) second = v }
        return best
    }
    function sort(arr, m,   i, j, t) {
        for (i = 2; i <= m; i++) { t = arr[i]
            for (j = i - 1; j >= 1 && arr[j] > t; j--) arr[j + 1] = arr[j]
            arr[j + 1] = t }
    }
    function q(arr, m, p,   h, lo) { h = p * (m - 1); lo = int(h)
        return lo + 1 < m ? arr[lo + 1] + (h - lo) * (arr[lo + 2] - arr[lo + 1]) : arr[m] }
    function figures(a, pre,   i, v, zero, r, dd) {
        zero = 0
        for (i = 1; i <= n[a]; i++) { v = nearest(a, i, 1); dd[i] = v; zero += v == 0
            r[i] = v == 0 ? 0 : v / second; d1[a, i] = v }
        sort(r, n[a]); sort(dd, n[a])
        em[pre] = zero / n[a]; nndr[pre] = q(r, n[a], 0.5)
        q05[pre] = q(dd, n[a], 0.05); q50[pre] = q(dd, n[a], 0.5)
    }
    END {
        figures(2, "s"); figures(3, "h")
        share = 0
        for (i = 1; i <= n[2]; i++) { v = nearest(2, i, 3)
            share += d1[2, i] < v ? 1 : d1[2, i] == v ? 0.5 : 0 }
        for (i = 1; i <= n[1]; i++) ts[i] = nearest(1, i, 2)
        for (j = 1; j <= n[3]; j++) hs[j] = nearest(3, j, 2)
        wins = 0
        for (i = 1; i <= n[1]; i++) for (j = 1; j <= n[3]; j++)
            wins += ts[i] < hs[j] ? 1 : ts[i] == hs[j] ? 0.5 : 0
        printf "dcr_share,%.6g\nexact_match_share,%.6g\nholdout_exact_match_share,%.6g\n", share / n[2], em["s"], em["h"]
        printf "nndr_median,%.6g\nholdout_nndr_median,%.6g\nmia_auc,%.6g\n", nndr["s"], nndr["h"], wins / (n[1] * n[3])
        printf "dcr_q05,%.6g\ndcr_q50,%.6g\nholdout_dcr_q05,%.6g\nholdout_dcr_q50,%.6g\n", q05["s"], q50["s"], q05["h"], q50["h"]
    }' "$@"
}

run pann-privacy --help
check "--help exits 0 and shows usage" test "$rc" -eq 0 -a -n "$(printf '%s' "$out" | grep 'Usage: pann-privacy \[OPTIONS\] TRAIN SYNTH HOLDOUT')"
run pann-privacy --version
check "--version exits 0" test "$rc" -eq 0 -a -n "$(printf '%s' "$out" | grep -E '^pann-privacy \(pann\) [0-9]')"

pann-privacy -q -k 3 "$TMPD/train.csv" "$TMPD/synth.csv" "$TMPD/holdout.csv" >"$TMPD/p.csv"
brute "$TMPD/train.csv" "$TMPD/synth.csv" "$TMPD/holdout.csv" >"$TMPD/brute.csv"
tail -n +2 "$TMPD/p.csv" | cut -d, -f1,2 | head -n 10 >"$TMPD/got.csv"
check "the ten privacy figures equal the awk brute force (mixed columns, ties, TRAIN's range)" \
    cmp -s "$TMPD/brute.csv" "$TMPD/got.csv"
cmp -s "$TMPD/brute.csv" "$TMPD/got.csv" || diff "$TMPD/brute.csv" "$TMPD/got.csv" | sed 's/^/# /'
check "header metric,value,ideal,baseline" test "$(head -1 "$TMPD/p.csv")" = "metric,value,ideal,baseline"
ideal=$(awk -F, '$1 == "dcr_share" { print $3 }' "$TMPD/p.csv")
check "dcr_share's ideal is |TRAIN| / (|TRAIN| + |HOLDOUT|) = 40/65" test "$ideal" = "0.615385"
check "the fixture has the ties it is meant to (an exact match, a zero quantile)" \
    test "$(awk -F, '$1 == "exact_match_share" { print ($2 > 0) } $1 == "holdout_dcr_q05" { print $2 }' "$TMPD/p.csv" | tr '\n' ' ')" = "1 0 "
for m in detection correlation_diff dependence_diff; do
    check "$m is reported" grep -q "^$m,[0-9]" "$TMPD/p.csv"
done
check "cramers_v_diff is empty: one categorical column makes no pair" \
    grep -qx "cramers_v_diff,,0," "$TMPD/p.csv"

pann-privacy -q -j 1 --seed=5 "$TMPD/train.csv" "$TMPD/synth.csv" "$TMPD/holdout.csv" >"$TMPD/j1.csv"
pann-privacy -q -j 2 --seed=5 "$TMPD/train.csv" "$TMPD/synth.csv" "$TMPD/holdout.csv" >"$TMPD/j2.csv"
check "the same output for -j 1 and -j 2" cmp -s "$TMPD/j1.csv" "$TMPD/j2.csv"
cat "$TMPD/synth.csv" | pann-privacy -q -j 2 --seed=5 "$TMPD/train.csv" - "$TMPD/holdout.csv" >"$TMPD/stdin.csv"
check "SYNTH from stdin ('-') gives the same output" cmp -s "$TMPD/j1.csv" "$TMPD/stdin.csv"

# copies of TRAIN: everything points to memorisation
awk 'BEGIN { srand(5); print "x,y"; for (i = 0; i < 400; i++) printf "%.5f,%.5f\n", rand(), rand() }' >"$TMPD/real.csv"
head -n 201 "$TMPD/real.csv" >"$TMPD/t.csv"
{ head -n 1 "$TMPD/real.csv"; tail -n 200 "$TMPD/real.csv"; } >"$TMPD/h.csv"
run pann-privacy "$TMPD/t.csv" "$TMPD/t.csv" "$TMPD/h.csv"
value() { printf '%s\n' "$out" | awk -F, -v m="$1" '$1 == m { print $2 }'; }
check "SYNTH = TRAIN: dcr_share 1, exact_match_share 1, nndr_median 0" \
    test "$(value dcr_share) $(value exact_match_share) $(value nndr_median)" = "1 1 0"
check "SYNTH = TRAIN: mia_auc 1" test "$(value mia_auc)" = "1"
check "SYNTH = TRAIN: the verdicts say memorisation and membership" \
    sh -c 'printf "%s\n" "$1" | grep -q "dcr_share 1.0000.*: warning: .*- memorisation" &&
           printf "%s\n" "$1" | grep -q "mia_auc 1.0000.*membership can be inferred"' - "$err"
# SYNTH = HOLDOUT: the training rows are the farther ones, which leaks too
run pann-privacy "$TMPD/t.csv" "$TMPD/h.csv" "$TMPD/h.csv"
check "SYNTH = HOLDOUT: mia_auc 0 and a warning naming the reverse rule" \
    sh -c 'test "$1" = 0 && printf "%s\n" "$2" | grep -q "mia_auc 0.0000.*: warning: .*reverse rule"' - \
    "$(value mia_auc)" "$err"
# an independent draw: near the ideals, and the verdicts say so
awk 'BEGIN { srand(6); print "x,y"; for (i = 0; i < 200; i++) printf "%.5f,%.5f\n", rand(), rand() }' >"$TMPD/s.csv"
run pann-privacy "$TMPD/t.csv" "$TMPD/s.csv" "$TMPD/h.csv"
check "an independent draw: no sign of memorisation, membership not inferred" \
    sh -c 'printf "%s\n" "$1" | grep -q "dcr_share .*: good: " &&
           printf "%s\n" "$1" | grep -q "does not tell training rows from unseen"' - "$err"

# ---- -o and errors --------------------------------------------------------
pann-privacy -q -k 3 -o "$TMPD/o.csv" "$TMPD/train.csv" "$TMPD/synth.csv" "$TMPD/holdout.csv"
check "-o FILE writes the figures" cmp -s "$TMPD/o.csv" "$TMPD/p.csv"
expect_fail 1 'expected TRAIN SYNTH HOLDOUT, got 2 files' "two files: usage error" \
    pann-privacy "$TMPD/train.csv" "$TMPD/synth.csv"
expect_fail 2 'nowhere.csv' "a missing file: exit 2, named" \
    pann-privacy "$TMPD/train.csv" "$TMPD/nowhere.csv" "$TMPD/holdout.csv"
{ head -n 3 "$TMPD/synth.csv"; echo "x9,1,a"; } >"$TMPD/bad.csv"
expect_fail 1 'bad.csv:4:1:' "text in a numeric column of SYNTH: located FILE:LINE:FIELD" \
    pann-privacy -o "$TMPD/never.csv" "$TMPD/train.csv" "$TMPD/bad.csv" "$TMPD/holdout.csv"
check "no output file after an error" test ! -e "$TMPD/never.csv"
head -n 2 "$TMPD/train.csv" >"$TMPD/one.csv"
expect_fail 1 'one.csv: TRAIN has 1 data row, pann-privacy needs 2' "a TRAIN of one row" \
    pann-privacy "$TMPD/one.csv" "$TMPD/synth.csv" "$TMPD/holdout.csv"
expect_fail 1 'detection: K = 60 neighbours need more than 50 rows' "-k larger than the detection sample" \
    pann-privacy -k 60 "$TMPD/train.csv" "$TMPD/synth.csv" "$TMPD/holdout.csv"
run pann-privacy -k 3 "$TMPD/train.csv" "$TMPD/synth.csv" "$TMPD/holdout.csv"
check "one verdict per figure on stderr" \
    test "$(printf '%s\n' "$err" | grep -cE '^pann-privacy: (dcr_share|exact_match_share|nndr_median|mia_auc|dcr_q05|detection|dependence_diff) ')" -eq 7
exit 0
