#!/usr/bin/python3
"""bench/gen_workloads.py — the benchmark workloads, generated with fixed
seeds (numpy only).  Usage: gen_workloads.py OUTDIR W1|W2|W3|W6|W7|W8 ...
(W7@ROWS, W8@ROWS: a smaller reference of the same law, for a quick run)

W1: S and T, 100,000 rows each, d = 10, a 10-component Gaussian mixture,
    standardized (by T's mean and sd).       -> w1-S.csv, w1-T.csv
W2: T 100,000 x 128, S 10,000 (embeddings).  -> w2-S.csv, w2-T.csv
W3: 50,000 x 10 (same mixture law as W1).    -> w3.csv
W6: S = T = 2,000,000 x 10 (mixture).        -> w6.csv
W7: T 1,000,000 x 256, S 10,000, embedding-like (below), float32 .npy
                                             -> w7-T.npy, w7-S.npy
W8: S = T = 200,000 x 256, the same law     -> w8.npy

The embedding-like law (W7, W8): 3,000 clusters with centres drawn from
N(0, I) in a 16-dimensional latent space, sizes from log-normal weights
(sigma 1: a few clusters hold many rows, most hold few), each cluster's
spread uniform in [0.05, 0.3] of a latent unit; a latent point is its
centre plus that spread times N(0, I); it is mapped to 256 dimensions by
a fixed Gaussian matrix (1/sqrt(256) per entry), N(0, 0.1^2) noise is
added to each coordinate, and the row is scaled to unit length.  The
query rows are new draws from the same clusters.
"""
import sys
import numpy as np


def mixture(rng, n, d, k=10):
    centres = rng.normal(0.0, 3.0, size=(k, d))
    scales = rng.uniform(0.5, 1.5, size=(k, 1))
    comp = rng.integers(0, k, size=n)
    return centres[comp] + rng.normal(size=(n, d)) * scales[comp]


def embedding_law(seed):
    """The latent clusters and the map to 256 dimensions (see above)."""
    law = np.random.default_rng(seed)
    centres = law.normal(size=(3000, 16))
    weights = law.lognormal(0.0, 1.0, size=3000)
    spread = law.uniform(0.05, 0.3, size=3000)
    basis = law.normal(size=(16, 256)) / 16.0
    return centres, weights / weights.sum(), spread, basis


def embeddings(law, rng, n, path, chunk=100_000):
    """n rows of the law as a float32 .npy file, written in chunks."""
    centres, weights, spread, basis = law
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, 256))
    for at in range(0, n, chunk):
        m = min(chunk, n - at)
        c = rng.choice(len(weights), size=m, p=weights)
        z = centres[c] + spread[c, None] * rng.normal(size=(m, 16))
        x = z @ basis + 0.1 * rng.normal(size=(m, 256))
        out[at:at + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    out.flush()
    del out


def write(path, x):
    header = ",".join(f"x{j + 1}" for j in range(x.shape[1]))
    np.savetxt(path, x, fmt="%.6g", delimiter=",", header=header, comments="")


def main():
    out, names = sys.argv[1], sys.argv[2:]
    for spec in names:
        name, _, rows = spec.partition("@")
        rng = np.random.default_rng({"W1": 1, "W2": 2, "W3": 3, "W6": 6, "W7": 7, "W8": 8}[name])
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
        elif name == "W7":
            law = embedding_law(17)
            embeddings(law, rng, int(rows or 1_000_000), f"{out}/w7-T.npy")
            embeddings(law, rng, 10_000, f"{out}/w7-S.npy")
        elif name == "W8":
            embeddings(embedding_law(18), rng, int(rows or 200_000), f"{out}/w8.npy")


if __name__ == "__main__":
    main()
