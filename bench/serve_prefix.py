"""Time to first token with and without the prefix cache, for an agent-like follow-up prompt.

    python bench/serve_prefix.py [--d-model 512] [--layers 8] [--prompt 1500] [--shared 1400] [--rounds 3]

A random Llama-family model (nothing downloaded) runs in the batched engine.
Request A has a `--prompt`-token prompt; request B shares its first
`--shared` tokens and differs after them (an agent's next step: the same
system prompt and history, a new observation). We time B from `submit` to
its first token:

    cold     the engine without a prefix cache (B prefilled in full)
    cached   the engine with one, right after A (B copies the shared blocks'
             keys and values, and prefills only the rest)

Best of `--rounds` for each. Goal: cached at least 5x faster. Saves
bench/results/serve_prefix.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from llmos.infer.engine import Engine, EngineConfig  # noqa: E402
from llmos.infer.sampling import GenerationConfig  # noqa: E402
from llmos.nn import CausalLM, ModelConfig  # noqa: E402


def ttft(engine: Engine, prompt: list[int]) -> tuple[float, int]:
    start = time.perf_counter()
    handle = engine.submit(prompt, GenerationConfig(max_new_tokens=2, temperature=0, stop_token_ids=[]))
    elapsed = None
    for _ in handle:                      # the first delta is the first token
        elapsed = elapsed or time.perf_counter() - start
    return elapsed, handle.request.cached_tokens


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--d-model", type=int, default=512)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--prompt", type=int, default=1500)
    ap.add_argument("--shared", type=int, default=1400)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = CausalLM(ModelConfig.for_family("llama", vocab_size=args.vocab, d_model=args.d_model,
                                            n_layers=args.layers, n_heads=8, d_ff=4 * args.d_model,
                                            max_seq_len=args.prompt + 64)).eval()
    g = torch.Generator().manual_seed(1)
    cold, cached, reused = [], [], 0
    for r in range(args.rounds):
        a = torch.randint(args.vocab, (args.prompt,), generator=g).tolist()
        b = a[:args.shared] + torch.randint(args.vocab, (args.prompt - args.shared,), generator=g).tolist()
        with Engine(model, config=EngineConfig(n_slots=2, prefix_cache_mb=0)) as engine:
            ttft(engine, a)
            cold.append(ttft(engine, b)[0])
        with Engine(model, config=EngineConfig(n_slots=2, prefix_cache_mb=512)) as engine:
            ttft(engine, a)
            t, reused = ttft(engine, b)
            cached.append(t)
        print(f"round {r + 1}: cold {1e3 * cold[-1]:.0f} ms, cached {1e3 * cached[-1]:.0f} ms "
              f"({reused} tokens reused)")
    speedup = min(cold) / min(cached)
    print(f"TTFT of a {args.prompt}-token prompt sharing {args.shared} tokens: cold {1e3 * min(cold):.0f} ms, "
          f"cached {1e3 * min(cached):.0f} ms: {speedup:.1f}x")
    out = {"prompt": args.prompt, "shared": args.shared, "reused_tokens": reused,
           "model": {"d_model": args.d_model, "layers": args.layers, "params": model.num_parameters()},
           "cold_ms": [1e3 * t for t in cold], "cached_ms": [1e3 * t for t in cached], "speedup": speedup,
           "machine": {"cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
                       "load": os.getloadavg()}}
    path = ROOT / "bench" / "results" / "serve_prefix.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print(f"saved {path}")


if __name__ == "__main__":
    main()
