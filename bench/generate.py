"""Decoding speed: llmos in fp32, bf16 and int8 beside `transformers` fp32, against the memory-bandwidth bound.

    python bench/generate.py --family gpt2 --d-model 768 --layers 12 --vocab 50257   # GPT-2 124M shape

Builds a random model of the given family with `transformers` (nothing is
downloaded), loads the same weights into llmos through an HF folder, and
quantizes copies to bf16 and int8 weights (`llmos.nn.quantize`). Then, in
interleaved rounds so that machine load hits every variant alike, it times
greedy decoding of `--new-tokens` tokens after a `--prompt-tokens` prompt for
each, and measures the memory bandwidth (a streaming read of a buffer far
larger than the caches) in the same rounds. Each round also times the prompt
alone (prefill and the first token), so that decoding is reported on its own:

    decode tok/s = (n - 1) / (T(n new tokens) - T(1 new token))

beside the end-to-end rate n / T(n) that includes the prefill. The bound
below is a bound on decoding, so the share of it is taken of the decode rate.

Decoding one sequence reads every weight once per token, plus the KV cache,
so each data type has its own bound:

    bound tok/s = bandwidth / (weight bytes + mean KV-cache bytes per token)

Also times one training step (forward + backward) of the fp32 models on a
(--batch, --context) block, small by default so that the GPT-2 124M shape
fits in 24 GiB. Prints a table and saves bench/results/generate.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from llmos.hub import load_model  # noqa: E402
from llmos.infer import GenerationConfig, generate  # noqa: E402
from llmos.nn import gemv  # noqa: E402
from llmos.nn.quantize import quantize, weight_bytes  # noqa: E402


def hf_model(family: str, d: int, layers: int, vocab: int, ctx: int):
    import transformers
    heads = max(1, d // 64)
    common = dict(vocab_size=vocab, hidden_size=d, intermediate_size=int(8 * d / 3) // 64 * 64,
                  num_hidden_layers=layers, num_attention_heads=heads,
                  num_key_value_heads=max(1, heads // 4), max_position_embeddings=ctx)
    cfg = {
        "gpt2": lambda: transformers.GPT2Config(vocab_size=vocab, n_embd=d, n_layer=layers, n_head=heads,
                                                n_positions=ctx),
        "llama": lambda: transformers.LlamaConfig(**common),
        "qwen2": lambda: transformers.Qwen2Config(**common),
        "mixtral": lambda: transformers.MixtralConfig(**common, num_local_experts=4),
    }[family]()
    torch.manual_seed(0)
    return transformers.AutoModelForCausalLM.from_config(cfg, attn_implementation="sdpa").eval()


def bandwidth_gbs(buffer: torch.Tensor, repeats: int = 3) -> float:
    """GB/s of a streaming read: sum a buffer far larger than the caches (best of `repeats`)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        buffer.sum()
        best = min(best, time.perf_counter() - t0)
    return buffer.numel() * buffer.element_size() / best / 1e9


def kv_bytes_per_token(model, prompt: int, new: int) -> float:
    """Mean bytes of keys and values one decoding step reads (fp32 cache), over the generated span."""
    c = model.config
    per_position = 2 * c.n_layers * c.kv_heads * c.dim_per_head * 4
    return per_position * (prompt + new / 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", default="gpt2", choices=["gpt2", "llama", "qwen2", "mixtral"])
    ap.add_argument("--d-model", type=int, default=768)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--vocab", type=int, default=50257)
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--new-tokens", type=int, default=256)
    ap.add_argument("--batch", type=int, default=2, help="training-step block rows (small: 24 GiB at 124M)")
    ap.add_argument("--context", type=int, default=256, help="training-step block length")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (best is reported)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--no-train-step", action="store_true")
    ap.add_argument("--out", default="bench/results/generate.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()

    ref = hf_model(args.family, args.d_model, args.layers, args.vocab,
                   max(args.context, args.prompt_tokens + args.new_tokens, 1024))
    with tempfile.TemporaryDirectory() as d:
        ref.save_pretrained(d)
        ours = {"fp32": load_model(d).eval(), "bf16": quantize(load_model(d), "bf16"),
                "int8": quantize(load_model(d), "int8")}
    prompt = torch.randint(0, args.vocab, (1, args.prompt_tokens), generator=torch.Generator().manual_seed(1))
    n = args.new_tokens

    def run_ours(dtype: str):
        def f(new: int):
            return generate(ours[dtype], prompt[0].tolist(), GenerationConfig(max_new_tokens=new, temperature=0,
                                                                              stop_token_ids=[]))
        return f

    def run_hf(new: int):
        with torch.no_grad():
            return ref.generate(prompt, max_new_tokens=new, min_new_tokens=new, do_sample=False,
                                pad_token_id=0, eos_token_id=None)[0, args.prompt_tokens:].tolist()

    runners = {"transformers fp32": run_hf, **{f"llmos {k}": run_ours(k) for k in ours}}
    tokens = {name: fn(n) for name, fn in runners.items()}                 # also the warm-up
    buffer = torch.ones(256 * 2**20)                                        # 1 GiB of fp32
    times: dict[str, list[float]] = {name: [] for name in runners}
    firsts: dict[str, list[float]] = {name: [] for name in runners}        # prefill + the first token
    bandwidths = []
    for r in range(args.rounds):
        bandwidths.append(bandwidth_gbs(buffer))
        order = list(runners) if r % 2 == 0 else list(reversed(runners))   # alternate who goes first
        for name in order:
            t0 = time.perf_counter()
            runners[name](1)
            t1 = time.perf_counter()
            runners[name](n)
            t2 = time.perf_counter()
            firsts[name].append(t1 - t0)
            times[name].append(t2 - t1)
            print(f"round {r + 1}: {name:18s} {n / times[name][-1]:7.1f} tok/s end to end, "
                  f"{(n - 1) / (times[name][-1] - firsts[name][-1]):7.1f} decoding", flush=True)
    bandwidths.append(bandwidth_gbs(buffer))
    del buffer
    bw = statistics.median(bandwidths)

    fp32 = tokens["llmos fp32"]
    rows = {}
    for name in runners:
        e2e = n / min(times[name])
        tps = (n - 1) / min(t - f for t, f in zip(times[name], firsts[name]))   # decoding alone
        model = ours[name.split()[1]] if name.startswith("llmos") else ours["fp32"]
        per_token = weight_bytes(model) + kv_bytes_per_token(model, args.prompt_tokens, n)
        bound = bw * 1e9 / per_token
        rows[name] = {"tokens_per_s": round(tps, 1), "end_to_end_tokens_per_s": round(e2e, 1),
                      "prefill_seconds": round(min(firsts[name]), 3),
                      "tokens_per_s_each_round": [round((n - 1) / (t - f), 1) for t, f in zip(times[name], firsts[name])],
                      "bytes_per_token_mb": round(per_token / 1e6, 1), "bound_tokens_per_s": round(bound, 1),
                      "fraction_of_bound": round(tps / bound, 3),
                      "greedy_agreement_with_llmos_fp32": round(sum(a == b for a, b in zip(tokens[name], fp32)) / n, 3),
                      "first_divergence": next((i for i, (a, b) in enumerate(zip(tokens[name], fp32)) if a != b), None)}
    hf_tps = rows["transformers fp32"]["tokens_per_s"]
    for r in rows.values():
        r["speedup_vs_transformers_fp32"] = round(r["tokens_per_s"] / hf_tps, 2)

    train = {}
    if not args.no_train_step:
        train = train_step(ref, ours["fp32"], args)
    load_after = os.getloadavg()
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, threads {args.threads}, "
                   f"CPU capability {torch.backends.cpu.get_cpu_capability()}, llmos gemv kernel {gemv.available()}",
        "model": f"{args.family} d_model={args.d_model} layers={args.layers} vocab={args.vocab} "
                 f"params={ours['fp32'].num_parameters() / 1e6:.1f}M",
        "decode": f"greedy, batch 1, {args.prompt_tokens}-token prompt + {n} new tokens, best of {args.rounds} rounds; "
                  "tokens_per_s is decoding alone, (n - 1) / (T(n) - T(1))",
        "memory_bandwidth_gbs": round(bw, 2), "memory_bandwidth_each_round_gbs": [round(b, 2) for b in bandwidths],
        "llmos_fp32_identical_to_transformers": tokens["llmos fp32"] == tokens["transformers fp32"],
        "decode_tokens_per_s": rows, "train_step_tokens_per_s": train,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
    }
    print(f"\n{result['model']}\n{result['machine']}\n{result['decode']}")
    print(f"memory bandwidth {bw:.1f} GB/s (median of {len(bandwidths)} reads, one per round)\n")
    print(f"{'':20s}{'e2e tok/s':>10s}{'prefill s':>10s}{'tok/s':>8s}{'MB/token':>10s}{'bound':>8s}{'of bound':>10s}"
          f"{'vs HF fp32':>12s}{'agree':>7s}")
    for name, r in rows.items():
        print(f"{name:20s}{r['end_to_end_tokens_per_s']:10.1f}{r['prefill_seconds']:10.3f}"
              f"{r['tokens_per_s']:8.1f}{r['bytes_per_token_mb']:10.1f}{r['bound_tokens_per_s']:8.1f}"
              f"{r['fraction_of_bound']:10.0%}{r['speedup_vs_transformers_fp32']:11.2f}x"
              f"{r['greedy_agreement_with_llmos_fp32']:7.0%}")
    print(f"\nllmos fp32 greedy tokens identical to transformers: {result['llmos_fp32_identical_to_transformers']}")
    if train:
        print(f"fwd+bwd tok/s ({args.batch}x{args.context}): llmos {train['llmos']:.1f}, "
              f"transformers {train['transformers']:.1f}")
    print(f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


def train_step(ref, ours, args) -> dict:
    """Forward + backward tokens/s on a (batch, context) block, interleaved, best of the rounds."""
    block = torch.randint(0, args.vocab, (args.batch, args.context))

    def step(model, hf: bool):
        def f():
            model.zero_grad(set_to_none=True)
            out = model(block, labels=block) if hf else model(block, targets=block)
            out.loss.backward()
        return f

    ours.train(), ref.train()
    fns = {"llmos": step(ours, False), "transformers": step(ref, True)}
    best = {k: float("inf") for k in fns}
    for f in fns.values():
        f()                                                         # warm-up
    for _ in range(args.rounds):
        for k, f in fns.items():
            t0 = time.perf_counter()
            f()
            best[k] = min(best[k], time.perf_counter() - t0)
    return {k: round(args.batch * args.context / v, 1) for k, v in best.items()}


if __name__ == "__main__":
    main()
