"""Step agreement of the agent's own policy on the held-out splits: teacher-forced, by action kind and template.

    .venv/bin/python bench/agent_policy_steps.py --run runs/agent --n 60

The oracle plays `n` variants of each held-out split through the Action API
(kept in RUN/heldout/SPLIT.jsonl, so a second run reuses them); then, on each
of their steps, the SFT policy (RUN/sft/model) and the SFT+DPO policy
(RUN/dpo/model; `final` is RUN/model, the one the DPO gate kept) answer
under the action schema, greedily, in each `--choose` mode (score: the best
of every listed action by whole-sequence log-prob; decode: token-by-token
greedy decoding), and the answer is compared with the oracle's
(`llmos.agent.learn.agreement`). An episode of n steps needs about every step right, so this says where the end-to-end
failures of bench/agent_policy.py come from, without a browser in the loop
for the policy. Figures go to bench/results/agent_policy_steps.json.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=Path("runs/agent"), help="a `llmos agent train` run folder")
    ap.add_argument("--n", type=int, default=60, help="oracle episodes per held-out split")
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--limit", type=int, default=400, help="steps per split and policy (sampled, seeded)")
    ap.add_argument("--policies", nargs="+", default=["sft", "dpo"], choices=["sft", "dpo", "final"],
                    help="sft (RUN/sft/model), dpo (RUN/dpo/model), final (RUN/model: the policy the gate kept)")
    ap.add_argument("--choose", nargs="+", default=["decode"], choices=["decode", "score", "within"],
                    help="how the policy picks its action (backend.py); several are measured on the same steps")
    ap.add_argument("--out", type=Path, default=Path("bench/results/agent_policy_steps.json"))
    args = ap.parse_args(argv)

    from llmos.agent.learn.agreement import step_agreement
    from llmos.agent.learn.backend import PolicyBackend
    from llmos.agent.learn.demos import collect
    from llmos.agent.learn.generator import generate
    from llmos.config import atomic_write_text

    folders = {"sft": args.run / "sft" / "model", "dpo": args.run / "dpo" / "model", "final": args.run / "model"}
    out = {"run": str(args.run), "n": args.n, "seed": args.seed, "splits": {}}
    for split in ("held_out_values", "held_out_templates"):
        episodes = collect(generate(split, args.n, args.seed), args.run / "heldout" / f"{split}.jsonl")
        out["splits"][split] = {"episodes": len(episodes), "oracle_success": sum(e.success for e in episodes)}
        for name in args.policies:
            if not (folders[name] / "config.json").exists():
                continue
            for mode in args.choose:
                t = time.perf_counter()
                report = step_agreement(PolicyBackend(folders[name], min_confidence=0.0, choose=mode), episodes,
                                        args.limit, examples=12)
                report.pop("confidence")
                report["seconds"] = round(time.perf_counter() - t, 1)
                label = f"{name} ({mode})" if len(args.choose) > 1 else name
                out["splits"][split][label] = report
                print(f"{split} {label}: agreement {report['agreement']} over {report['steps']} steps; "
                      f"misses {report['misses']}\n  by kind {report['by_kind']}\n  by template {report['by_template']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
