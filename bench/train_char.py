"""nanoGPT's CPU character model on tinyshakespeare: val loss, tokens/s, MFU.

The configuration of nanoGPT's README "I only have a macbook" run:
4 layers, 4 heads, 128 dims, context 64, batch 12, dropout 0, lr 1e-3
(warmup 100, cosine to 1e-4 at step 2000), 2000 iterations, 90/10 split of
tinyshakespeare. nanoGPT reports val loss 1.88 for it (about 3 minutes on a
laptop CPU).

By default two sides train on the same tokens, alternating within each of three
seeds: nanoGPT's own model and loop (`nanogpt`, bench/nanogpt_peer.py, fp32 as
nanoGPT runs on a CPU) and llmos's `char` preset (`gpt2`: the same block, trained
by llmos; `--precision bf16` for autocast). `--family` adds llmos's Llama block
(`llama`: RoPE, RMSNorm, SwiGLU sized to the same parameter count). Figures are
means over the seeds.

MFU (model FLOPs utilisation) counts the FLOPs the model needs per token, as
nanoGPT's `estimate_mfu` (PaLM appendix B):

    FLOPs/token = 6 N + 12 L H Q T       N parameters (position table excluded), L layers,
                                         H heads, Q head size, T context
and divides the achieved rate by the CPU's peak fp32 rate, taken as
threads x clock x 32 FLOPs/cycle (two 8-wide FMA units per core; pass
--peak-gflops to use another figure); for a bf16 run that fp32 peak makes MFU
read high.

    .venv/bin/python bench/train_char.py [--data PATH] [--steps 2000] [--threads N]
        [--seeds 1337 1 2] [--precision bf16] [--grad-clip 0] [--family nanogpt,gpt2,llama]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from llmos.config import override
from llmos.nn import ModelConfig
from llmos.train.presets import preset
from llmos.train.pretrain import pretrain

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
LABELS = {"nanogpt": "nanoGPT", "gpt2": "llmos char", "llama": "llmos llama"}


def cpu_peak_gflops(threads: int) -> tuple[float, str]:
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    mhz = [float(m) for m in re.findall(r"cpu MHz\s*:\s*([\d.]+)", text)]
    ghz = (max(mhz) / 1000) if mhz else 2.5
    name = (re.findall(r"model name\s*:\s*(.+)", text) or ["unknown CPU"])[0].strip()
    return threads * ghz * 32, f"{name}, {ghz:.2f} GHz x {threads} thread(s) x 32 FLOPs/cycle"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ROOT.parent.parent / "shared" / "data" / "tinyshakespeare.txt"))
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--eval-batches", type=int, default=200, help="validation batches for the final val loss")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1337, 1, 2],
                    help="weights, dropout and batch positions; figures are means over these")
    ap.add_argument("--min-lr", type=float, default=1e-4, help="where the cosine decay ends (nanoGPT: 1e-4)")
    ap.add_argument("--grad-clip", type=float, default=1.0,
                    help="llmos's max gradient norm, 0 = off (1.0 as nanoGPT; off was about 0.01 lower "
                         "in val loss on each seed tried, see BENCHMARKS.md)")
    ap.add_argument("--peer-grad-clip", type=float, default=1.0, help="nanoGPT's loop: its own 1.0")
    ap.add_argument("--decay-embeddings", action="store_true", help="weight decay on embeddings too (nanoGPT)")
    ap.add_argument("--family", default="nanogpt,gpt2",
                    help="comma-separated sides: nanogpt (nanoGPT's model and loop, bench/nanogpt_peer.py), "
                         "gpt2 (llmos's `char` preset: the same block in llmos, trained by llmos), llama "
                         "(the same width, depth, heads and budget with RoPE, RMSNorm and a SwiGLU of "
                         "equal size)")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "auto"],
                    help="llmos's train.precision (bf16: autocast, fast on CPUs with AVX-512 BF16 or AMX; "
                         "nanoGPT's loop runs fp32 on a CPU)")
    ap.add_argument("--peak-gflops", type=float, default=None)
    ap.add_argument("--run-dir", default="runs/bench-train-char")
    ap.add_argument("--out", default=str(ROOT / "results" / "train_char.json"))
    args = ap.parse_args()

    families = args.family.split(",")
    rows: dict[str, list[dict]] = {f: [] for f in families}
    for seed in args.seeds:            # the sides alternate within each seed, so load hits them alike
        args.seed = seed
        for f in families:
            run_dir = Path(args.run_dir) / f"{f}-{seed}"
            rows[f].append(run_peer(args, run_dir) if f == "nanogpt" else run_one(args, f, run_dir))
    summary = {f: {"val_loss_mean": round(statistics.mean(r["val_loss"] for r in rs), 4),
                   "tokens_per_s_mean": round(statistics.mean(r["tokens_per_s_training"] for r in rs)),
                   "seeds": [r["seed"] for r in rs]} for f, rs in rows.items()}
    print(f"\n{'side':10s}{'val loss':>10s}{'tokens/s':>10s}   mean over seeds {args.seeds} (nanoGPT reports 1.88)")
    for f, m in summary.items():
        print(f"{LABELS[f]:10s}{m['val_loss_mean']:10.4f}{m['tokens_per_s_mean']:10,d}")
    if "nanogpt" in summary:
        base = summary["nanogpt"]["tokens_per_s_mean"]
        for f, m in summary.items():
            m["speed_vs_nanogpt"] = round(m["tokens_per_s_mean"] / base, 3)
            print(f"{LABELS[f]:10s} {m['speed_vs_nanogpt']:.2f}x nanoGPT's tokens/s")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "runs": rows}, indent=2) + "\n")
    for f in families:
        if f != "nanogpt":
            shutil.copy(Path(args.run_dir) / f"{f}-{args.seeds[-1]}" / "loss.png", out.with_name(f"{out.stem}_{f}.png"))


def run_peer(args: argparse.Namespace, run_dir: Path) -> dict:
    """nanoGPT's loop (bench/nanogpt_peer.py) on the tokens llmos prepares for the same settings."""
    from nanogpt_peer import PeerConfig, train_peer

    from llmos.text.shards import TokenShards
    from llmos.train.prepare import prepare_data

    cfg = char_config(args)
    data = prepare_data(cfg.data, run_dir, log=lambda *a: None)
    train, val = (np.asarray(TokenShards(data.folder, s).window(0, len(TokenShards(data.folder, s))))
                  for s in ("train", "val"))
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    r = train_peer(PeerConfig(vocab_size=cfg.model.vocab_size, max_iters=args.steps, min_lr=args.min_lr,
                              grad_clip=args.peer_grad_clip, seed=args.seed), train, val, args.eval_batches)
    figures = {**{k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()},
               "tokens_per_s_training": round(r["tokens_per_s_training"]), "seconds": round(time.perf_counter() - t0, 1),
               "seed": args.seed, "family": "nanogpt", "threads": args.threads, "grad_clip": args.peer_grad_clip,
               "load_average_before": [round(x, 2) for x in load_before],
               "load_average_after": [round(x, 2) for x in os.getloadavg()]}
    print(f"nanoGPT loop: val loss {r['val_loss']:.4f} | {r['tokens_per_s_training']:,.0f} tokens/s", flush=True)
    return figures


def char_config(args: argparse.Namespace):
    return override(preset("char"), [
        f"data.corpus={args.data}", "data.tokenizer=char", "data.val_fraction=0.1",
        f"train.max_steps={args.steps}", f"train.decay_steps={args.steps}", "train.lr=1e-3", f"train.min_lr={args.min_lr}",
        "train.warmup_steps=100", "model.dropout=0.0", f"train.threads={args.threads}",
        f"train.eval_every={args.steps}", f"train.eval_batches={args.eval_batches}",
        f"train.checkpoint_every={args.steps}", "train.log_every=50", f"train.seed={args.seed}",
        f"train.decay_embeddings={args.decay_embeddings}", f"train.grad_clip={args.grad_clip}",
        f"train.precision={args.precision}"])


def run_one(args: argparse.Namespace, family: str, run_dir: Path) -> dict:
    if run_dir.exists():
        shutil.rmtree(run_dir)                       # a fresh run every time
    cfg = char_config(args)
    if family != "gpt2":
        m = cfg.model
        # SwiGLU has three d x d_ff matrices to the GELU MLP's two of d x 4d: d_ff = 2/3 * 4d,
        # rounded up to a multiple of 8 (344 for d = 128), keeps the parameter count
        d_ff = -(-(8 * m.d_model // 3) // 8) * 8
        cfg.model = ModelConfig.for_family(family, vocab_size=m.vocab_size, d_model=m.d_model,
                                           n_layers=m.n_layers, n_heads=m.n_heads, d_ff=d_ff,
                                           max_seq_len=m.max_seq_len, dropout=0.0, tie_embeddings=True)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    result = pretrain(cfg, run_dir, resume=False)
    wall = time.perf_counter() - t0
    load_after = os.getloadavg()

    m = result.model.config
    n_params = result.model.num_parameters() - (m.max_seq_len * m.d_model if m.position == "learned" else 0)
    flops_per_token = 6 * n_params + 12 * m.n_layers * m.n_heads * m.dim_per_head * cfg.seq_len
    peak, peak_desc = (args.peak_gflops, "given") if args.peak_gflops else cpu_peak_gflops(args.threads)
    achieved = flops_per_token * result.train_tokens_per_s / 1e9
    figures = {
        "val_loss": round(result.val_loss, 4), "train_loss": round(result.train_loss, 4),
        "unigram_entropy": round(result.unigram_entropy, 4), "steps": result.step,
        "tokens_per_s_training": round(result.train_tokens_per_s), "tokens_per_s_overall": round(result.tokens_per_s),
        "seconds": round(wall, 1), "parameters": n_params, "flops_per_token": flops_per_token,
        "achieved_gflops": round(achieved, 2), "peak_gflops": round(peak, 1), "peak": peak_desc,
        "mfu": round(achieved / peak, 4), "threads": args.threads, "seed": args.seed, "min_lr": args.min_lr,
        "decay_embeddings": args.decay_embeddings, "family": family, "grad_clip": args.grad_clip,
        "precision": args.precision,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after], "torch": torch.__version__,
    }
    print(json.dumps(figures, indent=2))
    print(f"val loss {result.val_loss:.4f} (nanoGPT: 1.88) | {result.train_tokens_per_s:,.0f} tokens/s | "
          f"MFU {achieved / peak:.1%} of {peak:.0f} GFLOPS | {wall / 60:.1f} min")
    return figures


if __name__ == "__main__":
    main()
