"""Causal tracing and ROME on a GPT that llmos trains on a synthetic world of facts.

1. The world (text/facts.py, seed 0): 40 people (sport, birth city) and 30 countries
   (capital, language), 140 facts, four templates per relation, one held out per fact.
   Names come from small shared pools (--name-pool 7 words: a person is an ordered pair of
   them), so only the whole subject, not its last word, identifies it.
   A 6-layer GPT-2 style model (d_model 64) is trained on it until it answers >= 95% (cached on disk).
2. Causal tracing (ROME fig. 1) on --trace-facts known facts: noise 3 sigma on the subject,
   --samples noise samples, hidden / MLP / attention restoration; averaged by token role
   as the paper's figure; PNG + where each effect peaks.
3. --edits counterfactual edits, one at a time, by ROME, FT and FT-L on the same layer:
   Efficacy, Paraphrase, Neighborhood and their harmonic mean (CounterFact's Score).

    nice -n 5 .venv/bin/python -u bench/interp_facts.py [--trace-facts 100] [--edits 100]

On a busy machine the phases can run apart, the edits in shards side by side:
    --phase train, then --phase trace, then --phase edit --shard 0/3 (1/3, 2/3), then --phase merge
"""
from __future__ import annotations

import argparse
import json
import os
import random
import time
from dataclasses import asdict
from pathlib import Path
from statistics import harmonic_mean

import torch

from llmos.interp.counterfact import evaluate_method, make_cases
from llmos.interp.facts_model import FactsModelConfig, load_or_train
from llmos.interp.rome import RomeConfig, key_covariance
from llmos.interp.tracing import ROLES, average_by_role, causal_trace, plot_trace
from llmos.text.facts import make_world

ROOT = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path.home() / ".cache" / "llmos" / "interp_facts")
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--name-pool", type=int, default=7, help="words per name pool (0: make_world's default pools)")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--trace-facts", type=int, default=100)
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--window", type=int, default=1)
    ap.add_argument("--edits", type=int, default=100)
    ap.add_argument("--layer", type=int, default=None, help="the MLP to edit; default the MLP peak of the trace")
    ap.add_argument("--out", type=Path, default=ROOT / "results")
    ap.add_argument("--phase", choices=["all", "train", "trace", "edit", "merge"], default="all")
    ap.add_argument("--any-edit-prompt", action="store_true",
                    help="edit on each fact's first training template even where the subject is not first")
    ap.add_argument("--shard", default="0/1", help="k/N: this process edits cases k, k+N, k+2N, ...")
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.time()
    world = make_world(0, persons=40, countries=30, companies=0,
                       relations=["sport", "birth_city", "capital", "language"], name_pool=args.name_pool or None)
    cfg = FactsModelConfig(d_model=64, n_layers=args.layers, steps=args.steps, batch_size=64, lr=5e-3, eval_every=50)
    lab = load_or_train(args.work / f"model_l{args.layers}_p{args.name_pool}", world, cfg,
                        progress=lambda s, loss, acc: print(f"  step {s}: loss {loss:.3f}, accuracy {acc:.2f}"))
    args.out.mkdir(parents=True, exist_ok=True)
    parts = args.work / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    if args.phase in ("all", "train"):
        acc, held = lab.accuracy(), lab.accuracy(held_out=True)
        print(f"facts model: {len(world.facts)} facts, accuracy {acc:.3f} (training templates), "
              f"{held:.3f} (held-out templates)  [{time.time() - t0:.0f}s]")
        _save(parts / "train.json", dict(facts=len(world.facts), accuracy=acc, held_out_accuracy=held,
                                         layers=args.layers, name_pool=args.name_pool, model=asdict(cfg)))
    if args.phase in ("all", "trace"):
        _save(parts / "trace.json", trace_phase(lab, args))
        print(f"  [{time.time() - t0:.0f}s]")
    if args.phase in ("all", "edit"):
        k, n = map(int, args.shard.split("/"))
        layer = (json.loads((parts / "trace.json").read_text())["peaks"]["mlp"]["layer"]
                 if args.layer is None else args.layer)
        _save(parts / f"edit_{k}_of_{n}.json", edit_phase(lab, args, layer, k, n, t0))
    if args.phase in ("all", "merge"):
        merge(parts, args.out)


def _save(path: Path, data: dict) -> None:
    data["load_avg"] = os.getloadavg()
    path.write_text(json.dumps(data, indent=2) + "\n")


def trace_phase(lab, args) -> dict:
    world = lab.world
    known = [f for f in world.facts if lab.known(f, world.train_templates(f)[0])][: args.trace_facts]
    traces = []
    for f in known:
        ids = lab.ids(world.prompt(f, world.train_templates(f)[0]))
        traces.append(causal_trace(lab.model, ids, lab.subject_span(ids, f.subject), lab.token(f.object),
                                   samples=args.samples, window=args.window))
    avg = average_by_role(traces)
    peaks = {}
    for kind, grid in avg.items():
        r, layer = divmod(int(grid.argmax()), grid.shape[1])
        peaks[kind] = dict(role=ROLES[r], layer=layer, effect=float(grid.max()))
        print(f"trace {kind:>6s}: peak at {ROLES[r]}, layer {layer} (+{float(grid.max()):.3f})")
    png = plot_trace(avg, ROLES, args.out / "interp_trace.png",
                     f"causal tracing averaged over {len(traces)} facts (noise 3 sigma, {args.samples} samples)",
                     args.window)
    return dict(facts=len(traces), samples=args.samples, window=args.window, peaks=peaks,
                effects={k: v.tolist() for k, v in avg.items()}, png=png.name)


def edit_phase(lab, args, layer: int, k: int, n: int, t0: float) -> dict:
    world = lab.world
    encode = lambda text: lab.tokenizer.encode(text, add_special_tokens=False)  # noqa: E731
    rows = [[lab.tokenizer.eos_id] + encode(s) for s in world.sentences()]
    cov = key_covariance(lab.model, layer, rows, args.work / "cov")
    rng = random.Random(0)
    prefixes = [[lab.tokenizer.eos_id] + encode(s) for s in rng.sample(world.sentences(), 5)]
    cases = make_cases(lab, args.edits, seed=0, subject_first=not args.any_edit_prompt)[k::n]
    table = {}
    for method in ("rome", "ft", "ft_l"):
        table[method] = evaluate_method(lab, cases, method, layer, cov=cov, prefixes=prefixes,
                                        rome_cfg=RomeConfig(layer=layer))
        print(f"shard {k}/{n} {method}: {table[method]} [{time.time() - t0:.0f}s]")
    return dict(layer=layer, shard=[k, n], subject_first=not args.any_edit_prompt, table=table)


def merge(parts: Path, out: Path) -> None:
    """One result file from the phases: edit metrics averaged over shards, weighted by their edits."""
    result = dict(train=json.loads((parts / "train.json").read_text()),
                  trace=json.loads((parts / "trace.json").read_text()))
    shards = [json.loads(p.read_text()) for p in sorted(parts.glob("edit_*_of_*.json"))]
    table = {}
    for method in ("rome", "ft", "ft_l"):
        rows = [s["table"][method] for s in shards]
        total = sum(r["edits"] for r in rows)
        m = {key: sum(r[key] * r["edits"] for r in rows) / total for key in ("efficacy", "paraphrase", "neighborhood")}
        m["score"] = harmonic_mean(list(m.values())) if min(m.values()) > 0 else 0.0
        m["edits"] = total
        table[method] = m
        print(f"{method:>5s} on layer {shards[0]['layer']}: efficacy {m['efficacy']:.3f}  paraphrase "
              f"{m['paraphrase']:.3f}  neighborhood {m['neighborhood']:.3f}  score {m['score']:.3f}  ({total} edits)")
    result["edits"] = dict(layer=shards[0]["layer"], table=table, shard_load_avg=[s["load_avg"] for s in shards])
    (out / "interp_facts.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out / 'interp_facts.json'}")


if __name__ == "__main__":
    main()
