#!/bin/sh
# bench/mpi.sh — pann-match split over MPI ranks against one process with
# threads, on the same cores: P ranks x 1 thread (mpirun -np P ... -j 1)
# against 1 process x P threads (-j P), W1 and W6 (two files), --exact and
# --strategy=tree.  Every time is the whole job's wall time (mpirun
# included: start, every rank's reading, the search, the gathering and
# rank 0's writing), the best of RUNS (W1) or RUNS6 (W6) runs, and the two
# outputs are compared byte for byte.  It prints each rank's peak RSS and
# bytes sent (PANN_MPI_TRACE=1), the peak RSS of each of 4 ranks against
# one process's on W6, and from the measured
# figures a model of 200 million rows on 64 machines of 32 cores.
# Usage: bench/mpi.sh [--data=DIR] [BUILD_DIR]
#   BUILD_DIR  a build configured --with-mpi (default: the source tree)
#   --data=DIR keep the generated workloads there (reused)
# Environment: RUNS (default 3), RUNS6 (default 1), P (default 2), BENCH_LOCK (default
# /tmp/bench.lock: the script holds it, through flock, from before the
# workloads are made to its end, so that the timed runs of other benchmarks
# taking the same lock never overlap these).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
data="" build=""
for a in "$@"; do
    case $a in
        --data=*) data=${a#--data=} ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "bench/mpi.sh: unknown option $a" >&2; exit 1 ;;
        *) build=$a ;;
    esac
done
build=$(cd "${build:-$here}" && pwd)
RUNS=${RUNS:-3} RUNS6=${RUNS6:-1} P=${P:-2}
LOCK=${BENCH_LOCK:-/tmp/bench.lock}
py=/usr/bin/python3
die() { echo "bench/mpi.sh: $*" >&2; exit 2; }
[ -x /usr/bin/time ] || die "needs /usr/bin/time (apt-get install time)"
command -v flock >/dev/null || die "needs flock (util-linux)"
grep -q '^#define HAVE_MPI 1' "$build/config.h" 2>/dev/null ||
    die "$build is not configured --with-mpi"
MPIRUN=$(command -v mpirun || command -v mpiexec) || die "no mpirun or mpiexec on PATH"
MPIFLAGS="-q --oversubscribe"
[ "$(id -u)" -eq 0 ] && MPIFLAGS="$MPIFLAGS --allow-run-as-root"
export OMPI_MCA_btl_base_warn_component_unused=0
PATH="$build/bin:$PATH"; export PATH
exec 9>>"$LOCK"
flock -n 9 || { echo "bench/mpi.sh: waiting for $LOCK" >&2; flock 9; }
if [ -n "$data" ]; then mkdir -p "$data"; tmp=$(cd "$data" && pwd)
else tmp=$(mktemp -d /tmp/pann-mpi.XXXXXX); trap 'rm -rf "$tmp"' EXIT; fi

# ---- workloads: W1 and W6 (bench/gen_workloads.py), and W6's queries as a
# second file: W6 is a self-match (one file), which runs on rank 0 alone, so
# the split run takes T = w6.csv and S = 2,000,000 new rows of the same law
# (same centres and scales, other draws), standardized by T's mean and sd.
[ -s "$tmp/w1-S.csv" ] && [ -s "$tmp/w1-T.csv" ] || $py "$here/bench/gen_workloads.py" "$tmp" W1
[ -s "$tmp/w6.csv" ] || $py "$here/bench/gen_workloads.py" "$tmp" W6
[ -s "$tmp/w6-S.csv" ] || $py - "$here/bench" "$tmp" <<'EOF'
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from gen_workloads import mixture, write
x = mixture(np.random.default_rng(16), 2_000_000, 10)   # w6.csv before scaling
law = np.random.default_rng(16)
centres = law.normal(0.0, 3.0, size=(10, 10))
scales = law.uniform(0.5, 1.5, size=(10, 1))
rng = np.random.default_rng(26)
comp = rng.integers(0, 10, size=2_000_000)
s = centres[comp] + rng.normal(size=(2_000_000, 10)) * scales[comp]
write(f"{sys.argv[2]}/w6-S.csv", (s - x.mean(0)) / x.std(0))
EOF
head -n 9 "$tmp/w6-S.csv" >"$tmp/w6-S8.csv"   # 8 queries: the reference's cost alone
head -n 9 "$tmp/w6.csv" >"$tmp/w6-T8.csv"     # 8 references: the queries' cost alone
n_of() { echo $(($(wc -l <"$1") - 1)); }

# ---- timed runs.  alone NAME J ARGS...: one process, -j J; ranks NAME P
# ARGS...: mpirun -np P, -j 1.  Each keeps the best wall time in
# $tmp/NAME.best, the output in $tmp/NAME.out, every rank's peak RSS (kB)
# in $tmp/NAME.rss.RANK and rank 0's stderr in $tmp/NAME.err.
best() { # best NAME SECONDS
    if [ ! -s "$tmp/$1.best" ] || awk -v t="$2" '{ exit !(t < $1) }' "$tmp/$1.best"; then
        echo "$2" >"$tmp/$1.best"
    fi
}
alone() {
    name=$1 j=$2; shift 2
    rm -f "$tmp/$name.best"
    for i in $(seq "$runs"); do
        /usr/bin/time -f '%e %M' -o "$tmp/$name.time" \
            pann-match -q -j "$j" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" ||
            die "$name failed: $(tail -n 1 "$tmp/$name.err")"
        best "$name" "$(cut -d' ' -f1 "$tmp/$name.time")"
        cut -d' ' -f2 "$tmp/$name.time" >"$tmp/$name.rss.0"
    done
}
ranks() {
    name=$1 p=$2; shift 2
    rm -f "$tmp/$name.best"
    for i in $(seq "$runs"); do
        PANN_MPI_TRACE=1 /usr/bin/time -f '%e' -o "$tmp/$name.time" \
            "$MPIRUN" $MPIFLAGS -np "$p" \
            sh -c 'exec /usr/bin/time -f %M -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' "$tmp/$name.rss" \
            pann-match -q -j 1 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" ||
            die "$name failed: $(tail -n 1 "$tmp/$name.err")"
        best "$name" "$(cat "$tmp/$name.time")"
    done
}
rss_mb() { awk '{ printf "%.0f", $1 / 1024 }' "$1"; }
sent() { # sent NAME: "r0 r1 ..." bytes sent per rank, from PANN_MPI_TRACE
    awk '/bytes sent$/ { printf "%s%s", sep, $(NF - 2); sep = " " }' "$tmp/$1.err"
}
# compare LABEL A B: the two runs' wall times, their ratio, outputs compared
compare() {
    label=$1 a=$2 b=$3
    same=$(cmp -s "$tmp/$a.out" "$tmp/$b.out" && echo "byte-identical" || echo "OUTPUTS DIFFER")
    ra="" rb=""
    for r in $(seq 0 $((P - 1))); do
        [ -s "$tmp/$b.rss.$r" ] && rb="$rb${rb:+/}$(rss_mb "$tmp/$b.rss.$r")"
    done
    awk -v l="$label" -v ta="$(cat "$tmp/$a.best")" -v tb="$(cat "$tmp/$b.best")" \
        -v p="$P" -v s="$same" -v ra="$(rss_mb "$tmp/$a.rss.0")" -v rb="$rb" -v sent="$(sent "$b")" \
        'BEGIN { printf "%-28s 1 x %d threads %8.2f s (%s MB) | %d ranks x 1 %8.2f s (%s MB)  ratio %.3f  %s\n",
                 l, p, ta, ra, p, tb, rb, tb / ta, s
                 printf "%-28s bytes sent per rank (rank 0 gathers): %s\n", "", sent }'
    echo "$label	$(cat "$tmp/$a.best")	$(cat "$tmp/$b.best")" >>"$tmp/ratios.tsv"
}

echo "== pann-match over MPI ranks, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo); $("$MPIRUN" --version 2>/dev/null | head -n 1)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "every time: the whole job's wall seconds (mpirun, reading, search, gathering, writing), best of $RUNS (W1) or $RUNS6 (W6); peak RSS per rank in MB"
: >"$tmp/ratios.tsv"

# mpirun's own start and end, with a program that does nothing
rm -f "$tmp/start.best"
for i in $(seq "$RUNS"); do
    /usr/bin/time -f '%e' -o "$tmp/start.time" "$MPIRUN" $MPIFLAGS -np "$P" true
    best start "$(cat "$tmp/start.time")"
done
echo "mpirun -np $P true: $(cat "$tmp/start.best") s (in every time of the ranks below)"

echo "== W1: $(n_of "$tmp/w1-S.csv") x $(n_of "$tmp/w1-T.csv"), d = 10, L1, 1-NN"
runs=$RUNS
W1="$tmp/w1-S.csv $tmp/w1-T.csv"
alone w1-exact-1 "$P" --exact $W1
ranks w1-exact-p "$P" --exact $W1
compare "W1 --exact" w1-exact-1 w1-exact-p
alone w1-tree-1 "$P" --strategy=tree --leaves=32 --estimate=0 $W1
ranks w1-tree-p "$P" --strategy=tree --leaves=32 --estimate=0 $W1
compare "W1 tree --leaves=32" w1-tree-1 w1-tree-p

echo "== W6, two files: S $(n_of "$tmp/w6-S.csv") x T $(n_of "$tmp/w6.csv"), d = 10, L1, 1-NN"
runs=$RUNS6
W6="$tmp/w6-S.csv $tmp/w6.csv"
alone w6-exact-1 "$P" --exact $W6
ranks w6-exact-p "$P" --exact $W6
compare "W6 --exact" w6-exact-1 w6-exact-p
alone w6-tree-1 "$P" --strategy=tree --leaves=32 --estimate=0 $W6
ranks w6-tree-p "$P" --strategy=tree --leaves=32 --estimate=0 $W6
compare "W6 tree --leaves=32" w6-tree-1 w6-tree-p

# The reference's share of a run: 8 queries against all of T (reading T,
# building its tree), one thread and P threads.
runs=$RUNS
alone w6-ref-1 1 --exact "$tmp/w6-S8.csv" "$tmp/w6.csv"
alone w6-ref-p "$P" --exact "$tmp/w6-S8.csv" "$tmp/w6.csv"
printf '%-28s 1 thread %.2f s, %d threads %.2f s, peak RSS %s MB\n' \
    "W6 T alone (8 queries)" "$(cat "$tmp/w6-ref-1.best")" "$P" "$(cat "$tmp/w6-ref-p.best")" \
    "$(rss_mb "$tmp/w6-ref-1.rss.0")"
alone base 1 --exact "$tmp/w6-S8.csv" "$tmp/w6-T8.csv"
# The queries' share: all of S against 8 rows of T (reading S, writing the
# answers), one thread: a floor for rank 0's writing rate.
alone w6-qry-1 1 --exact "$tmp/w6-S.csv" "$tmp/w6-T8.csv"
printf '%-28s 1 thread %.2f s for %s bytes of output\n' \
    "W6 S alone (8 references)" "$(cat "$tmp/w6-qry-1.best")" "$(wc -c <"$tmp/w6-qry-1.out")"

echo "== goal: P ranks x 1 thread within 15 % of 1 process x P threads"
awk -F'\t' '{ r = $3 / $2; printf "%-28s ratio %.3f  %s\n", $1, r, r <= 1.15 ? "MET" : "NOT MET" }' "$tmp/ratios.tsv"

# ---- memory per rank: every rank holds all of T (there is no
# --shard-reference), so a per-process limit (ulimit -v) that stops one
# process stops every rank as well.  Peak RSS of each rank with P = 4 against
# one process, on the tree search with --leaves=1 (seconds a run; it holds
# the same matrices as --exact: S or its share, T with its tree built in
# T's rows, the answers).
echo "== W6 memory per rank, tree --leaves=1 --estimate=0, -j 1"
runs=1
TREE1="--strategy=tree --leaves=1 --estimate=0 $W6"
alone w6-mem-1 1 $TREE1
ranks w6-mem-4 4 $TREE1
cmp -s "$tmp/w6-mem-1.out" "$tmp/w6-mem-4.out" || echo "W6 tree --leaves=1, 4 ranks: OUTPUTS DIFFER"
rss4=""
for r in 0 1 2 3; do rss4="$rss4${rss4:+, }$(rss_mb "$tmp/w6-mem-4.rss.$r")"; done
echo "peak RSS: 1 process $(rss_mb "$tmp/w6-mem-1.rss.0") MB; 4 ranks $rss4 MB; T alone (8 queries) $(rss_mb "$tmp/w6-ref-1.rss.0") MB, 8 rows $(rss_mb "$tmp/base.rss.0") MB"

# ---- the model: 200 million rows (S and T each W6 x 100) on 64 machines of
# 32 cores, one rank per machine with 32 threads, from the figures above.
echo "== model: S = T = 200,000,000 x 10 rows (W6 x 100), 64 machines x 32 cores"
awk -v P="$P" -v n6="$(n_of "$tmp/w6-S.csv")" -v m6="$(n_of "$tmp/w6.csv")" \
    -v t1="$(cat "$tmp/w6-exact-1.best")" -v tp="$(cat "$tmp/w6-exact-p.best")" \
    -v ref1="$(cat "$tmp/w6-ref-1.best")" -v refp="$(cat "$tmp/w6-ref-p.best")" \
    -v rss1="$(cat "$tmp/w6-ref-1.rss.0")" -v rssp="$(cat "$tmp/w6-exact-p.rss.1")" \
    -v sent="$(sent w6-exact-p | awk '{ print $NF }')" -v out="$(wc -c <"$tmp/w6-exact-p.out")" \
    -v qry="$(cat "$tmp/w6-qry-1.best")" -v base="$(cat "$tmp/base.rss.0")" '
function lg(x) { return log(x) / log(2) }
BEGIN {
    N = 2e8; M = 2e8; machines = 64; cores = 32; d = 10
    # measured on W6: the search alone, in core-seconds per query row and
    # per log2 of the reference rows (each of the P ranks searched n6 / P
    # rows on one core after reading T)
    search = P * (tp - ref1)
    c = search / (n6 * lg(m6))
    # the reference: reading and the tree, per row of T, with P threads
    r = refp / m6
    t_search = c * N * lg(M) / (machines * cores)
    t_ref = r * M * (lg(M) / lg(m6)) * P / cores
    per_row_sent = sent / (n6 / P)
    bytes_rank = per_row_sent * N / machines
    gather = bytes_rank * (machines - 1) / 1.25e9
    wrate = out / qry   # reading S and writing its answers, one thread: a floor
    write_s = out / n6 * N / wrate
    per_t = (rss1 - base) * 1024 / m6   # RSS per row of T, less that of a run on 8 rows
    mem_ref = per_t * M
    mem_q = N / machines * (d * 4 + 8 + 9)
    printf "measured on W6 (%d x %d): search %.1f core-s = %.3g core-s per query row and log2(T rows); T read and its tree %.3g s per million rows with %d threads; %.1f bytes sent per query row; T costs %.0f bytes of RSS per row\n",
        n6, m6, search, c, r * 1e6, P, per_row_sent, per_t
    printf "per rank (one per machine, -j 32):\n"
    printf "  search      %8.0f s   the query share, %d rows, n log n: c x N x log2 M / (64 x 32)\n", t_search, N / machines
    printf "  read T      %8.0f s   every rank reads and indexes all of T (replicated), scaled by M log M, %d threads\n", t_ref, cores
    printf "  gather      %8.0f s   %.0f MB sent per rank, %.1f GB into rank 0 at 10 Gbit/s\n", gather, bytes_rank / 1e6, bytes_rank * (machines - 1) / 1e9
    printf "  write       %8.0f s   rank 0 alone writes %.1f GB of output at %.0f MB/s (W6 S read and written in one thread: a floor)\n", write_s, out / n6 * N / 1e9, wrate / 1e6
    printf "  total       %8.0f s   (%.1f h)\n", t_search + t_ref + gather + write_s, (t_search + t_ref + gather + write_s) / 3600
    printf "  memory      %8.1f GB  per rank: T replicated (%.1f GB at the measured bytes per row) + the query share and its answers (%.2f GB); rank 0 also holds every answer (%.1f GB)\n",
        (mem_ref + mem_q) / 1e9, mem_ref / 1e9, mem_q / 1e9, N * 17 / 1e9
}'
cat <<'EOF'
assumptions: the exact search costs each query row c x log2(T rows), c
measured above (the k-d tree's pruning in 10 columns; a denser T makes each
row's search cheaper, so this is pessimistic if anything); 32 threads of a
machine do 32 times the work of one (the 2-core figures above show ranks
and threads alike, not 32 of them); every machine has its own copy of the
files, read at the rate measured here; the tree of T is built by every
rank (M log M); the answers go to rank 0 at 10 Gbit/s and are written
there at the rate measured here; there is no --shard-reference (every
rank holds all of T); a self-match (one file) is not split, so the model
is for S and T as two files.
EOF
