"""Serving throughput: 1, 4 and 16 concurrent streaming clients against `llmos serve`.

    python bench/serve.py [--clients 1 4 16] [--new-tokens 128] [--rounds 3] [--d-model 256] [--layers 4]

Builds a small random Llama-family model and a byte-level BPE tokenizer
trained on llmos's embedded corpus (nothing downloaded), saves them as an HF
folder, and starts the real server on it in its own process
(`llmos serve FOLDER --port P`). For each number of clients, that many
streaming chat-less completions start at once, each asking for exactly
`--new-tokens` tokens (`ignore_eos`). Reported per level (best of `--rounds`):

    aggregate tokens/s   all clients' tokens / wall time from the first request to the last token
    TTFT p50 / p95       time from sending a request to its first streamed token, over every request

Levels are interleaved over the rounds (1, 4, 16, 1, 4, 16, ...) so that load
from elsewhere on the machine falls on all of them alike.

The same levels are also run on the engine alone, in this process, without
HTTP, to show what the server adds. Saves bench/results/serve.json and
bench/results/serve.png.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from llmos.hub import save_pretrained  # noqa: E402
from llmos.infer import GenerationConfig  # noqa: E402
from llmos.infer.engine import Engine, EngineConfig  # noqa: E402
from llmos.nn import CausalLM, ModelConfig  # noqa: E402
from llmos.text import Tokenizer  # noqa: E402
from llmos.text.default_corpus import default_corpus_documents  # noqa: E402

PROMPTS = ["The interpreter reads", "A module is", "When the loop ends,", "Every object has",
           "The function returns", "An exception is raised when", "Strings are", "The file is opened"]


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q / 100 * (len(xs) - 1))))]


def build_model_folder(folder: Path, d_model: int, layers: int, vocab: int) -> Tokenizer:
    tok = Tokenizer.train_bpe(default_corpus_documents()[:400], vocab_size=vocab)
    torch.manual_seed(0)
    cfg = ModelConfig.for_family("llama", vocab_size=tok.vocab_size, d_model=d_model, n_layers=layers,
                                 n_heads=d_model // 32, n_kv_heads=max(1, d_model // 64),
                                 d_ff=int(8 * d_model / 3) // 32 * 32, max_seq_len=512, eos_token_id=tok.eos_id)
    model = CausalLM(cfg)
    save_pretrained(model, folder, tokenizer=tok)
    print(f"model: llama, d_model {d_model}, {layers} layers, vocab {tok.vocab_size}, "
          f"{model.num_parameters() / 1e6:.1f}M parameters", flush=True)
    return tok


# ---------------------------------------------------------------------- over HTTP
async def one_client(client: httpx.AsyncClient, url: str, prompt: str, n: int, seed: int) -> tuple[float, int]:
    body = {"model": "bench", "prompt": prompt, "max_tokens": n, "temperature": 0.8, "seed": seed,
            "ignore_eos": True, "stream": True, "stream_options": {"include_usage": True}}
    t0 = time.perf_counter()
    ttft, tokens = None, 0
    async with client.stream("POST", f"{url}/v1/completions", json=body) as r:
        r.raise_for_status()
        async for line in r.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk["choices"] and chunk["choices"][0]["text"] and ttft is None:
                ttft = time.perf_counter() - t0
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
    return ttft, tokens


async def http_level(url: str, clients: int, n: int, round_: int) -> dict:
    limits = httpx.Limits(max_connections=clients + 4)
    async with httpx.AsyncClient(timeout=600, limits=limits) as client:
        t0 = time.perf_counter()
        results = await asyncio.gather(*(one_client(client, url, PROMPTS[i % len(PROMPTS)], n, 1000 * round_ + i)
                                         for i in range(clients)))
        wall = time.perf_counter() - t0
    tokens = sum(t for _, t in results)
    assert tokens == clients * n, f"expected {clients * n} tokens, got {tokens}"
    return {"tokens_per_s": tokens / wall, "wall_s": wall, "ttft_s": [t for t, _ in results]}


def start_server(folder: Path, port: int, slots: int, threads: int) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    cmd = [sys.executable, "-m", "llmos.cli.main", "serve", str(folder), "--port", str(port),
           "--slots", str(slots), "--model-name", "bench", "--device", "cpu", "--threads", str(threads),
           "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


# ---------------------------------------------------------------------- engine only
def engine_level(engine: Engine, tok: Tokenizer, clients: int, n: int, round_: int) -> dict:
    async def consume(handle, t0):
        ttft = None
        async for _ in handle:
            ttft = ttft or time.perf_counter() - t0
        return ttft

    async def run():
        t0 = time.perf_counter()
        handles = [engine.asubmit(tok.encode(PROMPTS[i % len(PROMPTS)]),
                                  GenerationConfig(max_new_tokens=n, temperature=0.8, seed=1000 * round_ + i,
                                                   stop_token_ids=[]))
                   for i in range(clients)]
        ttft = await asyncio.gather(*(consume(h, t0) for h in handles))
        return time.perf_counter() - t0, ttft, sum(h.request.n_sampled for h in handles)

    wall, ttft, tokens = asyncio.run(run())
    assert tokens == clients * n
    return {"tokens_per_s": tokens / wall, "wall_s": wall, "ttft_s": ttft}


def summarise(runs: list[dict]) -> dict:
    best = max(runs, key=lambda r: r["tokens_per_s"])
    ttft = [t for r in runs for t in r["ttft_s"]]
    return {"tokens_per_s": round(best["tokens_per_s"], 1), "ttft_p50_ms": round(1000 * percentile(ttft, 50), 1),
            "ttft_p95_ms": round(1000 * percentile(ttft, 95), 1)}


def interleaved(run, clients: list[int], rounds: int, name: str) -> dict:
    """Every level once per round (1, 4, 16, 1, 4, 16, ...), so a burst of load from
    elsewhere on the machine falls on all levels alike; each level keeps its best round."""
    runs: dict[int, list[dict]] = {c: [] for c in clients}
    for r in range(rounds):
        for c in clients:
            runs[c].append(run(c, r))
    out = {str(c): summarise(runs[c]) for c in clients}
    for c in clients:
        print(f"{name:<7} {c:>3} clients: {out[str(c)]}", flush=True)
    return out


def plot(results: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for (name, rows), color in zip(results.items(), ("tab:blue", "tab:orange")):
        xs = [int(c) for c in rows]
        a.plot(xs, [rows[c]["tokens_per_s"] for c in rows], "o-", color=color, label=name)
        b.plot(xs, [rows[c]["ttft_p50_ms"] for c in rows], "o-", color=color, label=f"{name} p50")
        b.plot(xs, [rows[c]["ttft_p95_ms"] for c in rows], "x--", color=color, label=f"{name} p95")
    a.set(xlabel="concurrent clients", ylabel="aggregate tokens/s", title="throughput", xscale="log", xticks=xs)
    b.set(xlabel="concurrent clients", ylabel="ms", title="time to first token", xscale="log", xticks=xs)
    for ax in (a, b):
        ax.set_xticklabels([str(x) for x in xs])
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--d-model", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the server's HTTP side and the "
                    "clients need CPU too; one thread also suffers least when the machine is shared)")
    ap.add_argument("--skip-engine", action="store_true", help="only the HTTP figures")
    ap.add_argument("--out", default="bench/results/serve.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "bench-model"
        tok = build_model_folder(folder, args.d_model, args.layers, args.vocab)
        slots = max(args.clients)

        if not args.skip_engine:
            from llmos.hub import load_pretrained
            model, _ = load_pretrained(folder)
            with Engine(model, tok, EngineConfig(n_slots=slots)) as engine:
                engine_level(engine, tok, 1, 8, 99)                     # warm-up
                results["engine"] = interleaved(lambda c, r: engine_level(engine, tok, c, args.new_tokens, r),
                                                args.clients, args.rounds, "engine")
            del model

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = start_server(folder, port, slots, args.threads)
        url = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(http_level(url, 1, 8, 99))                        # warm-up
            results["http"] = interleaved(lambda c, r: asyncio.run(http_level(url, c, args.new_tokens, r)),
                                          args.clients, args.rounds, "http")
        finally:
            server.terminate()
            server.wait(30)

    lo, hi = str(min(args.clients)), str(max(args.clients))
    speedup = {k: round(v[hi]["tokens_per_s"] / v[lo]["tokens_per_s"], 2) for k, v in results.items()}
    out = {"command": "python bench/serve.py " + " ".join(sys.argv[1:]),
           "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}",
           "load_average_at_start": load, "threads": args.threads, "new_tokens": args.new_tokens,
           "model": {"family": "llama", "d_model": args.d_model, "layers": args.layers, "vocab": tok.vocab_size},
           "results": results, f"speedup_{hi}_vs_{lo}": speedup}
    print(json.dumps(out, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    plot(results, Path(args.out).with_suffix(".png"))


if __name__ == "__main__":
    main()
