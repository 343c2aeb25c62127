#!/bin/sh
# bench/words.sh — pann-words on a generated vocabulary: the exact search by
# inverted index, and the PANN anytime search at its default budget, against
# the baseline measured in the same run: every pair compared (the anytime
# search run to exhaustion, --iterations=0, which is a brute force).
#   sh bench/words.sh [WORDS] [TOKENS]     (run from the build tree, or with
#                                           pann-words on PATH)
set -eu
n=${1:-5000}
ntok=${2:-5000}
PATH="$(pwd)/bin:$PATH"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-words.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Zipf-like token use (a few common tokens, many rare ones), 5 to 15 tokens
# per word, portable LCG so that every awk writes the same file.
awk -v n="$n" -v ntok="$ntok" -v x=12345 'function rnd() { x = (x * 48271) % 2147483647; return (x + 0.5) / 2147483647 }
    BEGIN { for (i = 1; i <= n; i++) { m = 5 + int(rnd() * 11); line = "w" i "\t"; delete used
        for (p = 0; p < m; p++) { t = int(ntok * rnd() ^ 3); if (t in used) continue; used[t] = 1
            line = line sprintf("%st%d:%.4f", p ? " " : "", t, rnd()) }
        print line } }' >"$tmp/words.tsv"
secs() { # secs CMD...: wall seconds of one run
    s=$(date +%s.%N); "$@" >"$tmp/out.csv"; e=$(date +%s.%N)
    awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }'
}
base=$(secs pann-words -q -j 1 -k 5 --anytime --iterations=0 "$tmp/words.tsv"); cp "$tmp/out.csv" "$tmp/brute.csv"
exact=$(secs pann-words -q -j 1 -k 5 "$tmp/words.tsv"); cp "$tmp/out.csv" "$tmp/exact.csv"
any=$(secs pann-words -q -j 1 -k 5 --anytime "$tmp/words.tsv"); cp "$tmp/out.csv" "$tmp/any.csv"
cmp -s "$tmp/brute.csv" "$tmp/exact.csv" && same=yes || same=NO
recall=$(paste -d, "$tmp/any.csv" "$tmp/exact.csv" | awk -F, 'NR > 1 { n++; hit += ($3 == $8) } END { printf "%.3f", hit / n }')
echo "pann-words bench: $n words, $ntok tokens, K = 5, one thread"
echo "all pairs (anytime to exhaustion, baseline): $base s"
echo "exact by inverted index: $exact s, $(awk -v a="$base" -v b="$exact" 'BEGIN { printf "%.1f", a / b }')x faster, same answer: $same"
echo "anytime, default budget (50*K per word): $any s, $(awk -v a="$base" -v b="$any" 'BEGIN { printf "%.1f", a / b }')x faster, rank-by-rank agreement with exact: $recall"
