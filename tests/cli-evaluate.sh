#!/bin/sh
# cli-evaluate.sh — the evaluation workflow examples/evaluate.mk end to end
# on the bundled health table: the TRAIN/HOLDOUT split deterministic and
# disjoint (or HOLDOUT=FILE), report.md with its table rows agreeing with
# the step files and one good/warning sentence per section, the SVG
# figures, the filter's decisions agreeing with an exact pann-match,
# nothing re-run when nothing changed, a changed input or variable re-runs,
# no built-in make rule (a stale program is named, never compiled), a
# missing program is named, the video target.
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
check "report: the filter kept so many of the synthetic rows" \
    grep -qF "which kept $(rows "$O/kept.csv") of $(rows "$O/synth.csv") rows." "$R"
check "report: 10000 synthetic rows by default" test "$(rows "$O/synth.csv")" -eq 10000
ks_s=$(awk -F, 'NR == 2 { printf "%.4g", $1 }' "$O/ks-synth.csv")
ks_k=$(awk -F, 'NR == 2 { printf "%.4g", $1 }' "$O/ks-kept.csv")
ks_t=$(awk -F, 'NR == 2 { printf "%.4g", $1 }' "$O/ks-train.csv")
check "report: the multivariate KS line ($ks_s before, $ks_k after, floor $ks_t)" \
    grep -qF "| multivariate ECDF KS distance to HOLDOUT (0 = same distribution) | $ks_s | $ks_k | $ks_t |" "$R"
check "report: the DCR sentence from the filter's reports" \
    grep -q "^Its median distance to the closest training record (DCR) is [0-9.]* before and [0-9.]* after" "$R"
check "report: accuracy on HOLDOUT: TSTR synthetic, TSTR filtered, TRTR ($(acc "$O/knn-train.csv"))" \
    grep -qF "| accuracy | $(acc "$O/knn-synth.csv") | $(acc "$O/knn-kept.csv") | $(acc "$O/knn-train.csv") |" "$R"
check "the classifiers are tested on the HOLDOUT rows" \
    test "$(rows "$O/knn-kept.csv")" -eq "$(rows "$O/holdout.csv")"
g4() { awk -v v="$1" 'BEGIN { printf "%.4g", v }'; }
pk() { kv "$O/privacy-kept.csv" "$1"; }
dcr_s=$(g4 "$(kv "$O/privacy-synth.csv" dcr_share)")
dcr_k=$(g4 "$(pk dcr_share)")
dcr_i=$(awk -F, '$1 == "dcr_share" { printf "%.4g", $3 }' "$O/privacy-kept.csv")
check "report: dcr_share line from pann-privacy ($dcr_s, $dcr_k), with its ideal ($dcr_i)" \
    grep -qF "(dcr_share) | $dcr_s | $dcr_k | $dcr_i (ideal) |" "$R"
check "report: mia_auc and exact_match_share lines beside their baselines" sh -c "
    grep -qF '(mia_auc) | $(g4 "$(kv "$O/privacy-synth.csv" mia_auc)") | $(g4 "$(pk mia_auc)") | 0.5 (ideal) |' '$R' &&
    grep -qF '(exact_match_share) | $(g4 "$(kv "$O/privacy-synth.csv" exact_match_share)") | $(g4 "$(pk exact_match_share)") | $(g4 "$(pk holdout_exact_match_share)") |' '$R'"
check "pann-privacy scored the kept rows against TRAIN and HOLDOUT (its ideal: 700/1000)" \
    test "$(awk -F, '$1 == "dcr_share" { print $3 }' "$O/privacy-kept.csv")" = "0.7"
for sec in Fidelity Utility Privacy; do
    check "report: the $sec section has one sentence saying good or warning" \
        test "$(sed -n "/^## $sec/,/^## /p" "$R" | grep -cE '^(Good|Warning): ')" -eq 1
done

# ---- the split ------------------------------------------------------------
check "split: TRAIN and HOLDOUT keep REAL's header" \
    test "$(head -1 "$O/train.csv")" = "$(head -1 "$TMPD/real.csv")" -a "$(head -1 "$O/holdout.csv")" = "$(head -1 "$TMPD/real.csv")"
tail -n +2 "$TMPD/real.csv" | sort >"$TMPD/real.sorted"
{ tail -n +2 "$O/train.csv"; tail -n +2 "$O/holdout.csv"; } | sort >"$TMPD/split.sorted"
check "split: TRAIN and HOLDOUT together are REAL's rows, each once" cmp -s "$TMPD/real.sorted" "$TMPD/split.sorted"
nh=$(rows "$O/holdout.csv")
check "split: HOLDOUT holds about 30 % of the rows ($nh of 1000)" test "$nh" -ge 250 -a "$nh" -le 350
awk 'NR > 1 { h = ((NR - 1 + 7919) * 2654435761) % 4294967296; if (h < 0.3 * 4294967296) print }' \
    "$TMPD/real.csv" >"$TMPD/hold.expected"
check "split: HOLDOUT is the documented hash rule's rows, in file order" \
    sh -c "tail -n +2 '$O/holdout.csv' | cmp -s - '$TMPD/hold.expected'"
make --no-print-directory -f "$MK" BIN="$top_builddir/bin" REAL="$TMPD/real.csv" OUT="$TMPD/o3" \
    SEED=2 "$TMPD/o3/holdout.csv" >/dev/null 2>&1
check "split: another SEED holds out other rows" sh -c "! cmp -s '$O/holdout.csv' '$TMPD/o3/holdout.csv'"
head -n 201 "$TMPD/real.csv" >"$TMPD/given.csv"
make --no-print-directory -f "$MK" BIN="$top_builddir/bin" REAL="$TMPD/real.csv" OUT="$TMPD/o4" \
    HOLDOUT="$TMPD/given.csv" "$TMPD/o4/train.csv" "$TMPD/o4/holdout.csv" >/dev/null 2>&1
check "HOLDOUT=FILE: REAL is TRAIN whole and FILE is HOLDOUT" sh -c "
    cmp -s '$TMPD/real.csv' '$TMPD/o4/train.csv' && cmp -s '$TMPD/given.csv' '$TMPD/o4/holdout.csv'"
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
check "a missing program stops the run and is named" sh -c "test $rc -ne 0 && grep -q 'nogan-synth not found: rebuild pann (make)' '$TMPD/log2'"

# A tree whose program is older than its source: no built-in rule compiles
# it; the run stops and says to rebuild.
mkdir -p "$TMPD/tree/examples" "$TMPD/tree/bin"
cp "$MK" "$TMPD/tree/examples/evaluate.mk"
for p in nogan-synth nogan-filter ecdf-ks pann-match pann-knn pann-plot pann-privacy; do
    printf '#!/bin/sh\nexec "%s" "$@"\n' "$top_builddir/bin/$p" >"$TMPD/tree/bin/$p"
    chmod +x "$TMPD/tree/bin/$p"
done
sleep 1; echo 'int main(void) { return 0; }' >"$TMPD/tree/bin/nogan-synth.c"
(cd "$TMPD" && make --no-print-directory -f tree/examples/evaluate.mk REAL="$TMPD/real.csv" \
    OUT="$TMPD/o5") >"$TMPD/log5" 2>&1
rc=$?
check "a program older than its source stops the run: 'rebuild pann (make)', nothing compiled" \
    sh -c "test $rc -ne 0 && grep -q 'nogan-synth is older than .*nogan-synth.c: rebuild pann (make)' '$TMPD/log5' &&
           ! grep -qE '(^| )(cc|gcc) |<builtin>' '$TMPD/log5'"
sleep 1; touch "$TMPD/tree/bin/nogan-synth"
(cd "$TMPD" && make --no-print-directory -f tree/examples/evaluate.mk REAL="$TMPD/real.csv" \
    OUT="$TMPD/o5" "$TMPD/o5/synth.csv") >"$TMPD/log6" 2>&1
check "once the program is newer, the step runs" test $? -eq 0 -a -s "$TMPD/o5/synth.csv"

ev video >"$TMPD/log3" 2>&1
rc=$?
nframes=$(ls "$O/frames" 2>/dev/null | grep -c '^frame-.*\.svg$')
# One frame every 100 of the 10,000 proposals, from the end of the first
# pass (one proposal per row of S) on: (10000 - rows) / 100 + 1.
srows=$(($(wc -l <"$top_srcdir/datasets/gauss2d-S.csv") - 1))
want=$(((10000 - srows) / 100 + 1))
check "video: $want frames of the search written ($nframes)" test "$nframes" -eq "$want"
if command -v rsvg-convert >/dev/null 2>&1 && command -v ffmpeg >/dev/null 2>&1; then
    check "video: search.mp4 made" test "$rc" -eq 0 -a -s "$O/search.mp4"
else
    check "video: without rsvg-convert/ffmpeg it says what to install and fails" \
        sh -c "test $rc -ne 0 && grep -q 'to make the video install:' '$TMPD/log3'"
fi

# The density-ratio selection (nogan-filter's own default) through the workflow.
ev OUT="$TMPD/o-ratio" FILTER_OPTS=--drop-copies >"$TMPD/log7" 2>&1
rc=$?
check "FILTER_OPTS=--drop-copies (the ratio selection): the workflow runs to the end" \
    test "$rc" -eq 0 -a -s "$TMPD/o-ratio/report.md" -a -s "$TMPD/o-ratio/distances.svg"
check "ratio selection: the Filter section counts the excess rows dropped, no empty threshold" \
    sh -c "grep -qF 'The filter dropped $(kv "$TMPD/o-ratio/filter-synth.csv" dropped_excess) rows where synthetic rows outnumber' '$TMPD/o-ratio/report.md' &&
           ! grep -q 'n/a' '$TMPD/o-ratio/report.md'"
