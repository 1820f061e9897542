"""Chain of thought against the direct answer, the error breakdown, and self-consistency, on word problems.

Three models of one size train on the same word problems (1-3 operations) for
the same steps, batch and therefore nearly the same tokens of problems, each
in one answer format (llmos.text.word_problems):

    direct   "The answer is 16."
    cot      "23-20=3. 3+5=8. 8*2=16. The answer is 16."
    calc     "<<23-20=3>> <<3+5=8>> <<8*2=16>> The answer is 16."   (results written by the calculator)

Then, on held-out problems of 1-3 operations (trained) and 4 (longer than trained):

1. accuracy of each, the calc model both with the calculator running while it
   decodes and without (it must then write each result itself);
2. every failed chain classified against the known right one: calculator error,
   symbol-mapping error, one missing step, or other;
3. self-consistency over one model (`--sc-format`, by default the calc model
   with its calculator): k = 1, 2, 4, 8, 16 sampled chains (temperature 0.7)
   voted, through `llmos.reason.SelfConsistency`'s vote, and the calibration
   of the vote share (ECE, reliability diagram).

    nice -n 5 .venv/bin/python bench/reason_cot.py all --steps 1500
    .venv/bin/python bench/reason_cot.py train --format calc --steps 1500   # one model
    .venv/bin/python bench/reason_cot.py report                              # evaluate trained models

Figures: bench/results/reason_cot.json, reason_cot.png (accuracy by operations),
reason_errors.png, reason_sc.png, reason_reliability.png.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent
FORMATS = ("direct", "cot", "calc")
KINDS = ("calculator", "symbol mapping", "missing step", "other")


def train(args) -> None:
    from llmos.reason.train import TrainTaskConfig, train_task
    cfg = TrainTaskConfig(task="word", format=args.format, steps=args.steps, batch_size=args.batch_size,
                          d_model=args.d_model, n_layers=args.n_layers, d_ff=args.d_ff, threads=1, eval_n=50,
                          seed=args.seed)
    start = time.time()

    def progress(step: int, loss: float) -> None:
        if step % 100 == 0 or step == cfg.steps:
            print(f"[{args.format}] step {step}/{cfg.steps} loss {loss:.3f} ({time.time() - start:.0f} s)", flush=True)

    r = train_task(cfg, Path(args.runs) / f"word-{args.format}", progress)
    print(f"[{args.format}] {r.params:,} params, {r.seconds:.0f} s, held-out accuracy {r.accuracy}", flush=True)


def report(args) -> None:
    import torch
    from llmos.hub import load_pretrained
    from llmos.reason import CoT, Context, LocalBackend, Trace, vote
    from llmos.reason.answers import normalize
    from llmos.reason.calibration import ece, plot_reliability, reliability
    from llmos.reason.train import evaluate
    from llmos.text import word_problems as wp

    torch.set_num_threads(1)
    out: dict = {"settings": vars(args).copy(), "load": os.getloadavg()}
    models = {f: load_pretrained(Path(args.runs) / f"word-{f}") for f in FORMATS}
    sizes = [1, 2, 3, 4]
    held = {n: wp.held_out_problems(args.n_eval, n, seed=1) for n in sizes}
    acc, errors, texts = {}, {}, {}
    for name, fmt, calc in [("direct", "direct", False), ("cot", "cot", False), ("calc+calculator", "calc", True),
                            ("calc, no calculator", "calc", False)]:
        model, tok = models[fmt]
        acc[name], errors[name] = {}, {}
        for n in sizes:
            a, outs = evaluate(model, tok, "word", held[n], calculator=calc, max_new_tokens=110)
            acc[name][n] = a
            texts[(name, n)] = outs
            if fmt != "direct":
                kinds = Counter(wp.classify_error(p, t) for p, t in zip(held[n], outs))
                errors[name][n] = {k: kinds.get(k, 0) for k in ("correct",) + KINDS}
            print(f"{name:>20} ops={n}: {a:.1%}", flush=True)
    out["accuracy"], out["errors"] = acc, errors
    out["params"] = {f: models[f][0].num_parameters() for f in FORMATS}
    out["examples"] = {name: [(held[3][i].text, texts[(name, 3)][i]) for i in range(3)] for name, _ in
                       [("cot", 0), ("calc+calculator", 0), ("calc, no calculator", 0)]}

    # self-consistency over one model (--sc-format): 16 chains per problem in one call, votes over the first k
    model, tok = models[args.sc_format]
    calc = args.sc_format == "calc"                          # the calc model decodes with its calculator on
    backend = LocalBackend(model, tok, calculator=calc, start_token=True)   # as trained: after a start token
    cot = CoT(trigger="", stop=["\n"], max_tokens=110, logprobs=False)
    ks, sc_n = [1, 2, 4, 8, 16], args.n_sc
    hits = {k: 0 for k in ks}
    conf, right = [], []
    for i, p in enumerate(held[3][:sc_n]):
        ctx = Context(backend, Trace("self_consistency", p.text), seed=1000 + i)
        answers = [a for _, a in cot.sample(p.text, ctx, 16, temperature=0.7)]
        for k in ks:
            winner, share = vote(answers[:k])
            hits[k] += normalize(winner) == str(p.answer)
        winner, share = vote(answers)
        conf.append(share)
        right.append(normalize(winner) == str(p.answer))
    greedy = acc["calc+calculator" if calc else args.sc_format][3]
    out["self_consistency"] = {"model": args.sc_format + (" + calculator" if calc else ""), "ops": 3,
                               "problems": sc_n, "greedy": greedy,
                               "accuracy": {k: hits[k] / sc_n for k in ks}, "ece": ece(conf, right),
                               "reliability": [vars(b) for b in reliability(conf, right)]}
    print("self-consistency:", out["self_consistency"]["accuracy"], "ECE", round(out["self_consistency"]["ece"], 3))
    results = ROOT / "results"
    results.mkdir(exist_ok=True)
    (results / "reason_cot.json").write_text(json.dumps(out, indent=2, default=str) + "\n")
    plots(out, results)
    plot_reliability(conf, right, results / "reason_reliability.png",
                     f"{out['self_consistency']['model']} model, vote share of 16 chains "
                     f"(ECE {out['self_consistency']['ece']:.3f})")


def plots(out: dict, results: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, by_size in out["accuracy"].items():
        ax.plot(list(by_size), list(by_size.values()), "o-", label=name)
    ax.axvspan(0.5, 3.5, color="grey", alpha=0.1, label="trained lengths")
    ax.set_xlabel("operations in the problem")
    ax.set_ylabel("held-out accuracy")
    ax.set_xticks([1, 2, 3, 4])
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    ax.set_title("word problems: chain of thought vs direct answer")
    fig.savefig(results / "reason_cot.png", dpi=110, bbox_inches="tight")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    names = [n for n in out["errors"]]
    bottom = [0.0] * len(names)
    for kind in KINDS:
        vals = [sum(out["errors"][n][s][kind] for s in out["errors"][n]) for n in names]
        ax.bar(names, vals, bottom=bottom, label=kind)
        bottom = [b + v for b, v in zip(bottom, vals)]
    ax.set_ylabel("failed chains (1-4 operations)")
    ax.set_title("why chains fail, with and without the calculator")
    ax.legend(fontsize=8)
    fig.savefig(results / "reason_errors.png", dpi=110, bbox_inches="tight")
    plt.close(fig)

    sc = out["self_consistency"]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(list(sc["accuracy"]), list(sc["accuracy"].values()), "o-", label="self-consistency")
    ax.axhline(sc["greedy"], ls="--", color="grey", label="greedy chain")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("sampled chains k")
    ax.set_ylabel(f"accuracy, {sc['model']} (3 operations)")
    ax.legend(fontsize=8)
    fig.savefig(results / "reason_sc.png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["all", "train", "report"])
    ap.add_argument("--format", choices=FORMATS, default="calc")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--n-layers", type=int, default=3)
    ap.add_argument("--d-ff", type=int, default=192)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-eval", type=int, default=200, help="held-out problems per number of operations")
    ap.add_argument("--n-sc", type=int, default=100, help="problems for the self-consistency curve")
    ap.add_argument("--sc-format", choices=FORMATS, default="calc",
                    help="the model the self-consistency curve is measured on (calc: with its calculator)")
    ap.add_argument("--runs", default="runs/bench-reason")
    args = ap.parse_args()
    if args.command == "train":
        return train(args)
    if args.command == "all":                # the three formats train side by side, one process each
        common = [f"--steps={args.steps}", f"--batch-size={args.batch_size}", f"--d-model={args.d_model}",
                  f"--n-layers={args.n_layers}", f"--d-ff={args.d_ff}", f"--seed={args.seed}", f"--runs={args.runs}"]
        procs = [subprocess.Popen([sys.executable, __file__, "train", f"--format={f}", *common]) for f in FORMATS]
        if any(p.wait() for p in procs):
            sys.exit("a training process failed; see its output above")
    report(args)


if __name__ == "__main__":
    main()
