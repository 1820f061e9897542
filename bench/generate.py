"""Decoding speed: llmos's KV-cached greedy generation beside `transformers` on the same weights.

    python bench/generate.py [--family llama] [--d-model 512] [--layers 8] [--new-tokens 128]

Builds a random model of the given family with `transformers` (nothing is
downloaded), loads the same weights into llmos through an HF folder, checks
that both produce the same tokens, and times greedy decoding of
`--new-tokens` tokens after a `--prompt-tokens` prompt. Also times one
training step (forward + backward) on a (batch, context) block. Prints a table
and saves bench/results/generate.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from llmos.hub import load_model  # noqa: E402
from llmos.infer import GenerationConfig, generate  # noqa: E402


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


def timed(fn, repeats: int) -> float:
    fn()                                                     # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", default="llama", choices=["gpt2", "llama", "qwen2", "mixtral"])
    ap.add_argument("--d-model", type=int, default=512)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--prompt-tokens", type=int, default=64)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--context", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out", default="bench/results/generate.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    ref = hf_model(args.family, args.d_model, args.layers, args.vocab, max(args.context, 1024))
    with tempfile.TemporaryDirectory() as d:
        ref.save_pretrained(d)
        ours = load_model(d).eval()
    prompt = torch.randint(0, args.vocab, (1, args.prompt_tokens), generator=torch.Generator().manual_seed(1))
    n = args.new_tokens
    gen = GenerationConfig(max_new_tokens=n, temperature=0, stop_token_ids=[])

    def run_ours():
        return generate(ours, prompt[0].tolist(), gen)

    def run_hf():
        with torch.no_grad():
            return ref.generate(prompt, max_new_tokens=n, min_new_tokens=n, do_sample=False,
                                pad_token_id=0, eos_token_id=None)[0, args.prompt_tokens:].tolist()

    same = run_ours() == run_hf()
    t_ours, t_hf = timed(run_ours, args.repeats), timed(run_hf, args.repeats)

    block = torch.randint(0, args.vocab, (args.batch, args.context))

    def step(model, hf: bool):
        def f():
            model.zero_grad(set_to_none=True)
            out = model(block, labels=block) if hf else model(block, targets=block)
            out.loss.backward()
        return f

    ours.train(), ref.train()
    s_ours, s_hf = timed(step(ours, False), args.repeats), timed(step(ref, True), args.repeats)
    tokens = args.batch * args.context
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, threads {args.threads}",
        "model": f"{args.family} d_model={args.d_model} layers={args.layers} vocab={args.vocab} "
                 f"params={ours.num_parameters() / 1e6:.1f}M",
        "greedy_tokens_identical": same,
        "decode_tokens_per_s": {"llmos": n / t_ours, "transformers": n / t_hf},
        "train_step_tokens_per_s": {"llmos": tokens / s_ours, "transformers": tokens / s_hf},
    }
    print(f"{result['model']}\n{result['machine']}\n")
    print(f"{'':28s}{'llmos':>12s}{'transformers':>14s}{'ratio':>8s}")
    for key, label in (("decode_tokens_per_s", f"greedy decode tok/s (1x{n})"),
                       ("train_step_tokens_per_s", f"fwd+bwd tok/s ({args.batch}x{args.context})")):
        a, b = result[key]["llmos"], result[key]["transformers"]
        print(f"{label:28s}{a:12.1f}{b:14.1f}{a / b:8.2f}")
    print(f"\ngreedy tokens identical: {same}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
