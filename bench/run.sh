#!/bin/sh
# bench/run.sh — the one command of the benchmark: generates the
# workloads (bench/gen_workloads.py, fixed seeds) into a temporary directory,
# runs pann (whole process, CSV reading included, timed by /usr/bin/time -v)
# and every installed peer library (bench/peers.py, one process each) on the
# same data in the same run, and prints one table (bench/table.py) with the
# targets met or not, the exact kernel's throughput (bench-exact), W4 and W5
# through their own scripts (bench/ecdf-ks.sh, bench/nogan-filter.sh) and
# the article's accelerators and 5 % claim (bench/accelerators.sh).
# Usage: bench/run.sh [--quick] [--skip-big] [--no-w6-exact] [--no-accel]
#                     [--data=DIR] [BUILD_DIR]
#   --quick        small sizes, a smoke run (a minute or two)
#   --skip-big     leave out W5 and W6 (millions of rows)
#   --no-w6-exact  W6 without pann's exact search (the reference is then
#                  cKDTree on 2,000 sampled queries, always used for W6)
#   --no-accel     leave out bench/accelerators.sh
#   --data=DIR     keep the generated workloads and outputs there (reused)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
quick=0 big=1 w6exact=1 accel=1 data="" build=""
for a in "$@"; do
    case $a in
        --quick) quick=1 ;;
        --skip-big) big=0 ;;
        --no-w6-exact) w6exact=0 ;;
        --no-accel) accel=0 ;;
        --data=*) data=${a#--data=} ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "bench/run.sh: unknown option $a" >&2; exit 1 ;;
        *) build=$a ;;
    esac
done
build=$(cd "${build:-$here}" && pwd)
py=/usr/bin/python3
[ -x /usr/bin/time ] || { echo "bench/run.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
[ -x "$build/bin/pann-match" ] || { echo "bench/run.sh: no $build/bin/pann-match; build first" >&2; exit 2; }
[ -x "$build/bench/bench-exact" ] && [ -x "$build/bench/bench-peak" ] ||
    (cd "$build" && make -s bench-programs >/dev/null)
PATH="$build/bin:$PATH"; export PATH
if [ -n "$data" ]; then mkdir -p "$data"; tmp=$(cd "$data" && pwd)
else tmp=$(mktemp -d /tmp/pann-bench.XXXXXX); trap 'rm -rf "$tmp"' EXIT; fi
rm -f "$tmp"/w?-ref.npz   # exact references are made afresh in each run
rows="$tmp/rows.tsv"; : >"$rows"; meta="$tmp/meta.tsv"; : >"$meta"
peer_timeout=900; [ $quick = 1 ] && peer_timeout=180

# ---- workloads: full size, or the first rows of each (rows are shuffled)
gen() { # gen W FILES...: generate unless already there
    w=$1; shift
    for f in "$@"; do [ -s "$tmp/$f.csv" ] || { $py "$here/bench/gen_workloads.py" "$tmp" "$w"; break; }; done
}
cut_rows() { # cut_rows FILE ROWS: keep the header and ROWS data rows
    head -n $(($2 + 1)) "$tmp/$1.csv" >"$tmp/$1.tmp" && mv "$tmp/$1.tmp" "$tmp/$1.csv"
}
for w in W1 W2 W3; do
    if [ $quick = 1 ] && [ -s "$tmp/quick" ]; then continue; fi
    case $w in W1) gen W1 w1-S w1-T ;; W2) gen W2 w2-S w2-T ;; W3) gen W3 w3 ;; esac
done
if [ $big = 1 ]; then gen W6 w6; fi
if [ $quick = 1 ] && [ ! -s "$tmp/quick" ]; then
    cut_rows w1-S 20000; cut_rows w1-T 20000; cut_rows w2-S 2000; cut_rows w2-T 20000
    cut_rows w3 10000
    if [ $big = 1 ]; then cut_rows w6 200000; fi
    echo quick >"$tmp/quick"
fi
n_of() { echo $(($(wc -l <"$tmp/$1.csv") - 1)); }

echo "== pann benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')$([ $quick = 1 ] && echo ', QUICK sizes')"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(grep -m1 -o -w -e avx512f /proc/cpuinfo || grep -m1 -o -w avx2 /proc/cpuinfo || echo 'no AVX'), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
# the memory of a pann process with (almost) no data: libraries, threads
/usr/bin/time -v -o "$tmp/base.time" pann-match -q "$here/datasets/gauss2d-S.csv" "$here/datasets/gauss2d-T.csv" >/dev/null
printf 'base\t%s\n' "$(awk -F': ' '/Maximum resident/ { printf "%.1f", $2 / 1024 }' "$tmp/base.time")" >>"$meta"
shape() { # shape W QUERY_FILE REFERENCE_FILE|- K: rows and columns for the memory check
    nq=$(n_of "$2"); nr=$([ "$3" = - ] && echo 0 || n_of "$3")
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$nq" "$nr" "$(head -n 1 "$tmp/$2.csv" | awk -F, '{ print NF }')" "$4" >>"$meta"
}

# ---- pann runs: run_pann W LABEL OUT ARGS... (whole process, /usr/bin/time -v)
run_pann() {
    w=$1 label=$2 out=$3; shift 3
    if /usr/bin/time -v -o "$tmp/$out.time" "$@" >"$tmp/$out.csv" 2>"$tmp/$out.err"; then
        $py "$here/bench/peers.py" pann "$w" "$tmp" "$label" "$tmp/$out.csv" "$tmp/$out.time" "$rows"
    else
        printf '%s\tpann %s\t\t\t\t\t\t\t\t\t\tfailed: %s\n' "$w" "$label" "$(tail -n 1 "$tmp/$out.err")" >>"$rows"
    fi
}

echo "== exact kernel throughput (bench-exact on W1: brute force, all cores)"
for k in default avx2; do
    if [ $k = default ]; then "$build/bench/bench-exact" "$tmp/w1-S.csv" "$tmp/w1-T.csv" >"$tmp/kernel-$k.txt"
    else PANN_KERNEL=$k "$build/bench/bench-exact" "$tmp/w1-S.csv" "$tmp/w1-T.csv" >"$tmp/kernel-$k.txt"; fi
    sed "s/^/[$k] /" "$tmp/kernel-$k.txt"
done
awk '/G element-distances per CPU-second/ { for (i = 1; i <= NF; i++) if ($i == "G") g = $(i - 1) }
     END { printf "kernel at %.1f G element-distances per core-second = %.0f%% of a theoretical AVX-512 bound of 75 (4 pipes x 16 lanes / 3 ops at 3.5 GHz; not measured here)\n", g, 100 * g / 75 }' "$tmp/kernel-default.txt"
"$build/bench/bench-peak" 2 >"$tmp/peak.txt"
cat "$tmp/peak.txt"
awk '/G element-distances per CPU-second/ { for (i = 1; i <= NF; i++) if ($i == "G") g = $(i - 1) }
     FNR == NR { next }
     /measured peak/ { for (i = 1; i <= NF; i++) if ($i == "G") p = $(i - 1) }
     END { if (p > 0) printf "kernel at %.0f%% of this machine'"'"'s measured peak for the same operations (target: at least 60%%)\n", 100 * g / p }' \
    "$tmp/kernel-default.txt" "$tmp/peak.txt"

echo "== W1: $(n_of w1-S) x $(n_of w1-T), d = 10, L1, 1-NN"
$py "$here/bench/peers.py" prepare W1 "$tmp"; shape W1 w1-S w1-T 1
run_pann W1 "--exact" w1-exact pann-match -q --exact "$tmp/w1-S.csv" "$tmp/w1-T.csv"
for l in 1 16 32 48 64 80 96; do
    run_pann W1 "tree --leaves=$l" w1-tree$l pann-match -q --estimate=0 --strategy=tree --leaves=$l "$tmp/w1-S.csv" "$tmp/w1-T.csv"
done
run_pann W1 "uniform (50/row)" w1-uniform pann-match -q --estimate=0 "$tmp/w1-S.csv" "$tmp/w1-T.csv"
$py "$here/bench/peers.py" peers W1 "$tmp" "$rows" --timeout=$peer_timeout

echo "== W2: $(n_of w2-S) x $(n_of w2-T), d = 128, cosine, 1-NN"
$py "$here/bench/peers.py" prepare W2 "$tmp"; shape W2 w2-S w2-T 1
run_pann W2 "--exact" w2-exact pann-match -q --exact --metric=cosine "$tmp/w2-S.csv" "$tmp/w2-T.csv"
run_pann W2 "uniform (50/row)" w2-uniform pann-match -q --estimate=0 --metric=cosine "$tmp/w2-S.csv" "$tmp/w2-T.csv"
$py "$here/bench/peers.py" peers W2 "$tmp" "$rows" --timeout=$peer_timeout

echo "== W3: K = 10 graph of $(n_of w3) x 10, L1, self excluded"
$py "$here/bench/peers.py" prepare W3 "$tmp"; shape W3 w3 - 10
run_pann W3 "knn --exact" w3-exact pann-knn -q -k 10 --exact "$tmp/w3.csv"
run_pann W3 "knn (50K/row)" w3-any pann-knn -q -k 10 "$tmp/w3.csv"
for l in 8 16 32 64; do
    run_pann W3 "knn tree --leaves=$l" w3-tree$l pann-knn -q -k 10 --strategy=tree --leaves=$l "$tmp/w3.csv"
done
$py "$here/bench/peers.py" peers W3 "$tmp" "$rows" --timeout=$peer_timeout

if [ $big = 1 ]; then
    echo "== W6: $(n_of w6) rows x 10, L1, 1-NN, self excluded"
    $py "$here/bench/peers.py" prepare W6 "$tmp"; shape W6 w6 - 1
    $py "$here/bench/peers.py" reference W6 "$tmp" 2000
    for l in 1 16 24 28 32 34 40 48; do
        run_pann W6 "tree --leaves=$l" w6-tree$l pann-match -q --estimate=0 --strategy=tree --leaves=$l "$tmp/w6.csv"
    done
    if [ $w6exact = 1 ]; then run_pann W6 "--exact" w6-exact pann-match -q --exact "$tmp/w6.csv"; fi
    $py "$here/bench/peers.py" peers W6 "$tmp" "$rows" --timeout=$((peer_timeout < 300 ? peer_timeout : 300))
fi

echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
$py "$here/bench/table.py" "$rows" "$meta"

echo
echo "== W4 (bench/ecdf-ks.sh)"
if [ $quick = 1 ]; then sh "$here/bench/ecdf-ks.sh" "$build" 10000 500; else sh "$here/bench/ecdf-ks.sh" "$build"; fi \
    || echo "W4: bench/ecdf-ks.sh failed"
if [ $big = 1 ]; then
    echo "== W5 (bench/nogan-filter.sh)"
    if [ $quick = 1 ]; then sh "$here/bench/nogan-filter.sh" 100000 10000; else sh "$here/bench/nogan-filter.sh"; fi \
        || echo "W5: bench/nogan-filter.sh failed"
fi
if [ $accel = 1 ]; then
    echo "== the article's accelerators and its 5 % claim (bench/accelerators.sh)"
    sh "$here/bench/accelerators.sh" $([ $quick = 1 ] && echo --quick) "$build" "$tmp"
fi
echo "load average at the very end: $(cut -d' ' -f1-3 /proc/loadavg)"
