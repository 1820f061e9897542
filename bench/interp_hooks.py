"""The cost of hook points when none is attached: hooks-off forward vs the code before hooks.

Method: the decoder's four modules as they were before hook points existed
(`git show BASE:src/llmos/nn/{causal_lm,mha,mlp,moe}.py`, BASE = the commit
before them) are loaded side by side with today's as a private package, both
models get the same weights, and their forwards are timed interleaved in one
process (A, B, A, B, ...), so machine load hits both alike. The figures are the
ratios of the fastest and of the median times (on a loaded machine the fastest
run is the closest to the code's own cost); the goal is within 2%. A third row times a forward with
one hook attached (a cache of one activation), for scale.

    nice -n 5 .venv/bin/python bench/interp_hooks.py [--base d627f8d] [--repeats 60]
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from llmos.nn import CausalLM, ModelConfig

ROOT = Path(__file__).resolve().parent
MODULES = ("mlp", "moe", "mha", "causal_lm")


def load_prehook_package(base: str) -> object:
    """Today's llmos with causal_lm, mha, mlp and moe taken from commit `base`, as package `llmos_prehooks`."""
    folder = Path(tempfile.mkdtemp()) / "llmos_prehooks"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for name in MODULES:
        src = subprocess.run(["git", "show", f"{base}:src/llmos/nn/{name}.py"], cwd=ROOT.parent,
                             capture_output=True, text=True, check=True).stdout
        for other in MODULES:
            src = src.replace(f"llmos.nn.{other} ", f"llmos_prehooks.{other} ")
        (folder / f"{name}.py").write_text(src)
    sys.path.insert(0, str(folder.parent))
    return importlib.import_module("llmos_prehooks.causal_lm")


def time_once(model, ids: torch.Tensor) -> float:
    t0 = time.perf_counter()
    model(ids)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="d627f8d", help="the commit before hook points")
    ap.add_argument("--repeats", type=int, default=60)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "interp_hooks.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    old_lm = load_prehook_package(args.base)
    rows = []
    for family, shape in (("gpt2", (4, 64)), ("llama", (4, 64)), ("gpt2", (1, 1))):
        torch.manual_seed(0)
        cfg = ModelConfig.for_family(family, vocab_size=2048, d_model=128, n_layers=4, n_heads=4,
                                     d_ff=512, max_seq_len=256)
        new = CausalLM(cfg).eval()
        old = old_lm.CausalLM(cfg).eval()
        old.load_state_dict(new.state_dict())
        ids = torch.randint(0, 2048, shape)
        one_hook = lambda x: new.run_with_cache(x, names_filter="blocks.3.hook_resid_post")  # noqa: E731
        times = {"before hooks": [], "hooks off": [], "one hook": []}
        with torch.no_grad():
            torch.testing.assert_close(old(ids).logits, new(ids).logits, rtol=0, atol=0)
            for _ in range(3):
                old(ids), new(ids)
            for _ in range(args.repeats):
                times["before hooks"].append(time_once(old, ids))
                times["hooks off"].append(time_once(new, ids))
                times["one hook"].append(time_once(one_hook, ids))
        med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        best = {k: min(v) * 1e3 for k, v in times.items()}
        row = dict(family=family, batch=shape[0], tokens=shape[1], median_ms=med, min_ms=best,
                   hooks_off_ratio_min=best["hooks off"] / best["before hooks"],
                   hooks_off_ratio_median=med["hooks off"] / med["before hooks"])
        rows.append(row)
        print(f"{family:6s} B={shape[0]} T={shape[1]:4d}  fastest: before hooks {best['before hooks']:8.3f} ms, "
              f"hooks off {best['hooks off']:8.3f} ms ({100 * (row['hooks_off_ratio_min'] - 1):+.1f}%), "
              f"one hook {best['one hook']:8.3f} ms;  median: {med['before hooks']:8.3f} / {med['hooks off']:8.3f} ms "
              f"({100 * (row['hooks_off_ratio_median'] - 1):+.1f}%)")
    # What hooks-off adds, counted: one empty-dict truth test per hookable module per forward.
    model = CausalLM(ModelConfig.for_family("gpt2", vocab_size=2048, d_model=128, n_layers=4, n_heads=4,
                                            d_ff=512, max_seq_len=256))
    checks = 3 + 6 * len(model.blocks)       # embed, positions, final norm; per block: 1 + 4 in attention + 1 in the MLP
    empty: dict = {}
    t0 = time.perf_counter()
    for _ in range(100_000):
        if empty:
            pass
    per_check = (time.perf_counter() - t0) / 100_000
    print(f"hooks off adds {checks} empty-dict tests per forward here, {per_check * 1e9:.0f} ns each: "
          f"{checks * per_check * 1e6:.2f} us per forward")
    load = os.getloadavg()
    result = dict(base=args.base, repeats=args.repeats, threads=args.threads, rows=rows,
                  checks_per_forward=checks, ns_per_check=per_check * 1e9,
                  load_avg=load, torch=torch.__version__)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; wrote {args.out}")


if __name__ == "__main__":
    main()
