#!/usr/bin/python3
"""bench/peers.py — the nearest-neighbour libraries a user would reach for
instead of pann (scipy cKDTree, scikit-learn, FAISS, hnswlib, pynndescent),
run on the benchmark workloads, and the scoring of every method (peers and
pann's own output) against the same exact reference.  Owns: loading the
workload CSVs once into .npy caches, one child process per peer (so each
peer's peak RSS is its own, read by /usr/bin/time -v), recall and the
mean-distance ratio, and one TSV row per method for bench/table.py.

Usage (bench/run.sh drives it):
  peers.py prepare W DIR              CSV -> .npy, records numpy's read time
  peers.py reference W DIR [Q]        exact distances of Q sampled queries by
                                      cKDTree (W6, where pann's exact is long)
  peers.py peers W DIR OUT.tsv [--timeout=S] [--only=a,b]
                                      every installed peer, scored
  peers.py pann W DIR LABEL CSV TIMEFILE OUT.tsv [NOTE]
                                      score one pann output file
  peers.py child PEER W DIR OUT.npz   (internal) one peer in this process
Workloads: W1 (S vs T, L1, 1-NN), W2 (S vs T, cosine, 1-NN), W3 (self,
L1, K = 10), W6 (self, L1, 1-NN).  Files: w1-S.csv w1-T.csv, w2-S.csv
w2-T.csv, w3.csv, w6.csv in DIR.  Rows written: workload, method, read_s,
build_s, query_s, total_s, cpu_s, recall, dist_ratio, rss_mb, exact, note.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np

PY = "/usr/bin/python3"
SPEC = {  # files (query, reference or None = self), metric, K
    "W1": ("w1-S", "w1-T", "l1", 1),
    "W2": ("w2-S", "w2-T", "cosine", 1),
    "W3": ("w3", None, "l1", 10),
    "W6": ("w6", None, "l1", 1),
}
# Peers per workload, in table order.  hnswlib has no L1 space, so it only
# runs on the cosine workload; the brute-force and tree peers that would
# take many minutes on W6 are left out there (a line says so).
PEERS = {
    "W1": ["ckdtree", "sklearn-kdtree", "faiss-flat", "faiss-hnsw", "pynndescent"],
    "W2": ["hnswlib", "faiss-flat", "pynndescent"],
    "W3": ["ckdtree", "sklearn-kdtree", "faiss-flat", "faiss-hnsw", "pynndescent"],
    "W6": ["ckdtree"],
}
MODULE = {"ckdtree": "scipy", "sklearn-kdtree": "sklearn", "sklearn-brute": "sklearn",
          "faiss-flat": "faiss", "faiss-hnsw": "faiss", "hnswlib": "hnswlib",
          "pynndescent": "pynndescent"}
EXACT_PEERS = {"ckdtree", "sklearn-kdtree", "sklearn-brute", "faiss-flat"}
COLUMNS = ["workload", "method", "read_s", "build_s", "query_s", "total_s", "cpu_s",
           "recall", "dist_ratio", "rss_mb", "exact", "note"]


def load(path):
    """A workload matrix from its .npy cache (made by 'prepare')."""
    return np.load(path[:-4] + ".npy") if path.endswith(".csv") else np.load(path)


def matrices(w, d):
    q, r, metric, k = SPEC[w]
    Q = load(f"{d}/{q}.npy")
    R = Q if r is None else load(f"{d}/{r}.npy")
    return Q, R, metric, k, r is None


def cpu_now():
    ru = __import__("resource").getrusage(0)
    return ru.ru_utime + ru.ru_stime


def distances(Q, R, metric, qi, nn):
    """Distances in float64 of query rows qi to reference rows nn (qi, k)."""
    a = Q[qi][:, None, :].astype(np.float64)
    b = R[nn].astype(np.float64)
    if metric == "l1":
        return np.abs(a - b).sum(axis=2)
    an = np.linalg.norm(a, axis=2)
    bn = np.linalg.norm(b, axis=2)
    return 1.0 - (a * b).sum(axis=2) / (an * bn)


# ---------------------------------------------------------------- peers
def run_peer(peer, Q, R, metric, k, self_join, qrows=None):
    """Build on R and query the rows qrows of Q (all when None); returns
    (build s, query s, neighbours (queries, k))."""
    qrows = np.arange(len(Q)) if qrows is None else qrows
    kq = k + 1 if self_join else k
    threads = os.cpu_count()
    if metric == "cosine" and peer not in ("hnswlib", "sklearn-brute", "pynndescent"):
        # cosine order = L2 order (or inner-product order) of unit vectors
        Q = Q / np.linalg.norm(Q, axis=1, keepdims=True)
        R = Q if self_join else R / np.linalg.norm(R, axis=1, keepdims=True)
    Q = Q[qrows]
    t0 = time.perf_counter()
    if peer == "ckdtree":
        from scipy.spatial import cKDTree
        tree = cKDTree(R)
        t1 = time.perf_counter()
        _, nn = tree.query(Q, k=kq, p=1 if metric == "l1" else 2, workers=-1)
    elif peer.startswith("sklearn"):
        from sklearn.neighbors import NearestNeighbors
        algo = "kd_tree" if peer == "sklearn-kdtree" else "brute"
        m = "manhattan" if metric == "l1" else "cosine"
        nnm = NearestNeighbors(n_neighbors=kq, algorithm=algo, metric=m, n_jobs=-1).fit(R)
        t1 = time.perf_counter()
        _, nn = nnm.kneighbors(Q)
    elif peer.startswith("faiss"):
        import faiss
        faiss.omp_set_num_threads(threads)
        fm = faiss.METRIC_L1 if metric == "l1" else faiss.METRIC_INNER_PRODUCT
        dim = R.shape[1]
        if peer == "faiss-flat":
            index = faiss.IndexFlat(dim, fm)
        else:
            index = faiss.IndexHNSWFlat(dim, 32, fm)
            index.hnsw.efConstruction = 40
        index.add(np.ascontiguousarray(R, dtype=np.float32))
        t1 = time.perf_counter()
        if peer == "faiss-hnsw":
            index.hnsw.efSearch = 64
        _, nn = index.search(np.ascontiguousarray(Q, dtype=np.float32), kq)
    elif peer == "hnswlib":
        import hnswlib
        index = hnswlib.Index(space="cosine" if metric == "cosine" else "l2", dim=R.shape[1])
        index.init_index(max_elements=len(R), ef_construction=200, M=16)
        index.set_num_threads(threads)
        index.add_items(R)
        t1 = time.perf_counter()
        index.set_ef(50)
        nn, _ = index.knn_query(Q, k=kq)
    elif peer == "pynndescent":
        from pynndescent import NNDescent
        m = "manhattan" if metric == "l1" else "cosine"
        index = NNDescent(R, metric=m, n_neighbors=max(30, kq), n_jobs=-1, random_state=1)
        if self_join:  # the K-NN graph is what NN-descent builds: no query
            t1 = time.perf_counter()
            nn = index.neighbor_graph[0][qrows, :kq]
        else:
            index.prepare()
            t1 = time.perf_counter()
            nn, _ = index.query(Q, k=kq)
    else:
        raise SystemExit(f"peers.py: unknown peer {peer}")
    t2 = time.perf_counter()
    nn = np.asarray(nn, dtype=np.int64).reshape(len(Q), kq)
    if self_join:  # drop the row itself (or, if a method missed it, the last)
        keep = nn != qrows[:, None]
        keep[keep.sum(axis=1) > k, -1] = False
        nn = nn[keep].reshape(len(Q), k)
    return t1 - t0, t2 - t1, nn


def child(peer, w, d, out):
    Q, R, metric, k, self_join = matrices(w, d)
    warm = 0.0
    if peer == "pynndescent":
        # numba compiles pynndescent on first use in every process (a minute
        # on a busy machine): done on 2,000 rows first and reported apart
        t = time.perf_counter()
        run_peer(peer, Q[:2000], Q[:2000] if self_join else R[:2000], metric, k, self_join)
        warm = time.perf_counter() - t
    qrows = None
    if w == "W6":  # queries: the reference's sample (all 2,000,000 take hours)
        qrows = reference(w, d)[0]
    c0 = cpu_now()
    build, query, nn = run_peer(peer, Q, R, metric, k, self_join, qrows)
    np.save(out, nn)
    share = 1.0 if qrows is None else len(Q) / len(qrows)
    print(json.dumps({"build": build, "query": query * share, "cpu": cpu_now() - c0,
                      "warm": warm, "share": share}))


def time_v(path):
    """Wall seconds, CPU seconds and peak RSS (MB) from /usr/bin/time -v."""
    wall = cpu = rss = float("nan")
    with open(path) as f:
        for line in f:
            key, _, val = line.strip().rpartition(": ")
            if key.startswith("Elapsed (wall clock)"):
                wall = 0.0
                for part in val.split(":"):
                    wall = wall * 60 + float(part)
            elif key in ("User time (seconds)", "System time (seconds)"):
                cpu = (0.0 if cpu != cpu else cpu) + float(val)
            elif key == "Maximum resident set size (kbytes)":
                rss = float(val) / 1024
    return wall, cpu, rss


# ---------------------------------------------------------------- scoring
def reference(w, d):
    """(query rows, exact distances (n, k)) and where they come from."""
    ref = f"{d}/{w.lower()}-ref.npz"
    if os.path.exists(ref):
        z = np.load(ref)
        return z["qi"], z["dist"], str(z["source"])
    raise SystemExit(f"peers.py: no exact reference {ref} (run 'reference' or score pann --exact first)")


def score(w, d, nn, sampled=False):
    """recall (share of queries, or of the K list entries, at exact
    distance within float tolerance) and mean-distance ratio to exact."""
    Q, R, metric, k, _ = matrices(w, d)
    qi, dref, source = reference(w, d)
    found = distances(Q, R, metric, qi, nn if sampled else nn[qi])
    found.sort(axis=1)
    tol = 1e-5 * np.abs(dref[:, -1:]) + 1e-9
    hits = np.minimum((found <= dref[:, -1:] + tol).sum(axis=1), k)
    return hits.sum() / (len(qi) * k), found.mean() / dref.mean(), source


def make_reference(w, d, nq=None, nn=None, source=None):
    """Exact distances of the reference rows: from a pann --exact neighbour
    array (nn, all queries), or by cKDTree on nq sampled queries."""
    Q, R, metric, k, self_join = matrices(w, d)
    if nn is not None:
        qi = np.arange(len(Q))
    else:
        from scipy.spatial import cKDTree
        qi = np.sort(np.random.default_rng(9).choice(len(Q), size=min(nq, len(Q)), replace=False))
        _, nn = cKDTree(R).query(Q[qi], k=k + self_join, p=1, workers=-1)
        nn = nn.reshape(len(qi), -1)
        if self_join:
            keep = nn != qi[:, None]
            keep[keep.sum(axis=1) > k, -1] = False
            nn = nn[keep].reshape(len(qi), k)
        source = f"cKDTree exact on {len(qi)} sampled queries"
    dist = np.sort(distances(Q, R, metric, qi, nn), axis=1)
    np.savez(f"{d}/{w.lower()}-ref.npz", qi=qi, dist=dist, source=source)


def row(out, **kw):
    vals = []
    for c in COLUMNS:
        v = kw.get(c, "")
        vals.append(f"{v:.4f}" if isinstance(v, float) else str(v))
    with open(out, "a") as f:
        f.write("\t".join(vals) + "\n")


def pann_neighbours(path, n, k):
    """pann-match (query,neighbor,...) or pann-knn (query,rank,neighbor,...)
    CSV -> 0-based neighbours (n, k)."""
    with open(path) as f:
        head = f.readline().strip().split(",")
    col = head.index("neighbor")
    nn = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(col,), dtype=np.int64, ndmin=1)
    return nn.reshape(n, k) - 1


def cmd_pann(w, d, label, csv, timefile, out, note=""):
    Q, _, _, k, _ = matrices(w, d)
    nn = pann_neighbours(csv, len(Q), k)
    exact = "--exact" in label or "leaves=0" in label
    if exact and not os.path.exists(f"{d}/{w.lower()}-ref.npz"):
        make_reference(w, d, nn=nn, source=f"pann {label}, all queries")
    wall, cpu, rss = time_v(timefile)
    recall, ratio, source = score(w, d, nn)
    row(out, workload=w, method=f"pann {label}", read_s="-", build_s="-", query_s="-",
        total_s=wall, cpu_s=cpu, recall=recall, dist_ratio=ratio, rss_mb=rss,
        exact="yes" if exact else "no", note=note or "whole process incl. CSV read")


def cmd_peers(w, d, out, timeout, only):
    peers = [p for p in PEERS[w] if not only or p in only]
    read_s = open(f"{d}/{w.lower()}-read.txt").read().strip()
    for peer in peers:
        try:
            __import__(MODULE[peer])
        except Exception:
            print(f"peers.py: {peer}: python module {MODULE[peer]} not installed; skipped",
                  file=sys.stderr)
            continue
        npz, tv = f"{d}/{w.lower()}-{peer}.npy", f"{d}/{w.lower()}-{peer}.time"
        cmd = ["/usr/bin/time", "-v", "-o", tv, PY, os.path.abspath(__file__),
               "child", peer, w, d, npz]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            row(out, workload=w, method=peer, read_s=read_s, build_s="-", query_s="-",
                total_s=f">{timeout}", note=f"stopped after {timeout} s")
            continue
        if p.returncode != 0:
            msg = (p.stderr.strip().splitlines() or ["?"])[-1]
            row(out, workload=w, method=peer, note=f"failed: {msg[:80]}")
            continue
        t = json.loads(p.stdout.strip().splitlines()[-1])
        _, _, rss = time_v(tv)
        sampled = t["share"] != 1.0
        recall, ratio, _ = score(w, d, np.load(npz), sampled)
        note = "total = build + query, CSV read (numpy) not included"
        if t["warm"]:
            note = f"numba JIT warm-up {t['warm']:.0f} s not included"
        if sampled:
            note = (f"query s extrapolated from {len(np.load(npz))} sampled queries "
                    f"(x{t['share']:.0f}); cpu s not")
        row(out, workload=w, method=peer, read_s=read_s, build_s=t["build"],
            query_s=t["query"], total_s=t["build"] + t["query"], cpu_s="-" if sampled else t["cpu"],
            recall=recall, dist_ratio=ratio, rss_mb=rss,
            exact="yes" if peer in EXACT_PEERS else "no",
            note=note)
    if w == "W2":
        print("peers.py: W2: the k-d trees left out (in 128 dimensions they visit nearly every"
              " leaf); scikit-learn brute force and FAISS HNSW left out for time (FAISS flat is"
              " the exact peer, hnswlib the graph one)",
              file=sys.stderr)
    if w == "W6":
        print("peers.py: W6: scikit-learn, FAISS and pynndescent left out to keep the run"
              " short; cKDTree answers the 2,000 sampled queries", file=sys.stderr)


def cmd_prepare(w, d):
    q, r, _, _, = SPEC[w]
    t0 = time.perf_counter()
    for name in filter(None, (q, r)):
        x = np.loadtxt(f"{d}/{name}.csv", delimiter=",", skiprows=1, dtype=np.float32, ndmin=2)
        np.save(f"{d}/{name}.npy", x)
    with open(f"{d}/{w.lower()}-read.txt", "w") as f:
        f.write(f"{time.perf_counter() - t0:.2f}\n")


def main(a):
    if len(a) < 3:
        raise SystemExit(__doc__)
    cmd, w, d = a[0], a[1], a[2]
    if cmd == "prepare":
        cmd_prepare(w, d)
    elif cmd == "reference":
        make_reference(w, d, nq=int(a[3]) if len(a) > 3 else 2000)
    elif cmd == "child":
        child(w, d, a[3], a[4])  # child PEER W DIR OUT
    elif cmd == "pann":
        cmd_pann(w, d, a[3], a[4], a[5], a[6], a[7] if len(a) > 7 else "")
    elif cmd == "peers":
        opts = dict(o[2:].split("=", 1) for o in a[4:] if o.startswith("--"))
        only = set(opts["only"].split(",")) if "only" in opts else None
        cmd_peers(w, d, a[3], float(opts.get("timeout", 600)), only)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
