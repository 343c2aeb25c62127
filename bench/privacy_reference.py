#!/usr/bin/python3
"""bench/privacy_reference.py — pann-privacy's figures by numpy and
scikit-learn, written from the definitions in man/pann-privacy.1, for
bench/privacy.sh to check values and time against.

Usage: privacy_reference.py TRAIN SYNTH HOLDOUT CATEGORICAL_COLUMNS K SEED

The distance is the suite's default for mixed data: L1 over numeric columns
scaled by TRAIN's range plus 1 per categorical column that differs.  A
categorical column becomes one-hot columns of value 0.5, so that the
Manhattan distance of two rows is exactly that; every nearest neighbour is
an exact query of sklearn.neighbors.KDTree (metric "manhattan").  Writes
metric,value on stdout and, on stderr, the seconds spent reading and the
seconds spent computing (the KD-tree work and everything after it).

QUERY_FRACTION=F in the environment (0 < F < 1) queries every tree with a
seeded sample of F of its query rows only (each tree still holds all its
rows): the figures are then estimates from that sample, and stderr also
gives the seconds spent in queries and the computing time extrapolated to
all rows (queries scaled by 1/F), for sizes the reference cannot finish.
"""
import sys
import time

import numpy as np
from sklearn.neighbors import KDTree


def read(path, cat_names):
    with open(path) as f:
        names = f.readline().strip().split(",")
    num = [i for i, n in enumerate(names) if n not in cat_names]
    cat = [i for i, n in enumerate(names) if n in cat_names]
    x = np.loadtxt(path, delimiter=",", skiprows=1, usecols=num, dtype=np.float64, ndmin=2)
    c = np.loadtxt(path, delimiter=",", skiprows=1, usecols=cat, dtype=str, ndmin=2)
    return x, c


def encode(tables):
    """Scaled numeric columns beside 0.5 one-hot columns, TRAIN's range."""
    lo = tables[0][0].min(axis=0)
    span = tables[0][0].max(axis=0) - lo
    span[span <= 0] = 1
    levels = [np.unique(np.concatenate([t[1][:, j] for t in tables]))
              for j in range(tables[0][1].shape[1])]
    out = []
    for x, c in tables:
        parts = [(x - lo) / span]
        for j, lev in enumerate(levels):
            code = np.searchsorted(lev, c[:, j])
            parts.append(0.5 * (code[:, None] == np.arange(len(lev))[None, :]))
        out.append(np.hstack(parts))
    return out


FRACTION = float(__import__("os").environ.get("QUERY_FRACTION", "1"))
QUERY_SECONDS = [0.0]


def query(tree, q, k):
    """tree.query(q, k), on a seeded FRACTION of q's rows when FRACTION < 1."""
    if FRACTION < 1:
        keep = np.random.default_rng(len(q)).random(len(q)) < FRACTION
        q = q[keep]
    started = time.perf_counter()
    out = tree.query(q, k=k)
    QUERY_SECONDS[0] += time.perf_counter() - started
    return out


def quantile(v, q):
    return float(np.quantile(v, q))          # numpy's default: "linear"


def two_nearest(q, t):
    d, _ = query(KDTree(t, metric="manhattan"), q, 2)
    d1, d2 = d[:, 0], d[:, 1]
    ratio = np.where(d1 == 0, 0.0, d1 / np.where(d2 == 0, 1, d2))
    return d1, float(np.mean(d1 == 0)), quantile(ratio, 0.5), quantile(d1, 0.05), quantile(d1, 0.5)


def auc_smaller(a, b):
    """P(a < b) + P(a = b) / 2 by ranks."""
    b = np.sort(b)
    below = np.searchsorted(b, a, side="left")
    upto = np.searchsorted(b, a, side="right")
    wins = (len(b) - upto) + 0.5 * (upto - below)
    return float(wins.sum() / (len(a) * len(b)))


def detection(s, h, k, seed):
    each = min(len(s), len(h))
    rng = np.random.default_rng(seed)
    hs = h if len(h) == each else h[np.sort(rng.choice(len(h), each, replace=False))]
    ss = s if len(s) == each else s[np.sort(rng.choice(len(s), each, replace=False))]
    u = np.vstack([hs, ss])
    cls = np.repeat([0, 1], each)
    if FRACTION < 1:      # the sample's own row numbers, for the self test
        keep = np.random.default_rng(len(u)).random(len(u)) < FRACTION
        rows = np.flatnonzero(keep)
    else:
        rows = np.arange(len(u))
    _, idx = query(KDTree(u, metric="manhattan"), u, k + 1)
    is_self = idx == rows[:, None]
    order = np.argsort(is_self, axis=1, kind="stable")    # the row itself last
    nn = np.take_along_axis(idx, order, axis=1)[:, :k]
    votes = cls[nn].sum(axis=1)
    pred = np.where(2 * votes > k, 1, np.where(2 * votes < k, 0, cls[nn[:, 0]]))
    return float(np.mean(pred == cls[rows]))


def pearson_pairs(x):
    r = np.corrcoef(x, rowvar=False)
    r = np.nan_to_num(np.atleast_2d(r))
    iu = np.triu_indices(x.shape[1], 1)
    return r[iu]


def cramers_v(a, b):
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    table = np.zeros((ia.max() + 1, ib.max() + 1))
    np.add.at(table, (ia, ib), 1)
    n = table.sum()
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    chi2 = ((table - expected) ** 2 / expected).sum()
    levels = min(table.shape)
    return 0.0 if levels < 2 else float(np.sqrt(chi2 / (n * (levels - 1))))


def cramer_pairs(c):
    return np.array([cramers_v(c[:, i], c[:, j])
                     for i in range(c.shape[1]) for j in range(i + 1, c.shape[1])])


def dependence(a, b):
    corr = np.abs(pearson_pairs(a[0]) - pearson_pairs(b[0]))
    cram = np.abs(cramer_pairs(a[1]) - cramer_pairs(b[1]))
    both = np.concatenate([corr, cram])
    return corr.mean(), cram.mean(), both.mean()


def main():
    train, synth, holdout, cats, k, seed = sys.argv[1:7]
    k, seed = int(k), int(seed)
    started = time.perf_counter()
    raw = [read(p, set(cats.split(","))) for p in (train, synth, holdout)]
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    t, s, h = encode(raw)
    st, em, nndr, q05, q50 = two_nearest(s, t)
    ht, hem, hnndr, hq05, hq50 = two_nearest(h, t)
    sh, _ = query(KDTree(h, metric="manhattan"), s, 1)
    sh = sh[:, 0]
    dcr = float(np.mean(np.where(st < sh, 1.0, np.where(st == sh, 0.5, 0.0))))
    tree_s = KDTree(s, metric="manhattan")
    ts = query(tree_s, t, 1)[0][:, 0]
    hs = query(tree_s, h, 1)[0][:, 0]
    figures = [("dcr_share", dcr), ("exact_match_share", em), ("holdout_exact_match_share", hem),
               ("nndr_median", nndr), ("holdout_nndr_median", hnndr),
               ("mia_auc", auc_smaller(ts, hs)), ("dcr_q05", q05), ("dcr_q50", q50),
               ("holdout_dcr_q05", hq05), ("holdout_dcr_q50", hq50),
               ("detection", detection(s, h, k, seed))]
    corr, cram, both = dependence(raw[1], raw[2])
    figures += [("correlation_diff", corr), ("cramers_v_diff", cram), ("dependence_diff", both)]
    compute_s = time.perf_counter() - started
    print("metric,value")
    for name, v in figures:
        print(f"{name},{v:.6g}")
    print(f"read {read_s:.2f} s, compute {compute_s:.2f} s", file=sys.stderr)
    if FRACTION < 1:
        whole = compute_s + QUERY_SECONDS[0] * (1 / FRACTION - 1)
        print(f"queries {QUERY_SECONDS[0]:.2f} s on a {FRACTION:g} sample, "
              f"compute extrapolated to every row {whole:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
