#!/bin/sh
# bench/fidelity.sh — does nogan-filter make synthetic data more like the
# real distribution?  Cases with a train/holdout split built from the
# shared tables (bench/fidelity_cases.py): vendors' and the author's
# synthetic sets, and our own (nogan-synth at 4 and 16 bins, a Gaussian
# copula, independent marginals, noisy copies; 1x and 5x the train size).
# Each case is filtered with TRAIN as REAL and scored by ecdf-ks against
# HOLDOUT, which the filter never sees; the floor is KS(HOLDOUT, TRAIN).
# A second run with --holdout=HOLDOUT counts the near copies it drops (the
# privacy rule; noisy copies of the train rows are near copies by design).  The in-sample cases (the
# vendors of insurance_compare.csv) are scored against the real rows the
# filter saw, as the figures that motivated the ratio selection were.
#
# usage: bench/fidelity.sh [--select=S] [BUILD_DIR]   (needs /usr/bin/python3
#        with numpy and scipy; PANN_SHARED = the shared data directory)
set -eu
select=ratio
extra=
while [ $# -gt 0 ]; do
    case $1 in
        --select=*) select=${1#--select=}; shift ;;
        --opts=*) extra=${1#--opts=}; shift ;;
        *) break ;;
    esac
done
build=${1:-.}
shared=${PANN_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared/datasets}
if [ ! -d "$shared/article-author" ]; then
    echo "fidelity.sh: no shared data sets in $shared (set PANN_SHARED): skipped"
    exit 0
fi
bin=$build/bin
work=$(mktemp -d "${TMPDIR:-/tmp}/pann-fidelity.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
/usr/bin/python3 "$(dirname "$0")/fidelity_cases.py" "$shared" "$work/cases"
for d in "$work"/cases/*-nogan[0-9]*-x*; do
    bins=$(basename "$d" | sed 's/.*-nogan\([0-9]*\)-x.*/\1/')
    mult=${d##*-x}
    n=$(($(wc -l < "$d/train.csv") - 1))
    "$bin/nogan-synth" --bins="$bins" --rows=$((n * mult)) --seed=11 "$d/train.csv" \
        > "$d/synth.csv" 2>/dev/null
done

ks() { "$bin/ecdf-ks" "$@" 2>/dev/null | awk -F, 'NR == 2 { print $1 }'; }
marg() { # mean per-column KS/TV
    "$bin/ecdf-ks" --marginals="$work/m.csv" "$@" >/dev/null 2>&1
    awk -F, '$1 == "(mean)" { print $4 }' "$work/m.csv"
}

printf '%-26s %7s %7s %7s %7s %6s %7s %7s %7s\n' case floor before after change kept \
    col_bef col_aft copies
for d in "$work"/cases/*; do
    name=$(basename "$d")
    cats=$(sed -n 2p "$d/cols")
    catopt=${cats:+--categorical=$cats}
    # shellcheck disable=SC2086
    "$bin/nogan-filter" --select="$select" $extra $catopt "$d/train.csv" "$d/synth.csv" \
        > "$work/kept.csv" 2>/dev/null
    copies=-
    if [ ! -e "$d/insample" ]; then
        # shellcheck disable=SC2086
        "$bin/nogan-filter" --select="$select" $extra $catopt --holdout="$d/holdout.csv" \
            --report="$work/r.csv" "$d/train.csv" "$d/synth.csv" > /dev/null 2>&1
        copies=$(awk -F, '$1 == "dropped_near_copy" { print $2 }' "$work/r.csv")
    fi
    rows=$(($(wc -l < "$d/synth.csv") - 1))
    kept=$(($(wc -l < "$work/kept.csv") - 1))
    floor=$(ks $catopt "$d/holdout.csv" "$d/train.csv")
    [ -e "$d/insample" ] && floor=0
    before=$(ks $catopt "$d/holdout.csv" "$d/synth.csv")
    after=$(ks $catopt "$d/holdout.csv" "$work/kept.csv")
    mb=$(marg $catopt "$d/holdout.csv" "$d/synth.csv")
    ma=$(marg $catopt "$d/holdout.csv" "$work/kept.csv")
    echo "$name $floor $before $after $kept $rows $mb $ma" >> "$work/results"
    awk -v n="$name" -v f="$floor" -v b="$before" -v a="$after" -v k="$kept" -v r="$rows" \
        -v mb="$mb" -v ma="$ma" -v c="$copies" 'BEGIN {
        printf "%-26s %7.4f %7.4f %7.4f %+7.4f %5.0f%% %7.4f %7.4f %7s\n",
               n, f, b, a, a - b, 100 * k / r, mb, ma, c }'
done
awk -v sel="$select" '
    $1 ~ /^insample-/ { iw += ($4 > $3 + 0.002); ib += ($4 < $3 - 0.002); ni++; next }
    { n++; better += ($4 < $3 - 0.002); worse += ($4 > $3 + 0.002)
      closed += $3 - $4; excess += $3 - $2; mb += $7; ma += $8 }
    END {
      printf "held-out cases (%s): %d, KS better in %d (%.0f%%, target >= 90%%), worse in %d (target 0); excess over the floor closed %.0f%% (target >= 50%%); mean per-column KS/TV %.4f -> %.4f (target: not worse)\n",
             sel, n, better, 100 * better / n, worse, 100 * closed / excess, mb / n, ma / n
      printf "in-sample insurance vendors: %d, better in %d, worse in %d (target 0)\n", ni, ib, iw
    }' "$work/results"
