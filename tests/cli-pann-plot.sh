#!/bin/sh
# cli-pann-plot.sh — pann-plot from the command line: every figure is
# well-formed XML (xmllint, or python3's xml.etree when xmllint is absent),
# has one mark per data row, and puts each point where an affine map of its
# data values says, inside the plot area; segments join the right rows;
# histogram bars have the heights of an awk count; frames are reproducible.
. "${top_srcdir:-.}/tests/lib.sh"
S="$top_srcdir/datasets/gauss2d-S.csv"
T="$top_srcdir/datasets/gauss2d-T.csv"
PD="$DATA/plot"

xml_ok() { # well-formed XML?
    if command -v xmllint >/dev/null 2>&1; then xmllint --noout "$1" 2>/dev/null
    else /usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$1" 2>/dev/null; fi
}
# marks FILE CLASS ELEMENT: the ELEMENT lines inside <g class="CLASS">.
marks() { awk -v c="<g class=\"$2\"" -v e="<$3 " 'index($0, c) == 1 { on = 1; next } on && /^<\/g>/ { on = 0 } on && index($0, e) == 1' "$1"; }
# attr NAME: the values of attribute NAME on each line of stdin.
attr() { sed -n "s/.* $1=\"\\([^\"]*\\)\".*/\\1/p"; }
area() { grep 'class="plot-area"' "$1" | sed 's/.* x="\([^"]*\)" y="\([^"]*\)" width="\([^"]*\)" height="\([^"]*\)".*/\1 \2 \3 \4/'; }
# inside FILE CLASS: every circle of CLASS lies in the plot area.
inside() {
    set -- "$1" "$2" $(area "$1")
    marks "$1" "$2" circle | awk -v x0="$3" -v y0="$4" -v w="$5" -v h="$6" '
        { match($0, /cx="[^"]*"/); cx = substr($0, RSTART + 4, RLENGTH - 5) + 0
          match($0, /cy="[^"]*"/); cy = substr($0, RSTART + 4, RLENGTH - 5) + 0
          n++; if (cx < x0 - 1e-6 || cx > x0 + w + 1e-6 || cy < y0 - 1e-6 || cy > y0 + h + 1e-6) bad++ }
        END { exit n == 0 || bad > 0 }'
}
# affine FILE CLASS DATA COLX COLY: circle i of CLASS is at (a + b x_i,
# c - d y_i) for the data rows, b and d > 0 (fitted on the extreme rows).
affine() {
    marks "$1" "$2" circle | sed 's/.*cx="\([^"]*\)" cy="\([^"]*\)".*/\1,\2/' >"$TMPD/px"
    tail -n +2 "$3" | awk -F, -v a="$4" -v b="$5" '{ print $a "," $b }' | paste -d, - "$TMPD/px" | awk -F, '
        { x[NR] = $1; y[NR] = $2; px[NR] = $3; py[NR] = $4
          if (NR == 1 || $1 < x[lo]) lo = NR; if (NR == 1 || $1 > x[hi]) hi = NR
          if (NR == 1 || $2 < y[ylo]) ylo = NR; if (NR == 1 || $2 > y[yhi]) yhi = NR }
        END { b = (px[hi] - px[lo]) / (x[hi] - x[lo]); d = (py[ylo] - py[yhi]) / (y[yhi] - y[ylo])
              if (b <= 0 || d <= 0) exit 1
              for (i = 1; i <= NR; i++) {
                  ex = px[lo] + b * (x[i] - x[lo]); ey = py[ylo] - d * (y[i] - y[ylo])
                  if ((ex - px[i])^2 > 1e-4 || (ey - py[i])^2 > 1e-4) { print "row " i; bad++ } }
              exit bad > 0 }'
}
rows() { echo $(($(wc -l <"$1") - 1)); }

run pann-plot --help
check "--help exits 0 and shows usage" test "$rc" -eq 0 -a -n "$(printf '%s' "$out" | grep 'Usage: pann-plot')"
run pann-plot --version
check "--version exits 0" test "$rc" -eq 0 -a -n "$(printf '%s' "$out" | grep -E '^pann-plot \(pann\) [0-9]')"

# ---- matches (Figure 2) ----
pann-match -q --seed=3 --iterations=2000 "$S" "$T" >"$TMPD/m.csv"
pann-plot matches -q "$S" "$T" "$TMPD/m.csv" >"$TMPD/m.svg"
check "matches: well-formed XML" xml_ok "$TMPD/m.svg"
check "matches: one red circle per S row" test "$(marks "$TMPD/m.svg" s-point circle | wc -l)" -eq "$(rows "$S")"
check "matches: one blue circle per T row" test "$(marks "$TMPD/m.svg" t-point circle | wc -l)" -eq "$(rows "$T")"
check "matches: one segment per matched S row" test "$(marks "$TMPD/m.svg" match line | wc -l)" -eq "$(rows "$TMPD/m.csv")"
check "matches: S points inside the plot area" inside "$TMPD/m.svg" s-point
check "matches: T points inside the plot area" inside "$TMPD/m.svg" t-point
check "matches: S points at an affine map of (x, y)" affine "$TMPD/m.svg" s-point "$S" 1 2
check "matches: T points at an affine map of (x, y)" affine "$TMPD/m.svg" t-point "$T" 1 2
# segment k goes from S circle k to the T circle of k's neighbour
marks "$TMPD/m.svg" s-point circle | sed 's/.*cx="\([^"]*\)" cy="\([^"]*\)".*/\1,\2/' >"$TMPD/sp"
marks "$TMPD/m.svg" t-point circle | sed 's/.*cx="\([^"]*\)" cy="\([^"]*\)".*/\1,\2/' >"$TMPD/tp"
marks "$TMPD/m.svg" match line | sed 's/.*x1="\([^"]*\)" y1="\([^"]*\)" x2="\([^"]*\)" y2="\([^"]*\)".*/\1,\2,\3,\4/' >"$TMPD/seg"
check "matches: each segment joins S row k to its neighbour's T point" awk -F, '
    FILENAME ~ /sp$/ { s[FNR] = $1 "," $2; next } FILENAME ~ /tp$/ { t[FNR] = $1 "," $2; next }
    FILENAME ~ /m.csv$/ { if (FNR > 1) nb[FNR - 1] = $2; next }
    { if ($1 "," $2 != s[FNR] || $3 "," $4 != t[nb[FNR]]) bad++ } END { exit bad > 0 || FNR != 200 }' \
    "$TMPD/sp" "$TMPD/tp" "$TMPD/m.csv" "$TMPD/seg"
pann-plot matches -q --x=y --y=x "$S" "$TMPD/m.csv" >"$TMPD/swap.svg" 2>/dev/null
check "matches --x/--y with one file (T = S): points follow the swapped columns" affine "$TMPD/swap.svg" s-point "$S" 2 1

# ---- frames ----
pann-plot matches -q --seed=3 --iterations=2000 --frames="$TMPD/f1" -j 1 "$S" "$T" >"$TMPD/final1.svg"
pann-plot matches -q --seed=3 --iterations=2000 --frames="$TMPD/f2" -j 2 "$S" "$T" >"$TMPD/final2.svg"
nf=$(ls "$TMPD/f1" | grep -c '^frame-[0-9]\{5\}\.svg$')
check "frames: one per history record (at 200 proposals, then every 100 up to 2000: 19)" test "$nf" -eq 19
allok=0; prev=0; for f in "$TMPD"/f1/frame-*.svg; do
    nseg=$(marks "$f" match line | wc -l)
    xml_ok "$f" && [ "$nseg" -ge "$prev" ] && [ "$(marks "$f" s-point circle | wc -l)" -eq 200 ] || allok=1
    prev=$nseg
done
check "frames: every frame well-formed with 200 S points, segments never fewer" test "$allok" -eq 0
check "frames: the first frame, after every row's first candidate, has 200 segments, the last too" \
    test "$(marks "$TMPD/f1/frame-00001.svg" match line | wc -l)" -eq 200 -a "$prev" -eq 200
check "frames: identical with -j 1 and -j 2" sh -c "diff -r '$TMPD/f1' '$TMPD/f2' >/dev/null && cmp -s '$TMPD/final1.svg' '$TMPD/final2.svg'"
marks "$TMPD/final1.svg" match line >"$TMPD/final.seg"
marks "$TMPD/m.svg" match line >"$TMPD/match.seg"
check "frames: the final picture has pann-match's answer (same seed and budget)" cmp -s "$TMPD/final.seg" "$TMPD/match.seg"
check "frames: the first and the last frame differ (the search moves)" \
    test -n "$(cmp "$TMPD/f1/frame-00001.svg" "$TMPD/f1/frame-00019.svg" 2>&1)"

# ---- convergence (Figure 1) ----
pann-match -q --iterations=10000 --history="$TMPD/h.csv" "$S" "$T" >/dev/null
run pann-plot convergence -o "$TMPD/c.svg" "$TMPD/h.csv"
check "convergence: well-formed XML" xml_ok "$TMPD/c.svg"
npts=$(grep 'class="mean-current"' "$TMPD/c.svg" | attr points | tr ' ' '\n' | grep -c ,)
check "convergence: a polyline vertex per history row ($npts)" test "$npts" -eq "$(rows "$TMPD/h.csv")"
check "convergence: the fitted curve is drawn and reported" sh -c "grep -q 'class=\"fit\"' '$TMPD/c.svg' && printf '%s' \"\$1\" | grep -q 'fit a = '" _ "$err"
fit_a=$(printf '%s\n' "$err" | sed -n 's/.*fit a = \([^,]*\),.*/\1/p')
pann-match --iterations=10000 --fit "$S" "$T" 2>"$TMPD/fit.err" >/dev/null
check "convergence: the same fit as pann-match --fit (a = $fit_a)" grep -q "a = $fit_a " "$TMPD/fit.err"
run pann-plot convergence --fit-skip=1000 -o "$TMPD/c2.svg" "$TMPD/h.csv"
check "convergence: too few points for a fit is said, the figure still drawn" \
    sh -c "printf '%s' \"\$1\" | grep -q 'no fit drawn' && test \$2 -eq 0" _ "$err" "$rc"
check "convergence without a fit: well-formed XML" xml_ok "$TMPD/c2.svg"

# ---- extremes (Figure 3) ----
X="$top_srcdir/datasets/extreme-blob.csv"
pann-extreme -q --exact "$X" >"$TMPD/e.csv"
pann-plot extremes -q "$X" "$TMPD/e.csv" >"$TMPD/e.svg"
check "extremes: well-formed XML" xml_ok "$TMPD/e.svg"
check "extremes: every data row drawn" test "$(marks "$TMPD/e.svg" data-point circle | wc -l)" -eq "$(rows "$X")"
check "extremes: every extreme row highlighted" test "$(marks "$TMPD/e.svg" extreme-point circle | wc -l)" -eq "$(rows "$TMPD/e.csv")"
check "extremes: data points at an affine map" affine "$TMPD/e.svg" data-point "$X" 1 2
# the highlighted circles are the data circles of the listed rows
marks "$TMPD/e.svg" data-point circle | sed 's/ r=.*//' >"$TMPD/dp"
marks "$TMPD/e.svg" extreme-point circle | sed 's/ r=.*//' >"$TMPD/ep"
check "extremes: highlighted points sit on the rows pann-extreme names" awk -F, '
    FILENAME ~ /dp$/ { d[FNR] = $0; next } FILENAME ~ /e.csv$/ { if (FNR > 1) r[FNR - 1] = $1; next }
    { if ($0 != d[r[FNR]]) bad++ } END { exit bad > 0 }' "$TMPD/dp" "$TMPD/e.csv" "$TMPD/ep"

# ---- ecdf ----
run pann-plot ecdf -o "$TMPD/d.svg" "$PD/dump.csv"
ks=$(awk -F, 'NR > 1 { d = $3 - $4; if (d < 0) d = -d; if (d > m) m = d } END { printf "%.4g", m }' "$PD/dump.csv")
check "ecdf: well-formed XML" xml_ok "$TMPD/d.svg"
check "ecdf: a point per node, KS $ks in the title" sh -c "\
    test \$(grep -c '<circle' '$TMPD/d.svg') -eq 4 && grep -q 'KS = $ks<' '$TMPD/d.svg'"
check "ecdf: nodes at an affine map of (f_real, f_synth)" affine "$TMPD/d.svg" node "$PD/dump.csv" 3 4
check "ecdf: the diagonal from (0,0) to (1,1) is drawn" grep -q 'class="diagonal"' "$TMPD/d.svg"
if command -v ecdf-ks >/dev/null 2>&1; then
    ecdf-ks -q --dump="$TMPD/dump.csv" "$top_srcdir/datasets/ecdf-real.csv" "$top_srcdir/datasets/ecdf-synth.csv" >/dev/null 2>&1
    pann-plot ecdf -q "$TMPD/dump.csv" >"$TMPD/d2.svg"
    check "ecdf: reads ecdf-ks --dump, a point per node" test "$(grep -c '<circle' "$TMPD/d2.svg")" -eq "$(rows "$TMPD/dump.csv")"
fi

# ---- histogram ----
pann-match -q --exact "$S" "$T" >"$TMPD/x.csv"
pann-plot histogram -q --bins=10 --threshold=0.05 "$TMPD/x.csv" >"$TMPD/hist.svg"
check "histogram: well-formed XML" xml_ok "$TMPD/hist.svg"
check "histogram: 10 bars and a threshold line" sh -c "\
    test \$(grep -c '^<rect x=' '$TMPD/hist.svg') -eq 10 && grep -q 'class=\"threshold\"' '$TMPD/hist.svg'"
grep '^<rect x=' "$TMPD/hist.svg" | attr height >"$TMPD/bars"
tail -n +2 "$TMPD/x.csv" | cut -d, -f3 | awk '{ v[NR] = $1; if ($1 > hi) hi = $1 }
    END { if (0.05 > hi) hi = 0.05
          for (i = 1; i <= NR; i++) { b = int(v[i] / hi * 10); if (b > 9) b = 9; c[b]++ }
          for (b = 0; b < 10; b++) print c[b] + 0 }' >"$TMPD/counts"
check "histogram: bar heights proportional to an awk count of the distances" sh -c "paste -d, '$TMPD/bars' '$TMPD/counts' | awk -F, '
    { h[NR] = \$1; c[NR] = \$2; if (\$2 > m) { m = \$2; hm = \$1 } }
    END { for (i = 1; i <= NR; i++) if ((h[i] / hm - c[i] / m)^2 > 1e-6) bad++; exit bad > 0 || NR != 10 }'"
x0=$(grep '^<rect x=' "$TMPD/hist.svg" | head -n 1 | attr x)
x1=$(grep '^<rect x=' "$TMPD/hist.svg" | tail -n 1 | attr x)
w=$(grep '^<rect x=' "$TMPD/hist.svg" | tail -n 1 | attr width)
xt=$(grep 'class="threshold"' "$TMPD/hist.svg" | attr points | cut -d, -f1)
hi=$(tail -n +2 "$TMPD/x.csv" | cut -d, -f3 | sort -g | tail -n 1)
check "histogram: threshold line at 0.05 of the bars' span [0, max] ($xt px)" awk -v x0="$x0" -v x1="$x1" \
    -v w="$w" -v xt="$xt" -v hi="$hi" 'BEGIN { e = x0 + 0.05 / hi * (x1 + w - x0); exit xt == "" || (e - xt)^2 > 1e-3 }'

# ---- the man page's example: the summaries printed there, the same answer ----
(cd "$top_srcdir" && pann-match -q --seed=3 --iterations=2000 datasets/gauss2d-S.csv \
    datasets/gauss2d-T.csv >"$TMPD/ex-m.csv" &&
 pann-plot matches datasets/gauss2d-S.csv datasets/gauss2d-T.csv "$TMPD/ex-m.csv" -o "$TMPD/fig2.svg" &&
 pann-plot matches --seed=3 --iterations=2000 --frames="$TMPD/frames" \
    datasets/gauss2d-S.csv datasets/gauss2d-T.csv -o "$TMPD/ex-final.svg") 2>"$TMPD/ex.err"
sed -n '/^.SH EXAMPLES/,/^.SH SEE/p' "$top_srcdir/man/pann-plot.1" | grep '^pann-plot: ' \
    | sed "s| to frames | to $TMPD/frames |" >"$TMPD/ex.man"
check "the man page's example prints the summaries shown there" cmp -s "$TMPD/ex.err" "$TMPD/ex.man"
marks "$TMPD/fig2.svg" match line >"$TMPD/ex1"; marks "$TMPD/ex-final.svg" match line >"$TMPD/ex2"
check "the man page's example: final.svg draws the segments of fig2.svg" cmp -s "$TMPD/ex1" "$TMPD/ex2"

# ---- errors ----
expect_fail 1 'expected KIND' "no kind" pann-plot
expect_fail 1 "'pie' is not a kind" "unknown kind" pann-plot pie "$S"
expect_fail 1 'convergence: expected 1' "convergence wants one file" pann-plot convergence
expect_fail 1 "bad-number.csv:3:4: 'abc' is not a number" "a text cell is located FILE:LINE:FIELD" \
    pann-plot convergence "$PD/bad-number.csv"
expect_fail 1 "bad-row.csv:3:2: '9' is not a row number from 1 to 4" "a neighbour past the end is located" \
    pann-plot matches "$PD/dump.csv" "$PD/bad-row.csv" --x=f_real --y=f_synth
expect_fail 1 "column" "histogram of a missing column" pann-plot histogram --column=nope "$TMPD/x.csv"
expect_fail 1 '--frames is for the matches kind' "--frames with another kind" pann-plot ecdf --frames="$TMPD/z" "$PD/dump.csv"
expect_fail 1 'at most two' "three thresholds" pann-plot histogram --threshold=1 --threshold=2 --threshold=3 "$TMPD/x.csv"
expect_fail 2 'nope.csv' "unreadable file: exit 2" pann-plot ecdf "$TMPD/nope.csv"
