#!/bin/sh
# bench/scale.sh — a generated ROWS x 20 numeric file (default 1,000,000 rows,
# fixed seed) through every program that reads tables: peak RSS from
# /usr/bin/time -v as a multiple of the file size, wall time, and the output
# of -j1 against -j2 with the same seed (must be byte-identical).
#   usage: bench/scale.sh [ROWS]     (programs from PATH or ./bin)
# pann-words reads word lists, not tables: it is left out.
set -u
ROWS=${1:-1000000}
[ -d bin ] && PATH="$PWD/bin:$PATH"
W=$(mktemp -d "${TMPDIR:-/tmp}/pann-scale.XXXXXX")
trap 'rm -rf "$W"' EXIT
gen() { # gen SEED ROWS: 20 columns, a few clusters, 4 decimals
    awk -v seed="$1" -v n="$2" 'BEGIN {
        srand(seed)
        for (j = 1; j <= 20; j++) printf "%sc%d", (j > 1 ? "," : ""), j; printf "\n"
        for (i = 0; i < n; i++) {
            k = int(rand() * 8)
            for (j = 1; j <= 20; j++)
                printf "%s%.4f", (j > 1 ? "," : ""), k * 3 + (rand() + rand() + rand() - 1.5) * 2
            printf "\n"
        }
    }'
}
gen 11 "$ROWS" > "$W/real.csv"
gen 12 "$ROWS" > "$W/synth.csv"
# nogan-filter checks ROWS synthetic rows against a tenth as many real ones
# (its task: refine a large generated set against a smaller real table);
# ROWS against ROWS would be a 10^12-pair job at the default size.
gen 13 $((ROWS / 10)) > "$W/real-tenth.csv"
size=$(wc -c < "$W/real.csv")
echo "data: $ROWS rows x 20 columns, $(awk -v s="$size" 'BEGIN{printf "%.1f", s/1048576}') MiB per file"
printf '%-14s %9s %9s %10s %s\n' program wall_s peak_MiB x_file "-j1 == -j2"
status=0
one() { # one NAME INPUT_BYTES ARGS... (the program's command line)
    name=$1 in=$2; shift 2
    for j in 1 2; do
        par="-j $j --seed=7"
        [ "$name" = pann-profile ] && par=   # no search: no threads, no seed
        /usr/bin/time -v "$@" $par -q -o "$W/out.$j" 2>"$W/time.$j" >/dev/null
        rc=$?
        [ $rc -eq 0 ] || { echo "$name -j$j failed (exit $rc):"; grep -v '^\s' "$W/time.$j" | head -3; status=1; }
    done
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/time.2")
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$W/time.2" |
           awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
    same=no; cmp -s "$W/out.1" "$W/out.2" && same=yes
    [ $same = yes ] || status=1
    awk -v n="$name" -v w="$wall" -v r="$rss" -v s="$in" -v same="$same" \
        'BEGIN { printf "%-14s %9.1f %9.0f %10.2f %s\n", n, w, r / 1024, r * 1024 / s, same }'
}
one pann-match "$size" pann-match "$W/real.csv"
one nogan-filter $((size + size / 10)) nogan-filter "$W/real-tenth.csv" "$W/synth.csv"
one ecdf-ks $((2 * size)) ecdf-ks --points=1000 "$W/real.csv" "$W/synth.csv"
one pann-extreme "$size" pann-extreme --top=100 "$W/real.csv"
one pann-knn "$size" pann-knn -k 5 --iterations=$((ROWS * 50)) "$W/real.csv"
one nogan-synth "$size" nogan-synth "$W/real.csv"
one pann-plot "$size" pann-plot histogram --column=c1 "$W/real.csv"
one pann-profile "$size" pann-profile "$W/real.csv"
exit $status
