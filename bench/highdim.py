#!/usr/bin/python3
"""bench/highdim.py — the high-dimension peers of bench/highdim.sh, and the
recall of any answer against pann's exact one.

  highdim.py recall TRUTH.csv ANSWER.csv
      recall@1 of pann-match's output ANSWER against pann-match --exact's;
      a query whose neighbour field is empty (none found within the budget)
      counts as a miss
  highdim.py peer NAME QUERY.npy REFERENCE.npy|self TRUTH.csv SETTING...
      build NAME's index of REFERENCE (QUERY itself, each row's own entry
      skipped, with 'self'), then query it at each SETTING; one line per
      setting: NAME, setting, build_s, query_s, total_s, recall.  total_s
      runs from the start of this process (imports and loading included).
      NAME: hnswlib (M 16, ef_construction 200; SETTING = ef), faiss-hnsw
      (M 32, efConstruction 80; SETTING = efSearch), faiss-ivf (IVF-Flat,
      inner product, SETTING = nlist:nprobe), numpy (exact: S @ T.T in
      blocks, argmax; SETTING ignored).
Rows are unit vectors (cosine = 1 - inner product), so every peer searches
by inner product.  Threads: OMP_NUM_THREADS (default 2) for all of them.
"""
import time

STARTED = time.perf_counter()

import csv  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

THREADS = int(os.environ.get("OMP_NUM_THREADS", "2"))


def answers(path):
    """The query and neighbor columns of a pann-match output, 0-based; a row
    whose neighbor field is empty (no neighbour found within the budget)
    has neighbor -1."""
    queries, found = [], []
    with open(path, newline="") as fp:
        rows = csv.reader(fp)
        next(rows, None)                      # the header
        for row in rows:
            if not row:
                continue
            queries.append(int(row[0]) - 1)
            field = row[1].strip() if len(row) > 1 else ""
            found.append(int(field) - 1 if field else -1)
    return np.array(queries, dtype=np.int64), np.array(found, dtype=np.int64)


def neighbours(path):
    """The neighbor column of a pann-match output, 0-based, in its row order;
    -1 where the field is empty."""
    return answers(path)[1]


def recall(truth, got):
    """Share of the truth's rows whose answer is the truth's neighbour; a
    row with no answer (-1) is a miss."""
    if truth.size == 0:
        return 0.0
    return float(np.mean((truth >= 0) & (truth == got)))


def recall_files(truth_path, answer_path):
    """recall@1 of one pann-match output against another, row by row of the
    truth's queries; a query absent from the answer is a miss."""
    tq, tn = answers(truth_path)
    aq, an = answers(answer_path)
    order = np.argsort(aq, kind="stable")
    aq, an = aq[order], an[order]
    at = np.minimum(np.searchsorted(aq, tq), max(aq.size - 1, 0))
    got = np.full(tq.size, -1, dtype=np.int64)
    if aq.size:
        present = aq[at] == tq
        got[present] = an[at[present]]
    return recall(tn, got)


def drop_self(ids, self):
    """Each row's first answer that is not the row itself (k = 2 asked)."""
    if not self:
        return ids[:, 0]
    rows = np.arange(ids.shape[0])
    return np.where(ids[:, 0] == rows, ids[:, 1], ids[:, 0])


def hnswlib_peer(S, T, self, settings):
    import hnswlib
    t = time.perf_counter()
    index = hnswlib.Index(space="ip", dim=T.shape[1])
    index.init_index(max_elements=T.shape[0], M=16, ef_construction=200, random_seed=1)
    index.add_items(T, num_threads=THREADS)
    build = time.perf_counter() - t
    for ef in settings:
        index.set_ef(max(int(ef), 2))
        t = time.perf_counter()
        ids, _ = index.knn_query(S, k=2 if self else 1, num_threads=THREADS)
        yield ef, build, time.perf_counter() - t, drop_self(ids.astype(np.int64), self)


def faiss_hnsw_peer(S, T, self, settings):
    import faiss
    faiss.omp_set_num_threads(THREADS)
    t = time.perf_counter()
    index = faiss.IndexHNSWFlat(T.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 80
    index.add(T)
    build = time.perf_counter() - t
    for ef in settings:
        index.hnsw.efSearch = int(ef)
        t = time.perf_counter()
        _, ids = index.search(S, 2 if self else 1)
        yield ef, build, time.perf_counter() - t, drop_self(ids, self)


def faiss_ivf_peer(S, T, self, settings):
    import faiss
    faiss.omp_set_num_threads(THREADS)
    built = {}
    for setting in settings:
        nlist, nprobe = (int(v) for v in setting.split(":"))
        if nlist not in built:
            t = time.perf_counter()
            quantizer = faiss.IndexFlatIP(T.shape[1])
            index = faiss.IndexIVFFlat(quantizer, T.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
            index.cp.seed = 1
            index.train(T)
            index.add(T)
            built = {nlist: (index, time.perf_counter() - t)}
        index, build = built[nlist]
        index.nprobe = nprobe
        t = time.perf_counter()
        _, ids = index.search(S, 2 if self else 1)
        yield setting, build, time.perf_counter() - t, drop_self(ids, self)


def numpy_peer(S, T, self, settings):
    t = time.perf_counter()
    best = np.empty(S.shape[0], dtype=np.int64)
    step = max(1, (1 << 27) // T.shape[0])     # 512 MB of products at a time
    for at in range(0, S.shape[0], step):
        prod = S[at:at + step] @ T.T
        if self:
            rows = np.arange(prod.shape[0])
            prod[rows, at + rows] = -np.inf
        best[at:at + step] = prod.argmax(axis=1)
    yield "exact", 0.0, time.perf_counter() - t, best


PEERS = {"hnswlib": hnswlib_peer, "faiss-hnsw": faiss_hnsw_peer, "faiss-ivf": faiss_ivf_peer,
         "numpy": numpy_peer}


def main():
    if sys.argv[1] == "recall":
        print("%.4f" % recall_files(sys.argv[2], sys.argv[3]))
        return
    name, qpath, rpath, tpath = sys.argv[2:6]
    settings = sys.argv[6:] or ["-"]
    S = np.ascontiguousarray(np.load(qpath), dtype=np.float32)
    self = rpath == "self"
    T = S if self else np.ascontiguousarray(np.load(rpath), dtype=np.float32)
    truth = neighbours(tpath)
    loaded = time.perf_counter() - STARTED
    for setting, build, query, got in PEERS[name](S, T, self, settings):
        print("%s\t%s\t%.2f\t%.2f\t%.2f\t%.4f" % (name, setting, build, query,
                                                  loaded + build + query, recall(truth, got)),
              flush=True)


if __name__ == "__main__":
    main()
