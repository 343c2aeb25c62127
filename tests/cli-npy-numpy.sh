#!/bin/sh
# cli-npy-numpy.sh — .npy files as numpy itself writes and reads them:
# numpy.save (version 1.0) and format.write_array version 2.0, float32 and
# float64, C order; answers equal those on the same numbers in CSV
# (numpy.savetxt %.9g, which float32 survives) and numpy's own brute force;
# --format=npy outputs load with numpy.load.  Skipped (77) without numpy.
. "${top_srcdir:-.}/tests/lib.sh"
PY=${PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import numpy' 2>/dev/null; then
    echo "# no numpy for $PY: skipped"
    trap - EXIT
    rm -rf "$TMPD"
    exit 77
fi
D=$TMPD
"$PY" - "$D" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(21)
T = rng.standard_normal((700, 12)).astype(np.float32)
S = rng.standard_normal((60, 12)).astype(np.float32)
np.save(d + "/T.npy", T)
np.save(d + "/S.npy", S)
with open(d + "/T2.npy", "wb") as f:
    np.lib.format.write_array(f, T.astype(np.float64), version=(2, 0))
with open(d + "/S2.npy", "wb") as f:
    np.lib.format.write_array(f, S.astype(np.float64), version=(2, 0))
np.save(d + "/Tf.npy", np.asfortranarray(T))
np.save(d + "/Ti.npy", T.astype(np.int32))
head = ",".join("x%d" % j for j in range(12))
np.savetxt(d + "/T.csv", T, fmt="%.9g", delimiter=",", header=head, comments="")
np.savetxt(d + "/S.csv", S, fmt="%.9g", delimiter=",", header=head, comments="")
PY
pann-match -q --exact "$D/S.csv" "$D/T.csv" >"$D/csv.out"
pann-match -q --exact "$D/S.npy" "$D/T.npy" >"$D/npy.out"
check "numpy.save float32: pann-match --exact equals the CSV run" cmp -s "$D/csv.out" "$D/npy.out"
pann-match -q --exact "$D/S2.npy" "$D/T2.npy" >"$D/npy2.out"
check "version 2.0 float64: pann-match --exact equals the CSV run" cmp -s "$D/csv.out" "$D/npy2.out"
pann-knn -q -k 5 --exact --metric=cosine "$D/T.csv" "$D/S.csv" >"$D/csv.out"
pann-knn -q -k 5 --exact --metric=cosine "$D/T.npy" "$D/S.npy" >"$D/npy.out"
check "pann-knn --metric=cosine: .npy equals the CSV run" cmp -s "$D/csv.out" "$D/npy.out"
pann-knn -q -k 5 --exact --metric=l2 --format=npy -o "$D/I.npy" --distances="$D/Dist.npy" \
    "$D/T.npy" "$D/S.npy"
pann-match -q --exact --metric=cosine --format=npy -o "$D/M.npy" --distances="$D/MD.npy" \
    "$D/S.npy" "$D/T.npy"
run "$PY" - "$D" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
T, S = np.load(d + "/T.npy"), np.load(d + "/S.npy")
I, D = np.load(d + "/I.npy"), np.load(d + "/Dist.npy")
sq = ((S.astype(np.float64)[:, None, :] - T[None, :, :]) ** 2).sum(-1)
want = np.argsort(sq, axis=1, kind="stable")[:, :5]
ok1 = I.dtype == np.int64 and I.shape == (60, 5) and (I == want).all()
ok2 = D.dtype == np.float32 and np.allclose(D, np.sqrt(np.take_along_axis(sq, want, 1)), rtol=1e-5)
Tn = T / np.linalg.norm(T, axis=1, keepdims=True)
Sn = S / np.linalg.norm(S, axis=1, keepdims=True)
cos = 1 - Sn.astype(np.float64) @ Tn.T.astype(np.float64)
M, MD = np.load(d + "/M.npy"), np.load(d + "/MD.npy")
ok3 = M.shape == (60,) and (M == cos.argmin(1)).all() and np.allclose(MD, cos.min(1), atol=1e-5)
print(int(ok1), int(ok2), int(ok3))
PY
check "numpy.load reads pann-knn's int64 lists: numpy's brute force L2" test "$out" != "${out#1}"
check "pann-knn's float32 distances match numpy's" test "$(echo "$out" | cut -d' ' -f2)" = 1
check "pann-match --format=npy: numpy's brute-force cosine neighbours" test "$(echo "$out" | cut -d' ' -f3)" = 1
expect_fail 1 "Tf.npy: fortran_order is True" "numpy's Fortran-order array is refused" \
    pann-match --exact "$D/S.npy" "$D/Tf.npy"
expect_fail 1 "Ti.npy: dtype '<i4' is not float32 or float64" "numpy's int32 array is refused" \
    pann-match --exact "$D/S.npy" "$D/Ti.npy"
exit 0
