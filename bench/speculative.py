"""Speculative decoding: tokens/s of a target alone and with a small draft, and the acceptance rate.

    python bench/speculative.py runs/larger runs/demo [--k 4] [--tokens 128] [--rounds 3] [--dtype fp32]

Both are run folders trained on the same data (the draft demo-sized, the
target 4 to 8 times larger). Prompts are the starts of validation windows.
Rounds alternate target-alone and speculative decoding so that machine load
hits both alike; greedy decoding (the outputs must be identical) and sampling
at temperature 0.8 (seeded) are both timed, and the serving engine one request at a time
(greedy) without and with the draft. Prints a table and saves
bench/results/speculative.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from llmos.hub.quantized import load_for_decoding  # noqa: E402
from llmos.infer import GenerationConfig, generate  # noqa: E402
from llmos.infer.engine import Engine, EngineConfig  # noqa: E402
from llmos.infer.speculative import SpeculativeStats, speculative_generate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("target", type=Path)
    ap.add_argument("draft", type=Path)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--prompts", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dtype", default="fp32", choices=["fp32", "bf16", "int8"])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out", default="bench/results/speculative.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    target, tok = load_for_decoding(args.target, args.dtype)
    draft, _ = load_for_decoding(args.draft, args.dtype)
    starts = ("The ", "In the ", "It is ", "When ", "A ", "This ")
    prompts = ([tok.encode(starts[i % len(starts)]) for i in range(args.prompts)] if tok is not None
               else [[0]] * args.prompts)
    budget = min(args.tokens, min(target.config.max_seq_len, draft.config.max_seq_len) - max(map(len, prompts)) - 1)
    result = {"target_parameters": target.num_parameters(), "draft_parameters": draft.num_parameters(),
              "k": args.k, "tokens": budget, "dtype": args.dtype}
    for mode, temperature in (("greedy", 0.0), ("sampled", 0.8)):
        cfgs = [GenerationConfig(max_new_tokens=budget, temperature=temperature, seed=i, stop_token_ids=[])
                for i in range(len(prompts))]
        times = {"target alone": [], "speculative": []}
        stats = SpeculativeStats()
        same = True
        for r in range(args.rounds):
            for name in (list(times) if r % 2 == 0 else list(reversed(times))):
                t0 = time.perf_counter()
                outs = [generate(target, p, c) if name == "target alone"
                        else speculative_generate(target, draft, p, c, args.k, stats) for p, c in zip(prompts, cfgs)]
                times[name].append(time.perf_counter() - t0)
                if name == "target alone":
                    alone = outs
                else:
                    spec = outs
            if mode == "greedy":
                same = same and alone == spec
        n = budget * len(prompts)
        row = {name: round(n / min(t), 1) for name, t in times.items()}
        row.update(speedup=round(row["speculative"] / row["target alone"], 2),
                   acceptance_rate=round(stats.acceptance_rate, 3), tokens_per_target_forward=round(
                       stats.tokens_per_round, 2))
        if mode == "greedy":
            row["identical_to_target"] = same
        result[mode] = row
    result["engine greedy"] = engine_row(target, draft, prompts, budget, args)
    result["load_average_before"] = [round(x, 2) for x in load_before]
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


def engine_row(target, draft, prompts, budget, args) -> dict:
    """The serving engine, one request at a time (greedy): without a draft, and with one
    (engine_draft.py speculates while a request runs alone), interleaved rounds."""
    gen = GenerationConfig(max_new_tokens=budget, temperature=0, stop_token_ids=[])
    engines = {"engine alone": Engine(target, config=EngineConfig(n_slots=2, prefix_cache_mb=0)),
               "engine with draft": Engine(target, config=EngineConfig(n_slots=2, prefix_cache_mb=0), draft=draft,
                                           speculate_k=args.k)}
    times = {name: [] for name in engines}
    outs = {}
    for e in engines.values():
        e.start()
    try:
        for r in range(args.rounds):
            for name in (list(engines) if r % 2 == 0 else list(reversed(engines))):
                t0 = time.perf_counter()
                outs[name] = [engines[name].submit(p, gen).result().token_ids for p in prompts]
                times[name].append(time.perf_counter() - t0)
    finally:
        for e in engines.values():
            e.stop()
    n = budget * len(prompts)
    row = {name: round(n / min(t), 1) for name, t in times.items()}
    stats = engines["engine with draft"].draft.stats
    row.update(speedup=round(row["engine with draft"] / row["engine alone"], 2),
               acceptance_rate=round(stats.acceptance_rate, 3), tokens_per_target_forward=round(stats.tokens_per_round, 2),
               identical_to_target=outs["engine alone"] == outs["engine with draft"])
    return row


if __name__ == "__main__":
    main()
