"""What int8 and bf16 weights cost a trained model: validation loss and greedy agreement beside fp32.

    python bench/quantize_quality.py runs/demo [runs/gpt ...] [--batches 50] [--prompts 8 --tokens 64]

For each training run folder: the mean next-token loss over `--batches` fixed
validation batches of the run's own held-out split (the batches training
evaluates on), with the model's weights in fp32, bf16 and int8
(`llmos.nn.quantize`); and the greedy-agreement rate: the share of generated
tokens that equal fp32's, position by position, over `--prompts` prompts taken
from the validation split, `--tokens` new tokens each. Goal: int8 and bf16
validation loss within 1% of fp32. Prints a table and saves
bench/results/quantize_quality.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from llmos.hub.quantized import load_for_decoding  # noqa: E402
from llmos.infer import GenerationConfig, generate  # noqa: E402
from llmos.text.shards import TokenShards  # noqa: E402
from llmos.train.batches import BatchSampler  # noqa: E402
from llmos.config import from_dict  # noqa: E402
from llmos.train.config import PretrainConfig  # noqa: E402


@torch.no_grad()
def val_loss(model, batches: BatchSampler, n: int) -> float:
    total = 0.0
    for i in range(n):
        x, y = batches.eval_batch(i)                                  # (B, T) each
        total += model(x, targets=y).lm_loss.item()
    return total / n


def one_run(run: Path, args) -> dict:
    cfg = from_dict(PretrainConfig, json.loads((run / "train_config.json").read_text(encoding="utf-8")))
    val = BatchSampler(TokenShards(run / "data", "val"), cfg.seq_len, cfg.train.batch_size, cfg.train.seed)
    models = {d: load_for_decoding(run, d)[0] for d in ("fp32", "bf16", "int8")}
    losses = {d: val_loss(m, val, args.batches) for d, m in models.items()}
    gen = GenerationConfig(max_new_tokens=args.tokens, temperature=0, stop_token_ids=[])
    prompts = [val.eval_batch(i)[0][0, :args.prompt_len].tolist() for i in range(args.prompts)]
    outs = {d: [generate(m, p, gen) for p in prompts] for d, m in models.items()}
    row = {"preset": cfg.preset, "model": f"{cfg.model.family} d_model={cfg.model.d_model} "
                                           f"layers={cfg.model.n_layers} vocab={cfg.model.vocab_size}",
           "val_batches": args.batches, "val_tokens": args.batches * cfg.train.batch_size * cfg.seq_len}
    for d in models:
        same = sum(a == b for o, f in zip(outs[d], outs["fp32"]) for a, b in zip(o, f))
        total = sum(len(f) for f in outs["fp32"])
        row[d] = {"val_loss": round(losses[d], 4),
                  "relative_change": round(losses[d] / losses["fp32"] - 1, 5),
                  "greedy_agreement": round(same / total, 3)}
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--batches", type=int, default=50)
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--prompt-len", type=int, default=16)
    ap.add_argument("--tokens", type=int, default=48)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out", default="bench/results/quantize_quality.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    results = {str(r): one_run(r, args) for r in args.runs}
    print(f"{'run':28s}{'dtype':>6s}{'val loss':>10s}{'vs fp32':>9s}{'greedy agree':>14s}")
    for name, row in results.items():
        for d in ("fp32", "bf16", "int8"):
            r = row[d]
            print(f"{name:28s}{d:>6s}{r['val_loss']:10.4f}{r['relative_change']:+9.2%}{r['greedy_agreement']:14.0%}")
    results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
