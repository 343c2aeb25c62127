#!/bin/sh
# bench/ecdf-ks.sh — ecdf-ks --points=all on n = m = 100,000 rows, d = 8
# (200,000 nodes, 400,000 dominance counts), wall time and peak RSS, against
# a straightforward vectorised numpy computation of the same definition
# (chunks of nodes broadcast against all rows: (P <= z).all(axis=1).sum())
# measured in the same run.  numpy is too slow for all 200,000 nodes, so it
# is timed on a subsample of nodes and extrapolated linearly (its cost is
# exactly proportional to the number of nodes); its counts on the subsample
# are checked against ecdf-ks --dump.
# Usage: bench/ecdf-ks.sh [BUILD_DIR] [ROWS] [NUMPY_NODES]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here}
rows=${2:-100000}
sample=${3:-2000}
PATH="$build/bin:$PATH"
py=/usr/bin/python3
[ -x /usr/bin/time ] || { echo "bench/ecdf-ks.sh: needs /usr/bin/time (apt-get install -y time)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Data: 8 correlated Gaussian columns, 4 decimals; SYNTH slightly shifted
# and less correlated, as a synthesizer's output might be.
$py - "$tmp" "$rows" <<'PY'
import sys, numpy as np
out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(20261124)
d = 8
def table(rho, shift):
    z = rng.standard_normal((n, d))
    common = rng.standard_normal((n, 1))
    return np.sqrt(1 - rho) * z + np.sqrt(rho) * common + shift
hdr = ",".join(f"x{j+1}" for j in range(d))
np.savetxt(f"{out}/real.csv", table(0.5, 0.0), fmt="%.4f", delimiter=",", header=hdr, comments="")
np.savetxt(f"{out}/synth.csv", table(0.4, 0.03), fmt="%.4f", delimiter=",", header=hdr, comments="")
PY

for j in 1 0; do
    opt=$([ $j -eq 0 ] && echo "" || echo "-j 1")
    /usr/bin/time -v ecdf-ks -q $opt --dump="$tmp/dump$j.csv" "$tmp/real.csv" "$tmp/synth.csv" \
        >"$tmp/ks$j.csv" 2>"$tmp/time$j.txt"
done
cmp -s "$tmp/ks0.csv" "$tmp/ks1.csv" || { echo "ecdf-ks: -j 1 and default threads differ" >&2; exit 1; }
cmp -s "$tmp/dump0.csv" "$tmp/dump1.csv" || { echo "ecdf-ks: -j 1 and default threads dumps differ" >&2; exit 1; }
wall() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$1"; }
cpu() { awk -F': ' '/(User|System) time/ { s += $2 } END { print s }' "$1"; }
rss() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
# the same without --dump, as users run it
/usr/bin/time -v ecdf-ks -q "$tmp/real.csv" "$tmp/synth.csv" >/dev/null 2>"$tmp/time.txt"

$py - "$tmp" "$sample" >"$tmp/numpy.txt" <<'PY'
import sys, time, numpy as np
tmp, k = sys.argv[1], int(sys.argv[2])
real = np.loadtxt(f"{tmp}/real.csv", delimiter=",", skiprows=1, dtype=np.float32)
synth = np.loadtxt(f"{tmp}/synth.csv", delimiter=",", skiprows=1, dtype=np.float32)
nodes = np.vstack([real, synth])
pick = np.linspace(0, len(nodes) - 1, k).astype(int)
def counts(P, Z, chunk=32):          # chunk * n * d bytes of booleans at a time
    out = np.empty(len(Z), dtype=np.int64)
    for s in range(0, len(Z), chunk):
        out[s:s + chunk] = (P[None, :, :] <= Z[s:s + chunk, None, :]).all(axis=2).sum(axis=1)
    return out
t0, c0 = time.perf_counter(), time.process_time()
cr, cs = counts(real, nodes[pick]), counts(synth, nodes[pick])
t, c = time.perf_counter() - t0, time.process_time() - c0
dump = np.loadtxt(f"{tmp}/dump0.csv", delimiter=",", skiprows=1, usecols=(4, 5), dtype=np.int64)
ok = np.array_equal(dump[pick, 0], cr) and np.array_equal(dump[pick, 1], cs)
print(t, t * len(nodes) / k, c * len(nodes) / k, int(ok))
PY
read t_np t_np_full c_np_full np_ok <"$tmp/numpy.txt"
[ "$np_ok" = 1 ] || { echo "numpy counts differ from ecdf-ks --dump" >&2; exit 1; }
t_all=$(wall "$tmp/time.txt"); t_j1=$(wall "$tmp/time1.txt")
echo "ecdf-ks --points=all, n = m = $rows, d = 8, $(tail -n 1 "$tmp/ks0.csv" | cut -d, -f2) nodes: ks = $(tail -n 1 "$tmp/ks0.csv" | cut -d, -f1)"
printf 'ecdf-ks (%s threads): %.2f s wall, %.2f s CPU, peak RSS %s MB\n' "$(nproc)" "$t_all" "$(cpu "$tmp/time.txt")" "$(rss "$tmp/time.txt")"
printf 'ecdf-ks (-j 1):      %.2f s, peak RSS %s MB (with --dump)\n' "$t_j1" "$(rss "$tmp/time1.txt")"
printf 'numpy (1 thread, chunks of 32 nodes): %.2f s for %s nodes, extrapolated linearly to %.0f s for all %d; its counts equal ecdf-ks'"'"'s on those nodes\n' \
    "$t_np" "$sample" "$t_np_full" $((2 * rows))
awk -v a="$t_all" -v b="$t_j1" -v np="$t_np_full" -v cnp="$c_np_full" -v c="$(cpu "$tmp/time.txt")" 'BEGIN {
    printf "ratio numpy / ecdf-ks: %.0fx wall (all threads), %.0fx wall (-j 1), %.0fx in CPU seconds (all threads summed); W4 target >= 50x\n", np / a, np / b, cnp / c }'
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (wall times grow with other load; CPU seconds do not)"
