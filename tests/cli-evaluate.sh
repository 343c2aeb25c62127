#!/bin/sh
# cli-evaluate.sh — the evaluation workflow examples/evaluate.mk end to end
# on the bundled health table: report.md with its table rows agreeing with
# the step files, the SVG figures, the filter's decisions agreeing with an
# exact pann-match, nothing re-run when nothing changed, a changed input or
# variable re-runs, a missing program is named, the video target.
. "${top_srcdir:-.}/tests/lib.sh"
MK="$top_srcdir/examples/evaluate.mk"
unset MAKEFLAGS MFLAGS MAKELEVEL     # not the flags of the make running the tests
cp "$top_srcdir/datasets/eval-health.csv" "$TMPD/real.csv"
O="$TMPD/out"
ev() { make --no-print-directory -f "$MK" BIN="$top_builddir/bin" REAL="$TMPD/real.csv" LABEL=diabetic OUT="$O" "$@"; }
xml_ok() {
    if command -v xmllint >/dev/null 2>&1; then xmllint --noout "$1" 2>/dev/null
    else /usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$1" 2>/dev/null; fi
}
kv() { awk -F, -v k="$2" '$1 == k { print $2; exit }' "$1"; }
rows() { echo $(($(wc -l <"$1") - 1)); }
acc() { awk -F, 'NR > 1 && $3 != "" { n++; c += $2 == $3 } END { printf "%.3f", c / n }' "$1"; }

ev >"$TMPD/log" 2>&1
rc=$?
check "the workflow runs to the end on the bundled data" test "$rc" -eq 0 -a -s "$O/report.md"
[ "$rc" -eq 0 ] || sed 's/^/# /' "$TMPD/log" | tail -n 20
R="$O/report.md"
check "report: the rows line has synthetic and kept counts" \
    grep -qF "| rows | $(rows "$O/synth.csv") | $(rows "$O/kept.csv") |" "$R"
check "report: 10000 synthetic rows by default" test "$(rows "$O/synth.csv")" -eq 10000
ks_s=$(awk -F, 'NR == 2 { printf "%.4g", $1 }' "$O/ks-synth.csv")
ks_k=$(awk -F, 'NR == 2 { printf "%.4g", $1 }' "$O/ks-kept.csv")
check "report: the multivariate KS line ($ks_s before, $ks_k after)" \
    grep -qF "| multivariate ECDF KS distance (0 = same distribution) | $ks_s | $ks_k |" "$R"
check "report: DCR lines from the filter's reports" sh -c "
    grep -q '^| median distance to the closest real record (DCR) | [0-9.]* | [0-9.]* |\$' '$R' &&
    grep -q '^| DCR ratio' '$R'"
check "report: accuracy line with the three classifiers ($(acc "$O/knn-real.csv") real LOO)" \
    grep -qF "leave-one-out: $(acc "$O/knn-real.csv")) | $(acc "$O/knn-synth.csv") | $(acc "$O/knn-kept.csv") |" "$R"
check "report: one line per column in the per-column table" \
    test "$(grep -cE '^\| (age|bmi|glucose|smoker|region|diabetic) \|' "$R")" -eq 6
figs_ok=0
for f in convergence matches distances ecdf-synth ecdf-kept; do
    xml_ok "$O/$f.svg" && grep -qF "($f.svg)" "$R" || figs_ok=1
done
check "report: five well-formed SVG figures, each linked" test "$figs_ok" -eq 0
far=$(tail -n +2 "$O/nn.csv" | awk -F, -v m="$(kv "$O/filter-synth.csv" max_dist)" '$3 > m + 0 { n++ } END { print n + 0 }')
check "filter: its $(kv "$O/filter-synth.csv" dropped_too_far) rows too far = $far exact pann-match distances above max_dist" \
    test "$far" -eq "$(kv "$O/filter-synth.csv" dropped_too_far)"
check "filter: kept + dropped = synthetic rows" test $(($(rows "$O/kept.csv") + $(kv "$O/filter-synth.csv" dropped_too_far) \
    + $(kv "$O/filter-synth.csv" dropped_near_copy))) -eq 10000

ev -q
check "a second run with nothing changed has nothing to do (make -q)" test $? -eq 0
check "a second make does nothing" sh -c "test -z \"\$(\"\$@\" 2>&1 | grep -v 'Nothing to be done')\"" _ \
    make --no-print-directory -f "$MK" BIN="$top_builddir/bin" REAL="$TMPD/real.csv" LABEL=diabetic OUT="$O"
ev -q ROWS=5000
check "changing ROWS makes the results out of date" test $? -ne 0
ev >/dev/null 2>&1   # the parameters are back: re-run for the new stamp
ev -q
check "after that re-run, up to date again" test $? -eq 0
sleep 1; touch "$TMPD/real.csv"
ev -q
check "touching REAL makes the results out of date" test $? -ne 0

mkdir "$TMPD/nobin"
make --no-print-directory -f "$MK" BIN="$TMPD/nobin" REAL="$TMPD/real.csv" OUT="$TMPD/o2" >"$TMPD/log2" 2>&1
rc=$?
check "a missing program stops the run and is named" sh -c "test $rc -ne 0 && grep -q 'nogan-synth not found' '$TMPD/log2'"

ev video >"$TMPD/log3" 2>&1
rc=$?
nframes=$(ls "$O/frames" 2>/dev/null | grep -c '^frame-.*\.svg$')
check "video: 100 frames of the search written ($nframes)" test "$nframes" -eq 100
if command -v rsvg-convert >/dev/null 2>&1 && command -v ffmpeg >/dev/null 2>&1; then
    check "video: search.mp4 made" test "$rc" -eq 0 -a -s "$O/search.mp4"
else
    check "video: without rsvg-convert/ffmpeg it says what to install and fails" \
        sh -c "test $rc -ne 0 && grep -q 'to make the video install:' '$TMPD/log3'"
fi
