#!/bin/sh
# cli-npy.sh — .npy inputs and outputs without numpy: matrices written by
# tests/npy_fixture (float32 and float64, header versions 1.0 and 2.0) give
# pann-match and pann-knn the same answers as the same numbers in CSV,
# under every scaling, metric and column choice; --format=npy outputs read
# back by the fixture equal the CSV outputs; hostile headers, non-finite
# values and misuse are located one-line errors that leave no output.
. "${top_srcdir:-.}/tests/lib.sh"
FIX="$top_builddir/tests/npy_fixture"
D=$TMPD

"$FIX" matrix "$D/t4.npy" "$D/t.csv" 300 6 f4 1 7
"$FIX" matrix "$D/t8.npy" "$D/t8.csv" 300 6 f8 2 7
"$FIX" matrix "$D/q4.npy" "$D/q.csv" 40 6 f4 1 8
"$FIX" matrix "$D/q8.npy" "$D/q8.csv" 40 6 f8 2 8
check "the fixture's float32 and float64 files hold the same numbers" cmp -s "$D/t.csv" "$D/t8.csv"

for opts in "--metric=l1" "--metric=l2 --scale=std" "--metric=cosine" "--scale=range -c 3,1,5"; do
    for e in 4 8; do
        # shellcheck disable=SC2086
        pann-match -q --exact $opts "$D/q.csv" "$D/t.csv" >"$D/csv.out"
        # shellcheck disable=SC2086
        pann-match -q --exact $opts "$D/q$e.npy" "$D/t$e.npy" >"$D/npy.out"
        check "pann-match --exact $opts: float$((e * 8)) .npy equals CSV" cmp -s "$D/csv.out" "$D/npy.out"
    done
    # shellcheck disable=SC2086
    pann-knn -q -k 5 --exact $opts "$D/t.csv" >"$D/csv.out"
    # shellcheck disable=SC2086
    pann-knn -q -k 5 --exact $opts "$D/t4.npy" >"$D/npy.out"
    check "pann-knn -k 5 --exact $opts (self-match): .npy equals CSV" cmp -s "$D/csv.out" "$D/npy.out"
done
pann-match -q --seed=3 --iterations=2000 "$D/q.csv" "$D/t.csv" >"$D/csv.out"
pann-match -q --seed=3 --iterations=2000 "$D/q4.npy" "$D/t4.npy" >"$D/npy.out"
check "the anytime search on .npy equals the search on CSV (same seed)" cmp -s "$D/csv.out" "$D/npy.out"
"$FIX" matrix "$D/h4.npy" "$D/h.csv" 120 6 f4 2 9
pann-privacy -q "$D/t.csv" "$D/q.csv" "$D/h.csv" >"$D/csv.out"
pann-privacy -q "$D/t4.npy" "$D/q4.npy" "$D/h4.npy" >"$D/npy.out"
check "pann-privacy on three .npy files equals the CSV run" cmp -s "$D/csv.out" "$D/npy.out"
cp "$D/t4.npy" "$D/reference.data"
pann-match -q --exact "$D/q4.npy" "$D/reference.data" >"$D/npy2.out"
pann-match -q --exact "$D/q.csv" "$D/t.csv" >"$D/csv.out"
check "a .npy file is known by its magic bytes, not its name" cmp -s "$D/csv.out" "$D/npy2.out"

# ---- --format=npy --------------------------------------------------------
pann-knn -q -k 4 --exact "$D/t.csv" "$D/q.csv" >"$D/lists.csv"
pann-knn -q -k 4 --exact --format=npy -o "$D/nn.npy" --distances="$D/dist.npy" "$D/t4.npy" "$D/q4.npy"
"$FIX" dump "$D/nn.npy" | tr ',' '\n' >"$D/nn.txt"
"$FIX" dump "$D/dist.npy" | tr ',' '\n' >"$D/dist.txt"
tail -n +2 "$D/lists.csv" | awk -F, '{ print $3 - 1 }' >"$D/nn.want"
tail -n +2 "$D/lists.csv" | cut -d, -f4 >"$D/dist.want"
check "pann-knn --format=npy: (40, 4) int64 rows, 0-based, as the CSV lists" cmp -s "$D/nn.want" "$D/nn.txt"
check "pann-knn --distances: the float32 distances of the CSV lists" cmp -s "$D/dist.want" "$D/dist.txt"
check "pann-knn --format=npy: shape (40, 4) in the header" \
    grep -q "'shape': (40, 4)" "$D/nn.npy"
pann-match -q --exact --format=npy --distances="$D/md.npy" "$D/q4.npy" "$D/t4.npy" >"$D/mnn.npy"
pann-match -q --exact "$D/q.csv" "$D/t.csv" | tail -n +2 | awk -F, '{ print $2 - 1 }' >"$D/mnn.want"
"$FIX" dump "$D/mnn.npy" >"$D/mnn.txt"
check "pann-match --format=npy on stdout: one 0-based row per query" cmp -s "$D/mnn.want" "$D/mnn.txt"
check "pann-match --format=npy: a 1-D array (40,)" grep -q "'shape': (40,)" "$D/mnn.npy"
printf 'a\n1\n' >"$D/one.csv"
pann-match -q --format=npy "$D/one.csv" >"$D/none.npy"
check "a row without neighbour is -1" test "$("$FIX" dump "$D/none.npy")" = "-1"
check "the header is padded to 64 bytes" test $(($(wc -c <"$D/none.npy") % 64)) -eq 8

# ---- errors --------------------------------------------------------------
ends() { test ! -e "$D/never.csv"; }
bad() { # bad PATTERN what: pann-match on $D/bad.npy fails with PATTERN
    expect_fail 1 "$1" "$2" pann-match --exact -o "$D/never.csv" "$D/q4.npy" "$D/bad.npy"
}
ok_dict="{'descr': '<f4', 'fortran_order': False, 'shape': (2, 6), }"
"$FIX" raw "$D/bad.npy" 4 0 "$ok_dict" 48
bad "^pann-match: .*bad.npy: .npy version 4.0 is not 1.0, 2.0 or 3.0$" "an unknown version"
"$FIX" raw "$D/bad.npy" 1 0 "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 6), }" 48
bad "bad.npy: fortran_order is True; save a C-order array" "fortran order"
"$FIX" raw "$D/bad.npy" 1 0 "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 6), }" 48
bad "bad.npy: dtype '<i4' is not float32 or float64" "an integer dtype"
"$FIX" raw "$D/bad.npy" 1 0 "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 6), }" 48
bad "bad.npy: dtype '>f4' is big-endian" "a big-endian dtype"
"$FIX" raw "$D/bad.npy" 1 0 "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }" 8
bad "bad.npy: a structured dtype" "a structured dtype"
"$FIX" raw "$D/bad.npy" 1 0 "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 2), }" 48
bad "bad.npy: a 3-D array; a matrix of rows and columns \(2-D\) is needed" "a 3-D array"
"$FIX" raw "$D/bad.npy" 1 0 "{'descr': '<f4', 'fortran_order': False, 'shape': (12,), }" 48
bad "bad.npy: a 1-D array" "a 1-D array"
"$FIX" raw "$D/bad.npy" 1 0 "$ok_dict" 47
bad "bad.npy: truncated: shape \(2, 6\) of float32 needs 48 bytes of data, the file has 47" "truncated data"
"$FIX" raw "$D/bad.npy" 2 0 "$ok_dict" 49
bad "bad.npy: 1 bytes after the \(2, 6\) array" "bytes after the data"
"$FIX" raw "$D/bad.npy" 1 0 "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 6), }" 0
bad "bad.npy: no data rows" "an empty array"
"$FIX" raw "$D/bad.npy" 1 0 "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 6), 'x': 1}" 48
bad "bad.npy: bad .npy header: unknown key 'x'" "an unknown key"
"$FIX" raw "$D/bad.npy" 1 0 "{'descr': '<f4', 'shape': (2, 6)}" 48
bad "bad.npy: bad .npy header: no 'fortran_order'" "a missing key"
"$FIX" raw "$D/bad.npy" 1 0 "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 6)}" 48
bad "bad.npy: bad .npy header: key 'descr' twice" "a key twice"
"$FIX" raw "$D/bad.npy" 1 0 "['descr', '<f4']" 48
bad "bad.npy: bad .npy header: not a dictionary" "not a dictionary"
"$FIX" raw "$D/bad.npy" 1 0 "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -6), }" 48
bad "bad.npy: bad .npy header: shape is not a tuple of whole numbers" "a negative dimension"
"$FIX" raw "$D/bad.npy" 1 0 "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 6), }" 48
bad "bad.npy: bad .npy header: a dimension of the shape is too large" "a huge dimension"
"$FIX" raw "$D/bad.npy" 1 0 "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 6), } junk" 48
bad "bad.npy: bad .npy header: text after the dictionary" "text after the dictionary"
printf '\223NUMPY\001\000\377\177{' >"$D/bad.npy"
bad "bad.npy: .npy header truncated \(its length says 32767 bytes, the file has 1\)" "a header longer than the file"
printf '\223NUMPY\001' >"$D/bad.npy"
bad "bad.npy: not a .npy file" "six magic bytes and nothing else"
"$FIX" raw "$D/bad.npy" 1 0 "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 5), }" 40
bad "q4.npy has 6 columns, .*bad.npy has 5$" "a different number of columns"
"$FIX" matrix "$D/nan.npy" "$D/nan.csv" 5 6 f4 1 3 4,2
expect_fail 1 "^pann-match: .*nan.npy:4:2: value is NaN; a .npy input must hold finite numbers" \
    "a NaN is located at its row and column" pann-match --exact -o "$D/never.csv" "$D/nan.npy"
check "no output file after any of these errors" ends
expect_fail 1 "q.csv: not a .npy file, and .*t4.npy is: the inputs of one run are all .npy or all text" \
    "a .npy file with a CSV file" pann-match --exact "$D/q.csv" "$D/t4.npy"
expect_fail 1 "^pann-knn: .*t4.npy is a .npy file, numbers only: --label needs a table's cells" \
    "--label with a .npy file" pann-knn -k 3 --label=1 "$D/t4.npy"
expect_fail 1 "^pann-match: .*t4.npy is a .npy file, numbers only: --group needs a table's cells" \
    "--group with a .npy file" pann-match --group=1 "$D/t4.npy"
expect_fail 1 "--categorical: a .npy file holds numbers only" "--categorical with a .npy file" \
    pann-match --categorical=1 "$D/t4.npy"
expect_fail 1 "^pann-match: --distances needs --format=npy " "--distances without --format=npy" \
    pann-match --distances="$D/x.npy" "$D/t4.npy"
expect_fail 1 "^pann-knn: --format: 'json' is not csv or npy " "an unknown --format" \
    pann-knn -k 2 --format=json "$D/t4.npy"
expect_fail 1 "^pann-knn: --format=npy writes neighbour lists: not with --label or --cluster " \
    "--format=npy with --cluster" pann-knn -k 2 --cluster --format=npy "$D/t4.npy"
printf '%s\n' "c1" "1e300" "-1e300" >"$D/huge.csv"
"$FIX" raw "$D/huge.npy" 1 0 "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }" 0
printf '\000\000\000\000\000\000\320\177' >>"$D/huge.npy"   # about 4.5e307, little-endian
printf '\000\000\000\000\000\000\320\377' >>"$D/huge.npy"
expect_fail 1 "huge.npy:1:1: value [0-9.]*e\+30[0-9] is beyond single precision once encoded" \
    "a float64 beyond float32 is located" pann-match --exact "$D/huge.npy"
"$FIX" matrix "$D/big.npy" "$D/big.csv" 3 1 f4 1 5
printf '\000\000\200\177' | dd of="$D/big.npy" bs=1 seek=$(($(wc -c <"$D/big.npy") - 12)) \
    conv=notrunc 2>/dev/null   # +inf, little-endian, at row 1
expect_fail 1 "big.npy:1:1: value is inf" "an infinite float32 is located" pann-match --exact "$D/big.npy"
exit 0
