"""Tree of Thoughts on Game of 24: IO, chain of thought, CoT with self-consistency, and ToT with b=5.

One small model trains on the Game of 24 mix of `llmos.text.game24` (one-step
proposals "4 9 10 13 -> 13-9=4 (left: 4 4 10)", value judgements sure /
impossible for the numbers left, whole chains, and direct answers), never on
the 100 held-out puzzles. Each method then runs on the held-out puzzles through
`llmos.reason` over the in-process model, and `llmos.text.game24.check` judges
each answer (the puzzle's numbers, each once, making 24):

    IO        FewShot over "io: a b c d ->"                      1 call
    CoT       CoT over "solve: a b c d ->"                       1 call
    CoT-SC    SelfConsistency(CoT, k) over the answers            1 call of n=k samples (k = 10 and 100)
    ToT       ToT(Game24(), breadth=5, depth=3, n_propose=32)    a propose call per kept state, a value call per new state

ToT values a state by logprobs (the expected value of a valuation, from one
score call per state, which ranks the many states valued "sure" instead of
leaving them tied); `--value-by samples,logprobs` adds a row valued by one
greedy valuation per state (sure / impossible, as the paper samples them).

A proposed thought that is not a legal move from its state (a number not
there, wrong arithmetic, a wrong list of what is left) is dropped by
`Game24.next_state`, as the rules of the game would refuse it.

The table gives each method's success and its model calls (and sampled
sequences) per puzzle, for comparison at equal compute. For reference, GPT-4
in the ToT paper: IO 7.3%, CoT 4.0%, CoT-SC (k=100) 9.0%, ToT (b=5) 74%.

    .venv/bin/python bench/reason_game24.py       # 8000 steps, d_model 128, 3 layers, bf16 where native
Figures: bench/results/reason_game24.json and reason_game24.png (a ToT search tree).
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=8000)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--n-layers", type=int, default=3)
    ap.add_argument("--puzzles", type=int, default=100)
    ap.add_argument("--sc-k", default="10,100", help="CoT-SC: chains voted, one row per k (comma-separated)")
    ap.add_argument("--n-propose", type=int, default=32, help="ToT: proposals sampled per state (one call)")
    ap.add_argument("--max-thoughts", type=int, default=16, help="ToT: distinct legal thoughts kept per state")
    ap.add_argument("--breadth", default="5", help="ToT: states kept per depth, one row per b (comma-separated)")
    ap.add_argument("--value-by", default="logprobs",
                    help="ToT: how states are valued, one row each: samples (one greedy valuation, as the "
                         "paper samples them) or logprobs (the expected value, from one score call)")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "reason_game24.json")
    ap.add_argument("--run", default="runs/bench-game24")
    ap.add_argument("--skip-train", action="store_true", help="evaluate the model already in --run")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads for training and decoding")
    ap.add_argument("--precision", default="auto", help="training forward dtype: fp32, bf16, auto")
    args = ap.parse_args()

    import torch
    from llmos.reason import CoT, FewShot, LocalBackend, SelfConsistency, ToT
    from llmos.reason.game24 import Game24
    from llmos.reason.train import TrainTaskConfig, train_task
    from llmos.reason.tree_plot import draw_tree
    from llmos.text import game24 as g
    torch.set_num_threads(args.threads)
    began, train_seconds, params = time.time(), None, None
    if not args.skip_train:
        cfg = TrainTaskConfig(task="game24", format="cot", d_model=args.d_model, n_layers=args.n_layers,
                              d_ff=3 * args.d_model, max_seq_len=192, steps=args.steps, batch_size=args.batch_size,
                              eval_n=5, threads=args.threads,
                              precision=args.precision)
        r = train_task(cfg, args.run, lambda s, loss: print(f"step {s} loss {loss:.3f}", flush=True)
                       if s % 200 == 0 else None)
        print(f"trained {r.params:,} params in {r.seconds:.0f} s", flush=True)
        train_seconds, params = round(r.seconds, 1), r.params
    backend = LocalBackend.load(args.run)
    puzzles = g.split()[1][:args.puzzles]
    methods = {
        "IO": FewShot(template="io: {question} ->", stop=["\n"], max_tokens=40, numeric=False, logprobs=False),
        "CoT": CoT(template="solve: {question} ->", trigger="", stop=["\n"], max_tokens=140, numeric=False,
                   logprobs=False),
        **{f"CoT-SC (k={k})": SelfConsistency(CoT(template="solve: {question} ->", trigger="", stop=["\n"],
                                                   max_tokens=140, numeric=False, logprobs=False),
                                               k=k, temperature=0.7) for k in map(int, args.sc_k.split(","))},
        **{f"ToT (b={b}, values by {v})": ToT(task=Game24(), breadth=b, depth=3, n_propose=args.n_propose,
                                              max_thoughts=args.max_thoughts, n_value=1, value_by=v, stop=["\n"],
                                              propose_tokens=48, value_tokens=12, temperature=1.0)
           for b in map(int, args.breadth.split(",")) for v in args.value_by.split(",")},
    }
    table, drawn = {}, False
    for name, strategy in methods.items():
        start, wins, calls, seqs = time.time(), 0, 0, 0
        for i, puzzle in enumerate(puzzles):
            question = g.puzzle_text(puzzle)
            result = strategy.solve(question, backend, seed=i)
            answer = result.text.strip() if name == "IO" else result.answer
            ok = g.check(puzzle, answer)
            wins += ok
            calls += len(result.trace.calls)
            seqs += sum(c.params["n"] for c in result.trace.calls)
            if name.startswith("ToT") and ok and not drawn:
                draw_tree(result.trace, args.out.with_suffix(".png"), f"{name} on {question}")
                drawn = True
        table[name] = {"success": wins / len(puzzles), "calls_per_puzzle": calls / len(puzzles),
                       "sequences_per_puzzle": seqs / len(puzzles), "seconds": round(time.time() - start, 1)}
        print(f"{name:>14}: {wins / len(puzzles):6.1%} success, {calls / len(puzzles):6.1f} calls "
              f"({seqs / len(puzzles):.1f} sampled sequences) per puzzle", flush=True)
    out = {"settings": vars(args), "load": os.getloadavg(), "puzzles": len(puzzles), "params": params,
           "train_seconds": train_seconds, "total_seconds": round(time.time() - began, 1), "table": table}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
