"""The agent's memory on a generated LongMemEval-style set: retrieval quality, latency, durability.

    nice -n 5 python bench/memory.py            # 500 questions, 10k and 100k memories, 100 kill -9 trials
    nice -n 5 python bench/memory.py --quick    # 100 questions, 10k memories, 10 trials

1. Retrieval. 20 generated histories of 30-50 sessions each (bench/memory_data.py),
   every turn a memory (kind "message", its session's time) embedded by
   all-MiniLM-L6-v2 through llmos's SentenceEncoder; 500 questions, 100 per
   ability. For hybrid (keywords + meaning fused by RRF), keyword-only (FTS5
   bm25) and vector-only (sqlite-vec cosine) retrieval: evidence recall@5 (the
   share of a question's evidence turns in the top 5) and nDCG@10 (binary
   relevance), over the four answerable abilities; a question naming a month
   is filtered to that month in every mode. Abstention questions have no
   evidence: reported is how many fall below a top-1 similarity threshold that
   95% of answerable questions clear.
2. Latency at 10k and 100k memories: one committed write (row + FTS5 + vector,
   WAL, synchronous=FULL; vector given) and one search (query vector given),
   p50 and p95; the query's embedding time is reported on its own. Embedding
   100k texts with MiniLM on two shared cores takes about an hour, so the
   latency stores hold generated texts whose vectors are the real vectors of
   the retrieval set plus, beyond those, normalised mixtures of two of them
   with a little noise (the same distribution of directions, for timing only).
3. Durability: 100 trials of a writer process killed with SIGKILL mid-write
   (single writes and 50-row batches, alternately); lost = ids the writer
   reported committed that the reopened store lacks, or rows without their
   vector or keyword entry.

Embeddings of the generated set are cached (default /tmp/llmos-bench-cache).
Writes bench/results/memory.json and prints a table with the machine load.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
from memory_data import ABILITIES, generate  # noqa: E402

from llmos.agent.memory.embedder import HashEmbedder, MiniLMEmbedder  # noqa: E402
from llmos.agent.memory.retrieval import search, time_window  # noqa: E402
from llmos.agent.memory.store import COARSE_FROM, MemoryStore  # noqa: E402

MODES = ("hybrid", "keyword", "vector")


class _Fixed:
    """An embedder that hands back precomputed vectors (the store checks its name and width)."""

    name, dim = MiniLMEmbedder.name, MiniLMEmbedder.dim

    def __init__(self, table: dict[str, np.ndarray] | None = None):
        self.table = table or {}

    def embed(self, texts):
        return np.stack([self.table[t] for t in texts])


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(math.ceil(p / 100 * len(xs))) - 1)]


def embed_cached(texts: list[str], cache: Path) -> np.ndarray:
    key = hashlib.sha1("\n".join(texts).encode()).hexdigest()[:16]
    path = cache / f"minilm-{key}.npy"
    if path.exists():
        return np.load(path)
    from rich.progress import Progress

    enc = MiniLMEmbedder(batch_size=64)
    out = np.zeros((len(texts), enc.dim), np.float32)
    with Progress(transient=True) as bar:
        task = bar.add_task(f"embedding {len(texts)} texts (MiniLM)", total=len(texts))
        for i in range(0, len(texts), 256):
            out[i:i + 256] = enc.embed(texts[i:i + 256])
            bar.update(task, advance=len(texts[i:i + 256]))
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


# ----------------------------------------------------------------------------- 1. retrieval

def retrieval(histories, questions, vectors: dict[str, np.ndarray], tmp: Path) -> dict:
    stores = {}
    for h in histories:
        turns = h.turns
        store = MemoryStore(tmp / f"{h.person}.sqlite3", _Fixed(vectors), person=h.person, synchronous="OFF")
        store.add_many([{"kind": "message", "text": t.text, "session": t.id.rsplit("-t", 1)[0],
                         "created_at": t.time, "source": t.role} for t in turns],
                       np.stack([vectors[t.text] for t in turns]))
        ids = {i.id: t.id for i, t in zip(store.items(limit=10**6, newest_first=False), turns)}
        stores[h.person] = (store, ids)
    per = {m: {a: {"recall@5": [], "ndcg@10": []} for a in ABILITIES if a != "abstention"} for m in MODES}
    top_sim = {"answerable": [], "abstention": []}
    for q in questions:
        store, ids = stores[q.person]
        qv = vectors[q.text]
        since, until = time_window(q.text)
        for mode in MODES:
            hits = search(store, q.text, k=10, mode=mode, since=since, until=until, query_vector=qv)
            got = [ids[h.item.id] for h in hits]
            if mode == "vector":
                best = store.vector(qv, 1, since=since, until=until)
                top_sim["abstention" if not q.evidence else "answerable"].append(1 - best[0][1] if best else 0.0)
            if not q.evidence:
                continue
            ev = set(q.evidence)
            recall = len(ev & set(got[:5])) / len(ev)
            dcg = sum(1 / math.log2(r + 2) for r, g in enumerate(got[:10]) if g in ev)
            ideal = sum(1 / math.log2(r + 2) for r in range(min(len(ev), 10)))
            per[mode][q.ability]["recall@5"].append(recall)
            per[mode][q.ability]["ndcg@10"].append(dcg / ideal)
    for store, _ in stores.values():
        store.close()
    out = {}
    for mode in MODES:
        allr = [x for a in per[mode].values() for x in a["recall@5"]]
        alln = [x for a in per[mode].values() for x in a["ndcg@10"]]
        out[mode] = {"recall@5": round(statistics.mean(allr), 4), "ndcg@10": round(statistics.mean(alln), 4),
                     "by_ability": {a: {k: round(statistics.mean(v), 4) for k, v in d.items()}
                                    for a, d in per[mode].items()}}
    threshold = _pct(top_sim["answerable"], 5)
    abst = top_sim["abstention"]
    out["abstention"] = {"threshold_top1_cosine": round(threshold, 4),
                         "below_threshold": round(sum(s < threshold for s in abst) / max(1, len(abst)), 4),
                         "mean_top1_cosine_answerable": round(statistics.mean(top_sim["answerable"]), 4),
                         "mean_top1_cosine_abstention": round(statistics.mean(abst), 4) if abst else None}
    return out


# ----------------------------------------------------------------------------- 2. latency

def latency(n: int, histories, questions, vectors: dict[str, np.ndarray], tmp: Path, seed: int = 1) -> dict:
    from rich.progress import Progress

    rng = np.random.default_rng(seed)
    base = np.stack(list(vectors.values()))
    texts = [t.text for h in histories for t in h.turns]
    extra_seed = 100
    while len(texts) < n + 400:
        more, _ = generate(n_histories=20, per_ability=5, seed=extra_seed)
        texts += [t.text for h in more for t in h.turns]
        extra_seed += 1
    texts = texts[:n + 400]

    def vecs(count: int, start: int) -> np.ndarray:
        out = np.empty((count, base.shape[1]), np.float32)
        for j in range(count):
            i = start + j
            if i < len(base):
                out[j] = base[i]
            else:   # a mixture of two real vectors, plus noise, renormalised
                a, b = rng.integers(0, len(base), 2)
                v = 0.7 * base[a] + 0.3 * base[b] + 0.05 * rng.standard_normal(base.shape[1])
                out[j] = v / np.linalg.norm(v)
        return out

    path = tmp / f"latency-{n}.sqlite3"
    store = MemoryStore(path, _Fixed(), person="bench")
    t0 = time.perf_counter()
    with Progress(transient=True) as bar:
        task = bar.add_task(f"filling {n} memories", total=n)
        for i in range(0, n, 2000):
            m = min(2000, n - i)
            store.add_many([{"kind": "message", "text": texts[i + j], "created_at": 1.7e9 + i + j}
                            for j in range(m)], vecs(m, i))
            bar.update(task, advance=m)
    fill_s = time.perf_counter() - t0
    # wall time on this (shared, loaded) machine, and the CPU time the call itself used: on an idle
    # core the single-threaded SQLite work would take about its CPU time
    writes, writes_cpu = [], []
    wv = vecs(300, n)
    for j in range(300):
        t, c = time.perf_counter(), time.process_time()
        store.add("message", texts[n + j], vector=wv[j])
        writes.append((time.perf_counter() - t) * 1000)
        writes_cpu.append((time.process_time() - c) * 1000)
    qs = [q for q in questions if q.evidence][:200]
    # a fresh process: the first search above COARSE_FROM fills the in-memory bit index from the file
    store.close()
    store = MemoryStore(path, _Fixed(), person="bench")
    t = time.perf_counter()
    search(store, qs[0].text, k=10, mode="vector", query_vector=vectors[qs[0].text])
    first_ms = (time.perf_counter() - t) * 1000
    timings = {m: [] for m in MODES}
    cpu = {m: [] for m in MODES}
    for q in qs:
        for mode in MODES:
            t, c = time.perf_counter(), time.process_time()
            search(store, q.text, k=10, mode=mode, query_vector=vectors[q.text])
            timings[mode].append((time.perf_counter() - t) * 1000)
            cpu[mode].append((time.process_time() - c) * 1000)
    agreement = None
    if n > COARSE_FROM:   # how often the bit-vector first pass keeps the exact top 10
        overlap = []
        for q in qs[:20]:
            qv = vectors[q.text]
            exact = {r[0] for r in store.db.execute("SELECT rowid FROM items_vec WHERE embedding MATCH ? "
                                                    "AND k = 10 AND live = 1", (qv.tobytes(),))}
            overlap.append(len(exact & {i for i, _ in store.vector(qv, 10)}) / 10)
        agreement = round(statistics.mean(overlap), 3)
    store.close()
    size_mb = sum(p.stat().st_size for p in tmp.glob(f"latency-{n}.sqlite3*")) / 1e6
    return {"memories": n, "fill_seconds": round(fill_s, 1), "file_mb": round(size_mb, 1),
            "first_search_ms_after_open": round(first_ms, 1),
            "vector_top10_agreement_with_exact": agreement,
            "write_ms": {"p50": round(_pct(writes, 50), 2), "p95": round(_pct(writes, 95), 2)},
            "search_ms": {m: {"p50": round(_pct(v, 50), 2), "p95": round(_pct(v, 95), 2)}
                          for m, v in timings.items()},
            "write_cpu_ms": {"p50": round(_pct(writes_cpu, 50), 2), "p95": round(_pct(writes_cpu, 95), 2)},
            "search_cpu_ms": {m: {"p50": round(_pct(v, 50), 2), "p95": round(_pct(v, 95), 2)}
                              for m, v in cpu.items()}}


def encode_latency(texts: list[str], n: int = 40) -> dict:
    enc = MiniLMEmbedder()
    enc.embed(["warm up"])
    ts = []
    for t in texts[:n]:
        s = time.perf_counter()
        enc.embed([t])
        ts.append((time.perf_counter() - s) * 1000)
    return {"p50": round(_pct(ts, 50), 2), "p95": round(_pct(ts, 95), 2)}


# ----------------------------------------------------------------------------- 3. kill -9

WRITER = """
import sys
from llmos.agent.memory import HashEmbedder, MemoryStore
s = MemoryStore(sys.argv[1], HashEmbedder(384), person="bench")
batch, i = int(sys.argv[2]), 0
while True:
    if batch == 1:
        ids = [s.add("message", f"durable memory {i} " + "x" * 300).id]
    else:
        ids = [it.id for it in s.add_many([{"kind": "message", "text": f"durable memory {i}.{j} " + "x" * 300}
                                           for j in range(batch)])]
    print(" ".join(map(str, ids)), flush=True)   # only after the commit returned
    i += 1
"""


def kill_trials(n: int, tmp: Path, seed: int = 0) -> dict:
    from rich.progress import track

    rng = random.Random(seed)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    lost = broken = reported_total = 0
    path = tmp / "kill.sqlite3"
    for trial in track(range(n), description=f"{n} kill -9 trials", transient=True):
        batch = 1 if trial % 2 == 0 else 50
        p = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(batch)], stdout=subprocess.PIPE,
                             text=True, env=env)
        first = p.stdout.readline()             # it is writing now
        time.sleep(rng.uniform(0.0, 0.4))
        os.kill(p.pid, signal.SIGKILL)
        rest, _ = p.communicate()
        lines = (first + rest).splitlines()
        # a line cut by the kill was not reported whole; only whole lines count as reported
        reported = {int(x) for line in lines if line.strip() for x in line.split()}
        reported_total += len(reported)
        store = MemoryStore(path, HashEmbedder(384), person="bench")
        kept = {i.id for i in store.items(limit=10**7)}
        lost += len(reported - kept)
        n_vec = store.db.execute("SELECT count(*) FROM items_vec_rowids").fetchall()[0][0]
        n_fts = store.db.execute("SELECT count(*) FROM items_fts_docsize").fetchall()[0][0]
        n_f32 = store.db.execute("SELECT count(*) FROM items_f32").fetchall()[0][0]
        ok = store.db.execute("PRAGMA integrity_check").fetchall()[0][0] == "ok"
        broken += (n_vec != len(kept)) or (n_fts != len(kept)) or (n_f32 != len(kept)) or not ok
        store.close()
    return {"trials": n, "reported_committed": reported_total, "lost": lost, "inconsistent_trials": broken}


# ----------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100 questions, 10k memories, 10 kill trials")
    ap.add_argument("--sizes", default="", help="latency store sizes, e.g. 10000,100000")
    ap.add_argument("--trials", type=int, default=None)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/llmos-bench-cache"))
    ap.add_argument("--output", type=Path, default=ROOT / "bench/results/memory.json")
    ap.add_argument("--parts", default="retrieval,latency,kill",
                    help="which parts to run; a partial run updates those parts of --output")
    args = ap.parse_args()
    import torch

    # one thread: on two shared cores a second torch thread only waits for the other (ten times slower)
    torch.set_num_threads(1)
    load_before = os.getloadavg()
    n_hist = 4 if args.quick else 20
    sizes = [int(s) for s in args.sizes.split(",") if s] or ([10_000] if args.quick else [10_000, 100_000])
    trials = args.trials if args.trials is not None else (10 if args.quick else 100)
    histories, questions = generate(n_histories=n_hist, per_ability=5, seed=0)
    texts = sorted({t.text for h in histories for t in h.turns} | {q.text for q in questions})
    t = time.perf_counter()
    vectors = dict(zip(texts, embed_cached(texts, args.cache)))
    embed_s = time.perf_counter() - t
    report = {"questions": len(questions), "histories": n_hist,
              "sessions_per_history": [min(len(h.sessions) for h in histories),
                                       max(len(h.sessions) for h in histories)],
              "memories_per_history": round(statistics.mean(len(h.turns) for h in histories), 1),
              "embed_seconds_or_cached": round(embed_s, 1), "load_before": [round(x, 2) for x in load_before]}
    parts = set(args.parts.split(","))
    if args.output.exists() and parts != {"retrieval", "latency", "kill"}:
        report = {**json.loads(args.output.read_text()), **report}
    with tempfile.TemporaryDirectory(prefix="llmos-membench-") as tmp:
        tmp = Path(tmp)
        if "retrieval" in parts:
            report["retrieval"] = retrieval(histories, questions, vectors, tmp)
        if "latency" in parts:
            report["query_embedding_ms"] = encode_latency([q.text for q in questions])
            report["latency"] = [latency(n, histories, questions, vectors, tmp) for n in sizes]
        if "kill" in parts:
            report["kill9"] = kill_trials(trials, tmp)
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    report["cpus"] = os.cpu_count()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    if "retrieval" in report:
        r = report["retrieval"]
        print(f"retrieval over {report['questions']} questions ({n_hist} histories of "
              f"{report['sessions_per_history'][0]}-{report['sessions_per_history'][1]} sessions, "
              f"~{report['memories_per_history']} memories each)")
        print(f"{'mode':8} {'recall@5':>9} {'nDCG@10':>8}   " + "  ".join(f"{a[:12]:>12}" for a in ABILITIES[:-1]))
        for mode in MODES:
            print(f"{mode:8} {r[mode]['recall@5']:9.3f} {r[mode]['ndcg@10']:8.3f}   " +
                  "  ".join(f"{r[mode]['by_ability'][a]['recall@5']:12.3f}" for a in ABILITIES[:-1]))
        a = r["abstention"]
        print(f"abstention: {100 * a['below_threshold']:.0f}% of unanswerable questions fall below the top-1 "
              f"cosine {a['threshold_top1_cosine']} that 95% of answerable ones clear")
    if "latency" in report:
        print(f"query embedding (MiniLM, one text): p50 {report['query_embedding_ms']['p50']} ms, "
              f"p95 {report['query_embedding_ms']['p95']} ms")
        for lat in report["latency"]:
            if "search_cpu_ms" in lat:
                c = lat["search_cpu_ms"]
                print(f"{lat['memories']:>7} memories, CPU time per call: write p50/p95 {lat['write_cpu_ms']['p50']}/"
                      f"{lat['write_cpu_ms']['p95']} ms; search hybrid {c['hybrid']['p50']}/{c['hybrid']['p95']}, "
                      f"keyword {c['keyword']['p50']}/{c['keyword']['p95']}, vector {c['vector']['p50']}/"
                      f"{c['vector']['p95']} ms")
            s = lat["search_ms"]
            print(f"{lat['memories']:>7} memories: write p50 {lat['write_ms']['p50']} / p95 {lat['write_ms']['p95']} ms; "
                  f"search p50/p95 ms: hybrid {s['hybrid']['p50']}/{s['hybrid']['p95']}, keyword "
                  f"{s['keyword']['p50']}/{s['keyword']['p95']}, vector {s['vector']['p50']}/{s['vector']['p95']} "
                  f"(file {lat['file_mb']} MB, filled in {lat['fill_seconds']} s)"
                  + (f"; bit-vector first pass keeps {100 * lat['vector_top10_agreement_with_exact']:.0f}% of the "
                     f"exact top 10" if lat["vector_top10_agreement_with_exact"] is not None else ""))
    if "kill9" in report:
        k = report["kill9"]
        print(f"kill -9: {k['lost']} lost of {k['reported_committed']} committed over {k['trials']} trials, "
              f"{k['inconsistent_trials']} inconsistent")
    print(f"load average before {report['load_before']}, after {report['load_after']} on {report['cpus']} CPUs")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
