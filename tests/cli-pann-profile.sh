#!/bin/sh
# cli-pann-profile.sh — pann-profile from the command line: statistics and
# autocorrelations against awk (textbook formulas), the end-to-end search
# for the most similar series and data set with pann-match, the man page's
# example, options and located errors.
. "${top_srcdir:-.}/tests/lib.sh"
SERIES="$top_srcdir/datasets/series.csv"
P="$DATA/profile"

# Textbook autocorrelations of every column of a CSV, lags 1..L, as
# name,acf_1,...  (the same layout as pann-profile --series).
awk_acf() { # awk_acf L FILE
    awk -F, -v L="$1" 'NR == 1 { for (j = 1; j <= NF; j++) name[j] = $j; nc = NF; next }
        { n++; for (j = 1; j <= nc; j++) x[j, n] = $j }
        END { for (j = 1; j <= nc; j++) { m = 0; for (t = 1; t <= n; t++) m += x[j, t]; m /= n
            den = 0; for (t = 1; t <= n; t++) den += (x[j, t] - m) ^ 2; line = name[j]
            for (k = 1; k <= L; k++) { num = 0; for (t = 1; t + k <= n; t++) num += (x[j, t] - m) * (x[j, t + k] - m)
                line = line sprintf(",%.12g", num / den) }
            print line } }' "$2"
}
# Same names and every number within TOL (absolute).
same_numbers() { # same_numbers TOL A B  (A and B without header)
    test "$(wc -l <"$2")" -eq "$(wc -l <"$3")" || return 1
    paste -d'|' "$2" "$3" | awk -v tol="$1" '{ split($0, h, "|"); na = split(h[1], a, ","); nb = split(h[2], b, ",")
        if (na != nb || a[1] != b[1]) bad++
        for (i = 2; i <= na; i++) { d = a[i] - b[i]; if (d < 0) d = -d; if (d > tol) bad++ } }
        END { exit bad > 0 }'
}
# Column of a file's field as numbers (sorted), then the 9 statistics by
# hand: mean, sd, min, q25, median, q75, max, skewness, excess kurtosis.
awk_stats() { # awk_stats FIELD FILE
    tail -n +2 "$2" | cut -d, -f"$1" | sort -g | awk '{ v[++n] = $1; s += $1 }
        function q(p,   h, lo) { h = (n - 1) * p; lo = int(h); return lo + 1 >= n ? v[n] : v[lo + 1] + (h - lo) * (v[lo + 2] - v[lo + 1]) }
        END { m = s / n; for (i = 1; i <= n; i++) { d = v[i] - m; m2 += d * d; m3 += d ^ 3; m4 += d ^ 4 }
            sd = sqrt(m2 / (n - 1)); m2 /= n; m3 /= n; m4 /= n
            printf "%.12g,%.12g,%.12g,%.12g,%.12g,%.12g,%.12g,%.12g,%.12g\n", m, sd, v[1], q(0.25), q(0.5), q(0.75), v[n],
                m3 / m2 ^ 1.5, m4 / (m2 * m2) - 3 }'
}

run pann-profile --help
check "--help exits 0 and shows usage" test "$rc" -eq 0 -a -n "$(printf '%s' "$out" | grep 'Usage: pann-profile')"
run pann-profile --version
check "--version exits 0" test "$rc" -eq 0 -a -n "$(printf '%s' "$out" | grep -E '^pann-profile \(pann\) [0-9]')"

# Series: autocorrelations against the textbook formula in awk.
pann-profile -q --series "$SERIES" >"$TMPD/p.csv"
check "--series: header name,acf_1..acf_10" test "$(head -n 1 "$TMPD/p.csv")" = "name,acf_1,acf_2,acf_3,acf_4,acf_5,acf_6,acf_7,acf_8,acf_9,acf_10"
tail -n +2 "$TMPD/p.csv" >"$TMPD/p.body"
awk_acf 10 "$SERIES" >"$TMPD/acf.awk"
check "--series: 12 rows, autocorrelations equal awk's textbook formula (1e-8)" same_numbers 1e-8 "$TMPD/p.body" "$TMPD/acf.awk"
pann-profile -q --series --lags=3 "$SERIES" | tail -n +2 >"$TMPD/p3.body"
awk_acf 3 "$SERIES" >"$TMPD/acf3.awk"
check "--lags=3 gives lags 1..3" same_numbers 1e-8 "$TMPD/p3.body" "$TMPD/acf3.awk"
check "AR(1) series: acf_1 within 0.1 of phi" awk -F, '
    /^ar_m06/ { if ($2 < -0.7 || $2 > -0.5) bad++ } /^white/ { if ($2 < -0.1 || $2 > 0.1) bad++ }
    /^ar_05/ { if ($2 < 0.4 || $2 > 0.6) bad++ } /^ar_09/ { if ($2 < 0.8 || $2 > 1) bad++ }
    END { exit bad > 0 }' "$TMPD/p.body"

# End to end: each series' nearest series is its twin (same kind, same
# parameters, other noise).
pann-match -q --exact -c 2- "$TMPD/p.csv" >"$TMPD/m.csv"
check "pann-match --exact finds for every series its twin (same parameters)" awk -F, '
    NR == FNR { if (FNR > 1) name[FNR - 1] = $1; next }
    FNR > 1 { a = name[$1]; b = name[$2]; sub(/_[ab]$/, "", a); sub(/_[ab]$/, "", b); n++; if (a != b || $1 == $2) bad++ }
    END { exit bad > 0 || n != 12 }' "$TMPD/p.csv" "$TMPD/m.csv"
# The man page's example, as printed there.
pann-match -q --exact -c 2- "$TMPD/p.csv" | head -5 >"$TMPD/ex.csv"
printf 'query,neighbor,distance,proven\n1,2,0.1578029,1\n2,1,0.1578029,1\n3,4,0.3012617,1\n4,3,0.3012617,1\n' >"$TMPD/ex-want.csv"
check "the man page's example output" cmp -s "$TMPD/ex.csv" "$TMPD/ex-want.csv"

# Statistics per data set against awk, field by field.
pann-profile -q -c x,y "$P/small.csv" >"$TMPD/s.csv"
check "per file: header x_mean..x_kurtosis, y_..., corr_x_y" test "$(head -n 1 "$TMPD/s.csv")" = \
    "name,x_mean,x_sd,x_min,x_q25,x_median,x_q75,x_max,x_skewness,x_kurtosis,y_mean,y_sd,y_min,y_q25,y_median,y_q75,y_max,y_skewness,y_kurtosis,corr_x_y"
printf '%s,%s,%s\n' "$P/small.csv" "$(awk_stats 1 "$P/small.csv")" "$(awk_stats 2 "$P/small.csv" | tr -d '\n')" >"$TMPD/s.awk"
tail -n +2 "$TMPD/s.csv" | cut -d, -f1-19 >"$TMPD/s.body"
check "per file: the 9 statistics of each column equal awk's" same_numbers 1e-8 "$TMPD/s.body" "$TMPD/s.awk"
corr=$(tail -n +2 "$P/small.csv" | awk -F, '{ n++; x[n] = $1; y[n] = $2; mx += $1; my += $2 }
    END { mx /= n; my /= n; for (i = 1; i <= n; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ^ 2; syy += (y[i] - my) ^ 2 }
          printf "%.12g", sxy / sqrt(sxx * syy) }')
check "per file: corr_x_y equals awk's Pearson" awk -v a="$(tail -n 1 "$TMPD/s.csv" | cut -d, -f20)" -v b="$corr" \
    'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 1e-8) }'
pann-profile -q -c x,y "$P/small.csv" "$P/swapped.csv" | tail -n +2 | cut -d, -f2- >"$TMPD/two.csv"
check "columns of later files are matched by name, not position" test "$(sed -n 1p "$TMPD/two.csv")" = "$(sed -n 2p "$TMPD/two.csv")"
check "--no-correlations drops corr_x_y" test "$(pann-profile -q --no-correlations -c x,y "$P/small.csv" | head -n 1 | tr , '\n' | wc -l)" -eq 19
check "--no-stats --lags=2: x_acf_1,x_acf_2,y_acf_1,y_acf_2,corr_x_y" test \
    "$(pann-profile -q --no-stats --lags=2 -c x,y "$P/small.csv" | head -n 1)" = "name,x_acf_1,x_acf_2,y_acf_1,y_acf_2,corr_x_y"
check "--series --stats: mean..kurtosis then acf" test \
    "$(pann-profile -q --series --stats --lags=1 -c x "$P/small.csv" | head -n 1)" = "name,mean,sd,min,q25,median,q75,max,skewness,kurtosis,acf_1"
pann-profile -q -c x,y - <"$P/small.csv" | cut -d, -f2- >"$TMPD/stdin.csv"
check "reads '-' as stdin" test "$(sed -n 2p "$TMPD/stdin.csv")" = "$(sed -n 2p "$TMPD/two.csv")"
check "stdin row is named stdin" test "$(pann-profile -q -c x - <"$P/small.csv" | tail -n 1 | cut -d, -f1)" = stdin
pann-profile -q -o "$TMPD/o.csv" --series "$SERIES"
check "-o writes the same output" cmp -s "$TMPD/o.csv" "$TMPD/p.csv"
run pann-profile --series "$SERIES"
check "summary names rows and features" sh -c "printf '%s' \"\$1\" | grep -q '12 series profiled, 10 features'" _ "$err"

# Data sets: two drawn from N(0, 1), two from N(5, 3^2) (x) with y = x + noise;
# each one's nearest data set is the one from the same distribution.
for spec in "a 0 1 5" "b 0 1 6" "c 5 3 7" "d 5 3 8"; do
    set -- $spec
    awk -v mu="$2" -v sd="$3" -v x="$4" 'function rnd() { x = (x * 48271) % 2147483647; return (x + 0.5) / 2147483647 }
        function g(   u, v) { u = rnd(); v = rnd(); return sqrt(-2 * log(u)) * cos(6.283185307179586 * v) }
        BEGIN { print "x,y"; for (i = 0; i < 300; i++) { a = mu + sd * g(); printf "%.5f,%.5f\n", a, a + g() } }' >"$TMPD/set-$1.csv"
done
pann-profile -q "$TMPD"/set-a.csv "$TMPD"/set-c.csv "$TMPD"/set-b.csv "$TMPD"/set-d.csv >"$TMPD/sets.csv"
pann-match -q --exact --scale=std -c 2- "$TMPD/sets.csv" | tail -n +2 | cut -d, -f1,2 | tr '\n' ' ' >"$TMPD/sets.m"
check "data sets: each finds the one from the same distribution" test "$(cat "$TMPD/sets.m")" = "1,3 2,4 3,1 4,2 "

# Missing values and errors.
expect_fail 1 "missing.csv:5:1: missing value in column 'x'" "missing value located" pann-profile -c x "$P/missing.csv"
run pann-profile -q --missing=drop --no-correlations -c x "$P/missing.csv"
check "--missing=drop leaves the missing value out (mean of 1 2 3 4)" test "$(printf '%s\n' "$out" | tail -n 1 | cut -d, -f2)" = "2.5"
expect_fail 1 "small.csv:2:3: 'p' is not a number" "text field located" pann-profile "$P/small.csv"
expect_fail 1 "other-columns.csv.*y" "a later file without a selected column" pann-profile -c x,y "$P/small.csv" "$P/other-columns.csv"
expect_fail 1 "column 'x' has 5 values; --lags must be below that" "--lags too large" pann-profile --series --lags=5 -c x "$P/small.csv"
expect_fail 1 "no features" "nothing to compute" pann-profile --series --lags=0 "$SERIES"
expect_fail 1 "^pann-profile: --lags: 'x'" "bad --lags" pann-profile --lags=x "$SERIES"
expect_fail 1 "--missing=impute does not apply" "--missing=impute refused" pann-profile --missing=impute "$SERIES"
expect_fail 1 "expected at least one FILE" "no file" pann-profile
expect_fail 1 "read only once" "stdin twice" pann-profile - -
expect_fail 2 "nope.csv" "missing file: exit 2" pann-profile "$TMPD/nope.csv"
