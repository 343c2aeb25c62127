#!/bin/sh
# bench/nogan-synth.sh — nogan-synth against the article author's own NoGAN
# run on the telecom table: synthesize from the training split, score by
# ecdf-ks --points=all against the validation split (rows neither saw),
# over seeds 1..SEEDS, beside the author's synthetic output scored the same
# way.  Needs the shared data sets (PANN_SHARED, default ../shared).
# Usage: bench/nogan-synth.sh [BUILD-DIR]   (SEEDS=10, OPTS="--bins=20")
set -eu
BIN=${1:-.}/bin
SHARED=${PANN_SHARED:-../shared}
D=$SHARED/datasets/article-author/telecom-nogan-run
[ -d "$D" ] || { echo "bench/nogan-synth.sh: $D: not found (set PANN_SHARED)" >&2; exit 2; }
C=tenure,MonthlyCharges,TotalChargeResidues,Churn
SEEDS=${SEEDS:-10}
T=$(mktemp -d "${TMPDIR:-/tmp}/pann-synth.XXXXXX"); trap 'rm -rf "$T"' EXIT
ks() { "$BIN/ecdf-ks" -q --points=all -c $C "$D/telecom_validation_vg2.csv" "$1" | tail -1 | cut -d, -f1; }
author=$(ks "$D/telecom_synth_vg2.csv")
printf 'author NoGAN output: KS %.4f against validation\n' "$author"
for opts in "" ${OPTS:-}; do
    all=""
    for s in $(seq 1 "$SEEDS"); do
        "$BIN/nogan-synth" -q $opts --seed="$s" -c $C "$D/telecom_training_vg2.csv" >"$T/s.csv"
        all="$all $(ks "$T/s.csv")"
    done
    echo "$all" | awk -v o="${opts:-defaults}" -v a="$author" '{ s = 0; lo = 1; hi = 0; b = 0
        for (i = 1; i <= NF; i++) { s += $i; if ($i < lo) lo = $i; if ($i > hi) hi = $i; if ($i < a) b++ }
        printf "nogan-synth %s: KS seed 1 %.4f, mean %.4f over %d seeds (%.4f-%.4f), below the author in %d\n",
            o, $1, s / NF, NF, lo, hi, b }'
done
