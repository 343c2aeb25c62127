#!/usr/bin/python3
"""Builds the cases of bench/fidelity.sh from the shared tables: per case a
directory with train.csv (what the synthesizer saw), holdout.csv (real rows
it never saw), synth.csv, and cols (the columns to use, then the categorical
ones).  Own synthesizers work on train halves: a Gaussian copula,
independent marginals and noisy copies (here, numpy), nogan-synth (the
driver runs it).  Fixed seeds.

usage: fidelity_cases.py SHARED_DIR OUT_DIR"""
import csv, os, sys
import numpy as np

def read(path, source_col=None):
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    head = [h.strip() for h in rows[0]]
    return head, rows[1:]

def write(path, head, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(head)
        w.writerows(rows)

def case(out, name, head, train, holdout, synth, cols, cats=()):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, "train.csv"), head, train)
    write(os.path.join(d, "holdout.csv"), head, holdout)
    if synth is not None:
        write(os.path.join(d, "synth.csv"), head, synth)
    with open(os.path.join(d, "cols"), "w") as f:
        f.write(",".join(cols) + "\n" + ",".join(cats) + "\n")

def numeric_matrix(head, rows, cols):
    idx = [head.index(c) for c in cols]
    return np.array([[float(r[i]) for i in idx] for r in rows])

def decimals(head, rows, cols):
    out = []
    for c in cols:
        i = head.index(c)
        out.append(max((len(r[i].split(".")[1]) if "." in r[i] else 0) for r in rows))
    return out

def fmt(X, dec):
    return [[("%.*f" % (dec[j], v)) for j, v in enumerate(row)] for row in X]

def marginal_quantile(x, u):
    xs = np.sort(x)
    return np.quantile(xs, u, method="inverted_cdf")

def copula(X, n, rng):
    from scipy.stats import norm, rankdata
    z = norm.ppf((np.apply_along_axis(rankdata, 0, X) - 0.5) / len(X))
    c = np.corrcoef(z, rowvar=False)
    g = rng.multivariate_normal(np.zeros(X.shape[1]), c, size=n)
    u = norm.cdf(g)
    return np.column_stack([marginal_quantile(X[:, j], u[:, j]) for j in range(X.shape[1])])

def independent(X, n, rng):
    return np.column_stack([rng.choice(X[:, j], size=n) for j in range(X.shape[1])])

def noisy(X, n, rng, level=0.05):
    pick = X[rng.integers(0, len(X), size=n)]
    sd = X.std(axis=0) * level
    out = pick + rng.normal(size=pick.shape) * sd
    for j in range(X.shape[1]):   # few-valued columns keep their values
        vals = np.unique(X[:, j])
        if len(vals) <= 10:
            out[:, j] = pick[:, j]
    return out

def split(rows, rng):
    p = rng.permutation(len(rows))
    h = len(rows) // 2
    return [rows[i] for i in p[:h]], [rows[i] for i in p[h:]]

def own_cases(out, tag, head, train, holdout, cols):
    X = numeric_matrix(head, train, cols)
    dec = decimals(head, train, cols)
    for mult in (1, 5):
        n = mult * len(train)
        for kind, fn in (("copula", copula), ("indep", independent), ("noisy", noisy)):
            rng = np.random.default_rng(1000 * mult + len(kind))
            Y = fn(X, n, rng)
            case(out, "%s-%s-x%d" % (tag, kind, mult), cols, fmt(X, dec) and
                 [[r[head.index(c)] for c in cols] for r in train],
                 [[r[head.index(c)] for c in cols] for r in holdout], fmt(Y, dec), cols)
        for bins in (4, 16):   # nogan-synth: the driver writes synth.csv
            case(out, "%s-nogan%d-x%d" % (tag, bins, mult), cols,
                 [[r[head.index(c)] for c in cols] for r in train],
                 [[r[head.index(c)] for c in cols] for r in holdout], None, cols)

def main(shared, out):
    a = os.path.join(shared, "article-author")
    # insurance: Train/Validate and two vendors trained on Train
    head, rows = read(os.path.join(a, "insurance_compare_holdout.csv"))
    cols = ["age", "sex", "bmi", "children", "smoker", "charges"]
    by = {}
    for r in rows:
        by.setdefault(r[0], []).append([r[head.index(c)] for c in cols])
    for v in ("YData1", "YData2"):
        case(out, "insurance-" + v, cols, by["Train"], by["Validate"], by[v], cols)
    mixed = cols + ["region"]
    bym = {}
    for r in rows:
        bym.setdefault(r[0], []).append([r[head.index(c)] for c in mixed])
    case(out, "insurance-mixed-YData1", mixed, bym["Train"], bym["Validate"], bym["YData1"],
         mixed, ["region"])
    # in-sample: the vendors of insurance_compare.csv against its real rows
    # (region left out); the filter's reference is also the score's
    ih, ir = read(os.path.join(a, "insurance_compare.csv"))
    ih = [h for h in ih]
    iby = {}
    for r in ir:
        if r and r[0]:
            iby.setdefault(r[0], []).append([r[ih.index(c)] for c in cols])
    for v in sorted(k for k in iby if k != "Real"):
        name = "insample-" + v.replace(".", "")
        case(out, name, cols, iby["Real"], iby["Real"], iby[v], cols)
        open(os.path.join(out, name, "insample"), "w").close()
    # telecom: the author's NoGAN run
    t = os.path.join(a, "telecom-nogan-run")
    th, tr = read(os.path.join(t, "telecom_training_vg2.csv"))
    _, tv = read(os.path.join(t, "telecom_validation_vg2.csv"))
    sh, ts = read(os.path.join(t, "telecom_synth_vg2.csv"))
    tcols = ["tenure", "MonthlyCharges", "TotalChargeResidues", "Churn"]
    pick = lambda h, rs: [[r[h.index(c)] for c in tcols] for r in rs]
    case(out, "telecom-author-nogan", tcols, pick(th, tr), pick(th, tv), pick(sh, ts), tcols)
    # own synthesizers on train halves
    own_cases(out, "insurance", cols, by["Train"], by["Validate"], cols)
    own_cases(out, "telecom", tcols, pick(th, tr), pick(th, tv), tcols)
    dh, dr = read(os.path.join(a, "diabetes.csv"))
    dtr, dho = split(dr, np.random.default_rng(7))
    own_cases(out, "diabetes", dh, dtr, dho, dh)
    ch, cr = read(os.path.join(a, "circle8d.csv"))
    ctr, cho = split(cr, np.random.default_rng(8))
    own_cases(out, "circle8d", ch, ctr, cho, ch)

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
