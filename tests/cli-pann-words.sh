#!/bin/sh
# cli-pann-words.sh — pann-words from the command line: the article's
# Table 1 values, K nearest words against an awk brute force of the
# article's formula, both input formats, stdin, the anytime search,
# reproducibility, errors; and dense cosine in pann-match against an awk
# brute force of 1 - rho.
. "${top_srcdir:-.}/tests/lib.sh"
TAB1="$top_srcdir/datasets/table1-embeddings.tsv"

# Random words in the lists format (portable LCG: same file with any awk).
gen_words() { # gen_words N NTOK SEED PREFIX
    awk -v n="$1" -v ntok="$2" -v x="$3" -v pre="$4" 'function rnd() { x = (x * 48271) % 2147483647; return x / 2147483647 }
        BEGIN { for (i = 1; i <= n; i++) {
            line = pre i "\t"; m = 1 + int(rnd() * 6); delete used
            for (p = 0; p < m; p++) { t = int(rnd() * ntok); if (t in used) continue; used[t] = 1
                line = line sprintf("%stok%d:%d", p ? " " : "", t, 1 + int(rnd() * 4)) }
            print line } }'
}
# Lists format -> long CSV (with a header).
to_long() {
    awk -F'\t' 'BEGIN { print "word,token,weight" } !/^#/ && NF { n = split($2, p, " ")
        for (i = 1; i <= n; i++) { j = match(p[i], /:[^:]*$/)
            print $1 "," substr(p[i], 1, j - 1) "," substr(p[i], j + 1) } }' "$1"
}
# awk brute force of the article's similarity: K most similar, ties to the
# lowest row, self excluded when SELF=1.  Prints query,rank,neighbor,similarity.
brute() { # brute K SELF QUERY REFERENCE
    awk -F'\t' -v K="$1" -v self="$2" '
        function load(f, i,   n, p, j, t) { n = split($2, p, " "); nt[f, i] = n; sq = 0
            for (j = 1; j <= n; j++) { c = match(p[j], /:[^:]*$/); t = substr(p[j], 1, c - 1)
                w[f, i, t] = substr(p[j], c + 1) + 0; tk[f, i, j] = t; sq += w[f, i, t] ^ 2 }
            nrm[f, i] = sqrt(sq); name[f, i] = $1 }
        FNR == 1 { file++ } /^#/ || !NF { next }
        { cnt[file]++; load(file, cnt[file]) }
        END { for (q = 1; q <= cnt[1]; q++) {
            for (r = 1; r <= cnt[2]; r++) { d = 0
                for (j = 1; j <= nt[1, q]; j++) { t = tk[1, q, j]; if ((2, r, t) in w) d += w[1, q, t] * w[2, r, t] }
                s[r] = nrm[1, q] > 0 && nrm[2, r] > 0 ? d / (nrm[1, q] * nrm[2, r]) : 0; taken[r] = 0 }
            for (k = 1; k <= K; k++) { b = 0
                for (r = 1; r <= cnt[2]; r++) if (!taken[r] && !(self && r == q) && (b == 0 || s[r] > s[b])) b = r
                taken[b] = 1; printf "%s,%d,%s,%.12g\n", name[1, q], k, name[2, b], s[b] } } }' "$3" "$4"
}
# Same lists: same words (a different neighbour only at an equal similarity)
# and similarities within 1e-9; distance = 1 - similarity.
same_lists() { # same_lists PANN_CSV BRUTE_CSV
    test "$(wc -l <"$1")" -eq "$(($(wc -l <"$2") + 1))" || return 1
    tail -n +2 "$1" | paste -d, - "$2" | awk -F, '
        { ds = $4 - $9; if (ds < 0) ds = -ds; dd = $5 - (1 - $4); if (dd < 0) dd = -dd
          if ($1 != $6 || $2 != $7 || ds > 1e-9 || dd > 1e-9 || ($3 != $8 && ds > 1e-12)) bad++ }
        END { exit bad > 0 }'
}

run pann-words --help
check "--help exits 0 and shows usage" test "$rc" -eq 0 -a -n "$(printf '%s' "$out" | grep 'Usage: pann-words')"
run pann-words --version
check "--version exits 0" test "$rc" -eq 0 -a -n "$(printf '%s' "$out" | grep -E '^pann-words \(pann\) [0-9]')"

# The article's values (section 2.1), from the shipped Table 1.
pann-words -q -k 6 "$TAB1" >"$TMPD/t1.csv"
sim_of() { awk -F, -v a="$1" -v b="$2" '$1 == a && $3 == b { print $4 }' "$TMPD/t1.csv"; }
near() { awk -v x="$1" -v y="$2" 'BEGIN { d = x - y; if (d < 0) d = -d; exit !(x != "" && d < 5e-6) }'; }
check "rho(normal, Gaussian) = 0.15311 (article)" near "$(sim_of normal Gaussian)" 0.15311
check "rho(binomial, Gaussian) = 0.13940 (article, with |binomial|)" near "$(sim_of binomial Gaussian)" 0.13940
check "rho is symmetric" test "$(sim_of normal Gaussian)" = "$(sim_of Gaussian normal)"
check "dot: normal.Gaussian = 0.004452 (article)" near \
    "$(pann-words -q -k 6 --similarity=dot "$TAB1" | awk -F, '$1 == "normal" && $3 == "Gaussian" { print $4 }')" 0.004452
check "dot: binomial.Gaussian = 0.001142 (article)" near \
    "$(pann-words -q -k 6 --similarity=dot "$TAB1" | awk -F, '$1 == "binomial" && $3 == "Gaussian" { print $4 }')" 0.001142
check "\"normal\" is closer to \"Gaussian\" than \"binomial\" is" \
    awk -v a="$(sim_of Gaussian normal)" -v b="$(sim_of Gaussian binomial)" 'BEGIN { exit !(a > b) }'

# The man page's worked example.
pann-words -q -k 2 "$TAB1" | grep -E '^(normal|Gaussian),' >"$TMPD/ex.csv"
cat >"$TMPD/ex-want.csv" <<'EOF'
normal,1,binomial,0.754196343,0.245803657
normal,2,Gaussian,0.153112647,0.846887353
Gaussian,1,normal,0.153112647,0.846887353
Gaussian,2,binomial,0.139404494,0.860595506
EOF
check "the man page's example output" cmp -s "$TMPD/ex.csv" "$TMPD/ex-want.csv"

for k in 1 6; do
    pann-words -q -k $k "$TAB1" >"$TMPD/p.csv"
    brute $k 1 "$TAB1" "$TAB1" >"$TMPD/b.csv"
    check "Table 1, K = $k: equals the awk brute force" same_lists "$TMPD/p.csv" "$TMPD/b.csv"
done

gen_words 120 25 7 q >"$TMPD/q.tsv"
gen_words 200 30 11 r >"$TMPD/r.tsv"
pann-words -q -k 4 "$TMPD/q.tsv" "$TMPD/r.tsv" >"$TMPD/p.csv"
brute 4 0 "$TMPD/q.tsv" "$TMPD/r.tsv" >"$TMPD/b.csv"
check "random words, two files, K = 4: equals the awk brute force" same_lists "$TMPD/p.csv" "$TMPD/b.csv"
pann-words -q -k 3 "$TMPD/r.tsv" >"$TMPD/p.csv"
brute 3 1 "$TMPD/r.tsv" "$TMPD/r.tsv" >"$TMPD/b.csv"
check "random words, one file, K = 3: equals the awk brute force" same_lists "$TMPD/p.csv" "$TMPD/b.csv"
pann-words -q -k 3 --anytime --iterations=0 -j 2 "$TMPD/r.tsv" >"$TMPD/a.csv"
check "--anytime --iterations=0 equals the exact search" cmp -s "$TMPD/a.csv" "$TMPD/p.csv"
pann-words -q -k 3 --anytime --seed=4 -j 1 "$TMPD/q.tsv" "$TMPD/r.tsv" >"$TMPD/j1.csv"
pann-words -q -k 3 --anytime --seed=4 -j 2 "$TMPD/q.tsv" "$TMPD/r.tsv" >"$TMPD/j2.csv"
check "anytime: same seed, identical output with -j 1 and -j 2" cmp -s "$TMPD/j1.csv" "$TMPD/j2.csv"
pann-words -q -k 3 --anytime --seed=5 "$TMPD/q.tsv" "$TMPD/r.tsv" >"$TMPD/s5.csv"
check "anytime: another seed gives another answer" test -n "$(cmp "$TMPD/j1.csv" "$TMPD/s5.csv" 2>&1)"
pann-words -q -k 3 "$TMPD/q.tsv" "$TMPD/r.tsv" >"$TMPD/ex3.csv"
check "anytime similarity never above the exact one, rank by rank" sh -c \
    "paste -d, '$TMPD/j1.csv' '$TMPD/ex3.csv' | awk -F, 'NR > 1 && \$4 > \$9 + 1e-12 { bad++ } END { exit bad > 0 }'"
run pann-words -k 3 --anytime --iterations=500 "$TMPD/q.tsv" "$TMPD/r.tsv"
check "anytime summary reports proposals and seed" sh -c "printf '%s' \"\$1\" | grep -q '500 proposals' && printf '%s' \"\$1\" | grep -q 'seed 1'" _ "$err"

to_long "$TAB1" >"$TMPD/t1-long.csv"
pann-words -q -k 3 "$TMPD/t1-long.csv" >"$TMPD/long.csv"
pann-words -q -k 3 "$TAB1" >"$TMPD/lists.csv"
check "long CSV format gives the same answer as the lists format" cmp -s "$TMPD/long.csv" "$TMPD/lists.csv"
tail -n +2 "$TMPD/t1-long.csv" | tr , ';' >"$TMPD/t1-semi.csv"
pann-words -q -k 3 -d ';' --no-header "$TMPD/t1-semi.csv" >"$TMPD/semi.csv"
check "long format with -d ';' --no-header" cmp -s "$TMPD/semi.csv" "$TMPD/lists.csv"
pann-words -q -k 3 - <"$TAB1" >"$TMPD/stdin.csv"
check "reads '-' as stdin (lists)" cmp -s "$TMPD/stdin.csv" "$TMPD/lists.csv"
pann-words -q -k 3 - <"$TMPD/t1-long.csv" >"$TMPD/stdin.csv"
check "reads '-' as stdin (long, detected)" cmp -s "$TMPD/stdin.csv" "$TMPD/lists.csv"
pann-words -q -k 3 -o "$TMPD/o.csv" "$TAB1"
check "-o writes the same output" cmp -s "$TMPD/o.csv" "$TMPD/lists.csv"
printf 'a,b\tx:1\n"q\tz:1\nc\tx:2 z:1\n' >"$TMPD/quote.tsv"
check "words are quoted in the CSV output" sh -c "pann-words -q '$TMPD/quote.tsv' | grep -q '^\"a,b\",1,c,'"

# Errors: one line, the place or option named, exit status.
printf 'a\tx:1\nb\tx:1 y:oops\n' >"$TMPD/bad.tsv"
expect_fail 1 "^pann-words: .*bad.tsv:2:3: weight 'oops' is not a finite number$" "bad weight: FILE:LINE:FIELD" pann-words "$TMPD/bad.tsv"
printf 'a\tx:1\na\ty:1\n' >"$TMPD/dup.tsv"
expect_fail 1 "dup.tsv:2:1: word 'a' already defined on line 1" "word defined twice" pann-words "$TMPD/dup.tsv"
printf 'w,t,v\na,x,1\nb,x,\n' >"$TMPD/bad.csv"
expect_fail 1 "bad.csv:3:3: weight" "long format: bad weight located" pann-words "$TMPD/bad.csv"
expect_fail 1 "stdin:2:3:" "stdin errors name stdin" sh -c "pann-words - <'$TMPD/bad.tsv'"
expect_fail 1 "stdin:3:3:" "stdin errors name stdin (long)" sh -c "pann-words - <'$TMPD/bad.csv'"
expect_fail 1 "K = 7, but .* has 6 candidate words" "K larger than the candidates" pann-words -k 7 "$TAB1"
expect_fail 1 "^pann-words: --k: '0'" "--k=0 refused" pann-words -k 0 "$TAB1"
expect_fail 1 "--similarity: 'l1'" "unknown --similarity" pann-words --similarity=l1 "$TAB1"
expect_fail 1 "--format: 'wide'" "unknown --format" pann-words --format=wide "$TAB1"
expect_fail 1 "--iterations and --time need --anytime" "--iterations without --anytime" pann-words --iterations=5 "$TAB1"
expect_fail 1 "exclude each other" "--exact with --anytime" pann-words --exact --anytime "$TAB1"
expect_fail 1 "expected QUERY" "no file" pann-words
expect_fail 1 "read only once" "stdin twice" pann-words - -
expect_fail 2 "nope.tsv" "missing file: exit 2" pann-words "$TMPD/nope.tsv"
run pann-words --metric=l1 "$TAB1"
check "an option that does not apply (--metric) is refused with exit 1" test "$rc" -eq 1 -a -z "$out"

# Dense cosine (every program's --metric=cosine): pann-match --exact against
# an awk brute force of 1 - rho.
awk 'BEGIN { x = 3; print "a,b,c,d"; for (i = 0; i < 60; i++) { line = ""
    for (j = 0; j < 4; j++) { x = (x * 48271) % 2147483647; line = line (j ? "," : "") sprintf("%.3f", x / 2147483647 * 4 - 2) }
    print line } }' >"$TMPD/dense.csv"
pann-match -q --exact --metric=cosine "$TMPD/dense.csv" >"$TMPD/cos.csv"
awk -F, 'NR == FNR { if (FNR > 1) { n++; for (j = 1; j <= NF; j++) v[n, j] = $j; d = NF }; next }
    END { for (q = 1; q <= n; q++) { best = ""; bi = 0
        for (r = 1; r <= n; r++) { if (r == q) continue; dot = 0; a = 0; b = 0
            for (j = 1; j <= d; j++) { dot += v[q, j] * v[r, j]; a += v[q, j] ^ 2; b += v[r, j] ^ 2 }
            dist = 1 - dot / sqrt(a * b); if (best == "" || dist < best) { best = dist; bi = r } }
        printf "%d,%d,%.10g\n", q, bi, best } }' "$TMPD/dense.csv" >"$TMPD/cos-brute.csv"
check "pann-match --metric=cosine --exact equals awk 1 - rho (nearest, distance to 1e-6)" sh -c "
    tail -n +2 '$TMPD/cos.csv' | cut -d, -f1-3 | paste -d, - '$TMPD/cos-brute.csv' | awk -F, '
        { dd = \$3 - \$6; if (dd < 0) dd = -dd; if (\$1 != \$4 || dd > 1e-6 || (\$2 != \$5 && dd > 1e-7)) bad++ }
        END { exit bad > 0 || NR != 60 }'"
