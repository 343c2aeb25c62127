#!/usr/bin/python3
"""bench/table.py — assembles the rows written by bench/peers.py (pann runs
and peers, all measured in the same run by bench/run.sh) into the one table
 with pann's time ratio to each peer, and checks the
targets against the measured ratios.  Usage: table.py ROWS.tsv

Ratios are peer time / pann time (> 1: pann is faster).  "vs exact" uses
pann's exact run (whole process, CSV reading included) against the peer's
build + query (its CSV reading not included); "same recall" uses pann's
fastest run whose recall is at least the peer's.
"""
import sys

COLUMNS = ["workload", "method", "read_s", "build_s", "query_s", "total_s", "cpu_s",
           "recall", "dist_ratio", "rss_mb", "exact", "note"]


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            vals = line.rstrip("\n").split("\t")
            rows.append(dict(zip(COLUMNS, vals + [""] * (len(COLUMNS) - len(vals)))))
    return rows


def pann_runs(rows, w):
    return [r for r in rows if r["workload"] == w and r["method"].startswith("pann")
            and num(r["total_s"]) is not None]


def exact_run(rows, w):
    e = [r for r in pann_runs(rows, w) if r["exact"] == "yes"]
    return min(e, key=lambda r: num(r["total_s"])) if e else None


def fastest_at(rows, w, recall, exact_only=False):
    ok = [r for r in pann_runs(rows, w)
          if num(r["recall"]) is not None and num(r["recall"]) >= recall - 1e-12
          and (r["exact"] == "yes" or not exact_only)]
    return min(ok, key=lambda r: num(r["total_s"])) if ok else None


def fmt(v, width, prec=2):
    x = num(v) if isinstance(v, str) else v
    if x is None:
        return f"{v if isinstance(v, str) and v else '-':>{width}}"
    return f"{x:>{width}.{prec}f}"


def ratio(a, b):
    a, b = num(a), num(b)
    return f"{a / b:.1f}x" if a is not None and b else "-"


def print_table(rows):
    head = (f"{'work':4} {'method':26} {'read s':>6} {'build s':>8} {'query s':>8} {'total s':>8} "
            f"{'cpu s':>7} {'recall':>6} {'dist/ex':>7} {'RSS MB':>7} {'vs exact':>8} {'cpu':>6} {'same rec':>8}")
    print(head)
    print("-" * len(head))
    last = None
    for r in rows:
        w = r["workload"]
        if last and w != last:
            print()
        last = w
        vs_exact = vs_cpu = vs_same = ""
        if not r["method"].startswith("pann"):
            ex = exact_run(rows, w)
            if ex:
                vs_exact = ratio(r["total_s"], ex["total_s"])
                vs_cpu = ratio(r["cpu_s"], ex["cpu_s"])
            rec = num(r["recall"])
            same = fastest_at(rows, w, rec) if rec is not None else None
            if same:
                vs_same = ratio(r["total_s"], same["total_s"])
        print(f"{w:4} {r['method'][:26]:26} {fmt(r['read_s'], 6)} {fmt(r['build_s'], 8)} "
              f"{fmt(r['query_s'], 8)} {fmt(r['total_s'], 8)} {fmt(r['cpu_s'], 7)} "
              f"{fmt(r['recall'], 6, 4)} {fmt(r['dist_ratio'], 7, 4)} {fmt(r['rss_mb'], 7, 0)} "
              f"{vs_exact or '':>8} {vs_cpu or '':>6} {vs_same or '':>8}"
              + ("" if r["note"].startswith(("whole", "total")) else f"  [{r['note']}]"))
    print("recall: recall@1 (W3: recall@10) against the exact reference; dist/ex: mean distance"
          " found / exact mean")
    print("pann rows: whole process (CSV reading included), wall s by /usr/bin/time; peers: build"
          " + query wall s in the process, their numpy CSV read (read s) not included")
    print("vs exact = peer total / pann exact total (cpu: the same in CPU seconds, build + query"
          " vs whole process); same rec = peer total / pann's fastest run with recall >= the"
          " peer's (> 1x: pann faster)")


def peer(rows, w, name):
    r = [x for x in rows if x["workload"] == w and x["method"] == name and num(x["total_s"])]
    return r[0] if r else None


def cpu_ratio(a, b):
    x, y = num(a["cpu_s"]), num(b["cpu_s"])
    return f", {x / y:.1f}x in CPU s" if x is not None and y else ""


def verdict(label, value, goal, ok, why=""):
    state = "MET" if ok else "NOT MET"
    print(f"{label}: {value} (target {goal}) -> {state}" + (f"; {why}" if why and not ok else ""))


def targets(rows):
    print("\nTargets (ratios from this run, wall time):")
    ex1 = exact_run(rows, "W1")
    ck = peer(rows, "W1", "ckdtree")
    if ex1 and ck:
        x = num(ck["total_s"]) / num(ex1["total_s"])
        verdict("W1 exact vs cKDTree", f"{x:.1f}x{cpu_ratio(ck, ex1)}", ">= 10x", x >= 10)
    any1 = [r for r in pann_runs(rows, "W1") if r["exact"] != "yes" and num(r["recall"]) >= 0.98]
    hn = peer(rows, "W1", "faiss-hnsw")
    if ex1:
        if any1:
            best = min(any1, key=lambda r: num(r["total_s"]))
            a = num(ex1["total_s"]) / num(best["total_s"])
            verdict(f"W1 anytime recall>=0.98 ({best['method']}, recall {num(best['recall']):.4f})"
                    " vs pann exact", f"{a:.2f}x faster", "> 1x", a > 1)
            if hn:
                b = num(hn["total_s"]) / num(best["total_s"])
                verdict("W1 anytime recall>=0.98 vs FAISS-HNSW build+query",
                        f"{b:.1f}x{cpu_ratio(hn, best)}", ">= 5x", b >= 5)
        else:
            print("W1 anytime: no pann anytime run reached recall 0.98 -> NOT MET")
    ex6 = exact_run(rows, "W6")
    any6 = [r for r in pann_runs(rows, "W6") if r["exact"] != "yes" and num(r["recall"]) >= 0.95]
    if ex6 and any6:
        best = min(any6, key=lambda r: num(r["total_s"]))
        f = num(best["total_s"]) / num(ex6["total_s"])
        verdict(f"W6 recall>=0.95 ({best['method']}) time / pann exact", f"{f:.2f}", "<= 0.10", f <= 0.10)
    elif any6:
        print("W6: pann exact not run; no ratio")
    elif [r for r in rows if r["workload"] == "W6"]:
        print("W6: no pann anytime run reached recall 0.95 -> NOT MET")
    ex2, hl = exact_run(rows, "W2"), peer(rows, "W2", "hnswlib")
    if ex2 and hl:
        x = num(hl["total_s"]) / num(ex2["total_s"])
        verdict("W2 exact vs hnswlib build+query", f"{x:.1f}x{cpu_ratio(hl, ex2)}", ">= 10x", x >= 10)
    ex3 = exact_run(rows, "W3")
    for name, goal, need in (("ckdtree", ">= 10x", 10), ("pynndescent", "> 1x", 1)):
        p = peer(rows, "W3", name)
        if ex3 and p:
            x = num(p["total_s"]) / num(ex3["total_s"])
            verdict(f"W3 exact vs {name}", f"{x:.1f}x{cpu_ratio(p, ex3)}", goal, x >= need if need > 1 else x > 1)
    bad = [r for r in rows if r["exact"] == "yes" and num(r["recall"]) is not None
           and num(r["recall"]) < 0.9999]
    for r in bad:
        print(f"WARNING: {r['workload']} {r['method']} is exact but recall {r['recall']}: "
              "reference or method wrong")


def memory(rows, meta_path):
    """Peak RSS of pann's exact runs against 2x the input matrices (float32)
    plus the answers (O(n K): index and distance, 8 bytes per entry), above
    the RSS of a pann process on the 200-row example (libraries, threads)."""
    meta = {}
    with open(meta_path) as f:
        for line in f:
            v = line.split()
            meta[v[0]] = v[1:]
    base = float(meta.get("base", ["0"])[0])
    for w in ("W1", "W2", "W3", "W6"):
        ex = exact_run(rows, w)
        if w not in meta or not ex:
            continue
        nq, nr, d, k = (int(x) for x in meta[w])
        inp = (nq + nr) * d * 4 / 2**20
        allowed = 2 * inp + nq * k * 8 / 2**20
        used = num(ex["rss_mb"]) - base
        verdict(f"memory {w} ({ex['method']})", f"{num(ex['rss_mb']):.0f} MB peak RSS = {base:.0f} MB"
                f" process base + {used:.0f} MB; input matrices {inp:.0f} MB",
                f"<= 2x input + O(nK) = {allowed:.0f} MB", used <= allowed)


def main():
    rows = load(sys.argv[1])
    print_table(rows)
    targets(rows)
    if len(sys.argv) > 2:
        memory(rows, sys.argv[2])


if __name__ == "__main__":
    main()
