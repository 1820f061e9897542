"""Induction heads form in a 2-layer attention-only model trained on repeated random tokens.

Trains the model of llmos.interp.induction (GPT-2 style blocks without MLPs, learned
positions) on sequences [A | A] of n random tokens twice, n drawn per batch from 3..14,
records the loss on each half and the best layer-1 prefix-matching score as it trains,
and marks the step where the repeated half's loss first falls below ln(V)/2. Then it
finds the induction head twice: by prefix-matching score and by patching each head's
output from a clean [A | A] run into a corrupted [B | A] run.

    nice -n 5 .venv/bin/python bench/interp_induction.py [--steps 1500]
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

from llmos.interp.heatmap import save_heatmap
from llmos.interp.induction import (InductionConfig, induction_head_by_patching, plot_induction_run,
                                    prefix_matching_scores, previous_token_scores, repeated_tokens,
                                    train_induction)

ROOT = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--out", type=Path, default=ROOT / "results")
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.time()
    cfg = InductionConfig(vocab_size=32, half_len=14, d_model=64, n_heads=4, steps=args.steps, batch_size=64,
                          lr=3e-3, eval_every=50)
    run = train_induction(cfg, progress=lambda s, loss, score: print(
        f"  step {s:5d}: repeated-half loss {loss:.3f}, best layer-1 prefix-matching score {score:.2f}"))
    ids = repeated_tokens(64, 9, cfg.vocab_size, torch.Generator().manual_seed(11))
    score, prev = prefix_matching_scores(run.model, ids), previous_token_scores(run.model, ids)
    patched = induction_head_by_patching(run.model, 9, cfg.vocab_size)
    layer, head = divmod(int(score.argmax()), score.shape[1])
    p_layer, p_head = divmod(int(patched.argmax()), patched.shape[1])
    print(f"formed at step {run.formed_at}; induction head by score: {layer}.{head} ({float(score.max()):.2f}); "
          f"by patching: {p_layer}.{p_head} ({float(patched.max()):.2f}); previous-token head: "
          f"0.{int(prev[0].argmax())} ({float(prev[0].max()):.2f})  [{time.time() - t0:.0f}s]")
    args.out.mkdir(parents=True, exist_ok=True)
    plot_induction_run(run, args.out / "interp_induction.png")
    labels = dict(row_labels=["layer 0", "layer 1"], col_labels=[f"head {h}" for h in range(cfg.n_heads)],
                  xlabel="head", ylabel="layer")
    save_heatmap(score, args.out / "interp_induction_scores.png", title="prefix-matching score", cmap="Blues",
                 centre=False, cbar="mean attention to the token after the earlier copy", **labels)
    save_heatmap(patched, args.out / "interp_induction_patching.png", cbar="share of the clean log-prob restored",
                 title="patching each head's output: clean [A|A] into corrupted [B|A]", **labels)
    result = dict(config=vars(cfg), formed_at=run.formed_at, steps=run.steps, loss_first=run.loss_first,
                  loss_repeat=run.loss_repeat, best_score=run.best_score, prefix_scores=score.tolist(),
                  previous_token_scores=prev.tolist(), patching=patched.tolist(), head_by_score=[layer, head],
                  head_by_patching=[p_layer, p_head], seconds=time.time() - t0, load_avg=os.getloadavg())
    (args.out / "interp_induction.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}/interp_induction*.png and .json; load average {result['load_avg']}")


if __name__ == "__main__":
    main()
