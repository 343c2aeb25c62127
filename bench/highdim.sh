#!/bin/sh
# bench/highdim.sh — the high-dimension benchmark: time-to-recall of
# pann-match --strategy=ivf against pann-match --exact, hnswlib, FAISS HNSW,
# FAISS IVF-Flat and an exact numpy matrix product (OpenBLAS), on W7 (T
# 1,000,000 x 256, S 10,000, cosine) and W8 (S = T = 200,000 x 256, self
# excluded), embedding-like unit rows from bench/gen_workloads.py written
# as .npy; and pann alone on W2 (T 100,000 x 128, S 10,000, cosine, CSV).
#
# Usage: bench/highdim.sh [W7_ROWS [W8_ROWS]]   (defaults 1000000 200000;
# smaller values draw a smaller reference of the same law).  Environment:
# DIR (data and outputs, default /tmp/pann-highdim), J (threads, 2),
# SKIP (space-separated: w7 w8 w2 hnswlib faiss-hnsw faiss-ivf numpy
# exact; with exact, pann's exact answer of an earlier run in DIR is the
# reference again, e.g. to repeat the IVF curve at a quieter time);
# W7_PROBES, W8_PROBES, W7_EF, W8_EF (hnswlib), W7_EFS, W8_EFS (FAISS
# HNSW), W7_IVF, W8_IVF (FAISS IVF-Flat nlist:nprobe, "C" standing for
# 4 sqrt(T)): fewer settings for a full-size run, where each peer's
# build takes minutes.
# Every time is a whole process (/usr/bin/time), recall@1 is against
# pann-match --exact's answer; one TSV line per run:
#   workload  method  setting  seconds  recall  peak_rss_mb
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
W7ROWS=${1:-1000000}
W8ROWS=${2:-200000}
DIR=${DIR:-/tmp/pann-highdim}
J=${J:-2}
SKIP=${SKIP:-}
PY=/usr/bin/python3
PM="$TOP/bin/pann-match"
export OMP_NUM_THREADS="$J"
mkdir -p "$DIR"

skipped() { case " $SKIP " in *" $1 "*) return 0 ;; esac; return 1; }
# timed OUT CMD...: run CMD with stdout to OUT; prints "seconds rss_mb"
timed() {
    out=$1; shift
    /usr/bin/time -f "%e %M" -o "$DIR/time" "$@" >"$out"
    awk '{ printf "%s\t%.0f", $1, $2 / 1024 }' "$DIR/time"
}
line() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4"; }

# pann W QUERY REFERENCE|"" PROBES...: --exact, then the IVF budgets
pann() {
    w=$1 q=$2 r=$3; shift 3
    if ! skipped exact; then
        t=$(timed "$DIR/$w-exact.csv" "$PM" -q -j"$J" --exact --metric=cosine "$q" ${r:+"$r"})
        line "$w" pann-exact - "$(echo "$t" | cut -f1)	1.0000	$(echo "$t" | cut -f2)"
    fi
    for p in "$@"; do
        t=$(timed "$DIR/$w-ivf.csv" "$PM" -q -j"$J" --strategy=ivf --probes="$p" \
            --estimate=0 --metric=cosine "$q" ${r:+"$r"})
        rec=$("$PY" "$HERE/highdim.py" recall "$DIR/$w-exact.csv" "$DIR/$w-ivf.csv")
        line "$w" pann-ivf "probes=$p" "$(echo "$t" | cut -f1)	$rec	$(echo "$t" | cut -f2)"
    done
}

# peer W NAME QUERY REFERENCE|self SETTINGS...: one process, every setting
peer() {
    w=$1 name=$2 q=$3 r=$4; shift 4
    skipped "$name" && return 0
    run=""
    [ "$name" = numpy ] && run="env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE"
    $run /usr/bin/time -f "%M" -o "$DIR/time" "$PY" "$HERE/highdim.py" peer "$name" "$q" "$r" \
        "$DIR/$w-exact.csv.truth" "$@" >"$DIR/peer.out" 2>"$DIR/peer.err" || {
        line "$w" "$name" failed "$(tail -1 "$DIR/peer.err")"; return 0; }
    rss=$(awk '{ printf "%.0f", $1 / 1024 }' "$DIR/time")
    awk -F'\t' -v w="$w" -v rss="$rss" '{ printf "%s\t%s\t%s\t%s\t%s\t%s\n", w, $1, $2, $5, $6, rss }' \
        "$DIR/peer.out"
}

printf 'workload\tmethod\tsetting\tseconds\trecall\tpeak_rss_mb\n'
if ! skipped w7; then
    D7="$DIR/w7-$W7ROWS"
    mkdir -p "$D7"
    [ -f "$D7/w7-T.npy" ] || "$PY" "$HERE/gen_workloads.py" "$D7" "W7@$W7ROWS"
    pann W7 "$D7/w7-S.npy" "$D7/w7-T.npy" ${W7_PROBES:-1 2 3 4 6 8 12 16 24}
    cp "$DIR/W7-exact.csv" "$DIR/W7-exact.csv.truth"
    cells=$("$PY" -c "import math; print(int(4 * math.sqrt($W7ROWS)))")
    peer W7 hnswlib "$D7/w7-S.npy" "$D7/w7-T.npy" ${W7_EF:-10 20 40 80 160}
    peer W7 faiss-hnsw "$D7/w7-S.npy" "$D7/w7-T.npy" ${W7_EFS:-16 32 64 128 256}
    peer W7 faiss-ivf "$D7/w7-S.npy" "$D7/w7-T.npy" $(echo \
        "${W7_IVF:-200:2 200:4 200:8 200:16 C:4 C:8 C:16 C:32 C:64}" | sed "s/C:/$cells:/g")
    peer W7 numpy "$D7/w7-S.npy" "$D7/w7-T.npy"
fi
if ! skipped w8; then
    D8="$DIR/w8-$W8ROWS"
    mkdir -p "$D8"
    [ -f "$D8/w8.npy" ] || "$PY" "$HERE/gen_workloads.py" "$D8" "W8@$W8ROWS"
    pann W8 "$D8/w8.npy" "" ${W8_PROBES:-1 2 3 4 6 8 12 16 24 32}
    cp "$DIR/W8-exact.csv" "$DIR/W8-exact.csv.truth"
    cells=$("$PY" -c "import math; print(int(4 * math.sqrt($W8ROWS)))")
    peer W8 hnswlib "$D8/w8.npy" self ${W8_EF:-10 20 40 80 160}
    peer W8 faiss-hnsw "$D8/w8.npy" self ${W8_EFS:-16 32 64 128 256}
    peer W8 faiss-ivf "$D8/w8.npy" self $(echo \
        "${W8_IVF:-C:2 C:4 C:8 C:16 C:32}" | sed "s/C:/$cells:/g")
    peer W8 numpy "$D8/w8.npy" self
fi
if ! skipped w2; then
    D2="$DIR/w2"
    mkdir -p "$D2"
    [ -f "$D2/w2-T.csv" ] || "$PY" "$HERE/gen_workloads.py" "$D2" W2
    pann W2 "$D2/w2-S.csv" "$D2/w2-T.csv" 1 2 4 8 16 32 64 99
fi
