#!/usr/bin/python3
"""bench/gen_workloads.py — the benchmark workloads, generated
with fixed seeds (numpy only).  Usage: gen_workloads.py OUTDIR W1|W2|W3|W6 ...

W1: S and T, 100,000 rows each, d = 10, a 10-component Gaussian mixture,
    standardized (by T's mean and sd).       -> w1-S.csv, w1-T.csv
W2: T 100,000 x 128, S 10,000 (embeddings).  -> w2-S.csv, w2-T.csv
W3: 50,000 x 10 (same mixture law as W1).    -> w3.csv
W6: S = T = 2,000,000 x 10 (mixture).        -> w6.csv
"""
import sys
import numpy as np


def mixture(rng, n, d, k=10):
    centres = rng.normal(0.0, 3.0, size=(k, d))
    scales = rng.uniform(0.5, 1.5, size=(k, 1))
    comp = rng.integers(0, k, size=n)
    return centres[comp] + rng.normal(size=(n, d)) * scales[comp]


def write(path, x):
    header = ",".join(f"x{j + 1}" for j in range(x.shape[1]))
    np.savetxt(path, x, fmt="%.6g", delimiter=",", header=header, comments="")


def main():
    out, names = sys.argv[1], sys.argv[2:]
    for name in names:
        rng = np.random.default_rng({"W1": 1, "W2": 2, "W3": 3, "W6": 6}[name])
        if name == "W1":
            law = np.random.default_rng(11)
            both = mixture(law, 200_000, 10)
            rng.shuffle(both)
            t, s = both[:100_000], both[100_000:]
            mu, sd = t.mean(0), t.std(0)
            write(f"{out}/w1-T.csv", (t - mu) / sd)
            write(f"{out}/w1-S.csv", (s - mu) / sd)
        elif name == "W2":
            basis = rng.normal(size=(32, 128))
            t = rng.normal(size=(100_000, 32)) @ basis + 0.5 * rng.normal(size=(100_000, 128))
            s = rng.normal(size=(10_000, 32)) @ basis + 0.5 * rng.normal(size=(10_000, 128))
            write(f"{out}/w2-T.csv", t)
            write(f"{out}/w2-S.csv", s)
        elif name == "W3":
            x = mixture(np.random.default_rng(13), 50_000, 10)
            write(f"{out}/w3.csv", (x - x.mean(0)) / x.std(0))
        elif name == "W6":
            x = mixture(np.random.default_rng(16), 2_000_000, 10)
            write(f"{out}/w6.csv", (x - x.mean(0)) / x.std(0))


if __name__ == "__main__":
    main()
