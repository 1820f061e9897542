"""Emergence as a mirage of the metric (Schaeffer et al. 2023), on multi-digit addition.

Six or more models, spanning at least 30x in parameters, train on the same
addition problems (direct answers, `llmos.text.arithmetic`) for the same
steps. On held-out problems each is scored three ways:

    exact match        the whole answer right: a harsh, all-or-nothing metric
    per-digit accuracy share of answer digits right (aligned from the right)
    edit distance      Levenshtein distance between the answer and the truth, in characters

Plotted against parameters, exact match should rise late and steeply
("emergent") while the per-token metrics improve smoothly; and if digit errors
are roughly independent, exact match ~= (per-digit accuracy)^L for L-digit answers.

    nice -n 5 .venv/bin/python bench/reason_mirage.py --digits 3 --steps 3000
Figures: bench/results/reason_mirage.json and reason_mirage.png.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SIZES = [(16, 1), (24, 1), (32, 2), (48, 2), (64, 3), (96, 3), (128, 4)]      # (d_model, n_layers)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--digits", type=int, default=3, help="digits of each operand")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3, help="peak learning rate, the same for every size")
    ap.add_argument("--n-eval", type=int, default=300)
    ap.add_argument("--sizes", type=int, default=len(SIZES), help="how many of the model sizes to train")
    ap.add_argument("--runs", default="runs/bench-mirage")
    args = ap.parse_args()

    import torch
    from llmos.reason.train import TrainTaskConfig, evaluate, train_task
    from llmos.text import arithmetic as ar
    torch.set_num_threads(1)
    held = ar.held_out_problems(args.n_eval, "+", args.digits, seed=3)
    rows = []
    for d_model, n_layers in SIZES[:args.sizes]:
        cfg = TrainTaskConfig(task="add", format="direct", sizes=[args.digits], d_model=d_model, n_layers=n_layers,
                              n_heads=4 if d_model >= 32 else 2, d_ff=3 * d_model, max_seq_len=32,
                              steps=args.steps, batch_size=args.batch_size, lr=args.lr, eval_n=10, threads=1)
        start = time.time()
        result = train_task(cfg, Path(args.runs) / f"d{d_model}-l{n_layers}")
        from llmos.hub import load_pretrained
        model, tok = load_pretrained(result.run_dir)
        exact, texts = evaluate(model, tok, "add", held, calculator=False, max_new_tokens=args.digits + 3)
        answers = [t.strip() for t in texts]
        digit = sum(ar.digit_accuracy(a, p.answer) for a, p in zip(answers, held)) / len(held)
        edit = sum(ar.edit_distance(a, str(p.answer)) for a, p in zip(answers, held)) / len(held)
        length = sum(len(str(p.answer)) for p in held) / len(held)
        rows.append({"d_model": d_model, "n_layers": n_layers, "params": result.params, "exact": exact,
                     "per_digit": digit, "per_digit_pow_L": digit ** length, "edit_distance": edit,
                     "answer_len": length, "seconds": round(time.time() - start, 1)})
        print(json.dumps(rows[-1]), flush=True)
    out = {"settings": vars(args), "load": os.getloadavg(), "rows": rows}
    results = ROOT / "results"
    results.mkdir(exist_ok=True)
    (results / "reason_mirage.json").write_text(json.dumps(out, indent=2) + "\n")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    params = [r["params"] for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].plot(params, [r["exact"] for r in rows], "o-", label="exact match")
    axes[0].plot(params, [r["per_digit"] for r in rows], "s-", label="per-digit accuracy")
    axes[0].plot(params, [r["per_digit_pow_L"] for r in rows], "x--", label="(per-digit)^L")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("parameters")
    axes[0].set_ylabel("held-out score")
    axes[0].legend(fontsize=8)
    axes[0].set_title(f"{args.digits}-digit addition")
    axes[1].plot(params, [r["edit_distance"] for r in rows], "o-", color="C3")
    axes[1].set_xscale("log")
    axes[1].set_xlabel("parameters")
    axes[1].set_ylabel("mean edit distance (characters)")
    fig.savefig(results / "reason_mirage.png", dpi=110, bbox_inches="tight")
    plt.close(fig)


if __name__ == "__main__":
    main()
