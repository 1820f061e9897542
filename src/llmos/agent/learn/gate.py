"""Keep DPO only where it helps: the SFT and DPO policies side by side on fresh oracle episodes.

A few dozen preference pairs can move a small policy off its demonstrations
as easily as towards the actions that succeed (BENCHMARKS.md: DPO below SFT
in every run so far). So after DPO, the oracle plays `tasks` fresh training
variants (a seed the demonstrations did not use), and both policies are
scored on the same sampled steps of them, teacher-forced, as
`agreement.step_agreement` does:

    kept = "dpo"  if agreement(DPO) >= agreement(SFT)  else "sft"

The verdict goes into `RUN/gate.json` and `progress.json`; `RUN/model` is the
policy kept. The variants are training ones: the held-out splits stay the
benchmark's alone.
"""
from __future__ import annotations

import json
from pathlib import Path

from llmos.agent.learn.agreement import step_agreement
from llmos.config import atomic_write_text


def gate(sft: str | Path, dpo: str | Path, episodes, steps: int = 200, seed: int = 0) -> dict:
    """{"sft": agreement, "dpo": agreement, "steps": n, "kept": "sft" | "dpo"} on `episodes`' steps."""
    from llmos.agent.learn.backend import PolicyBackend

    scores = {name: step_agreement(PolicyBackend(folder), episodes, limit=steps, seed=seed)
              for name, folder in (("sft", sft), ("dpo", dpo))}
    out = {name: r["agreement"] or 0.0 for name, r in scores.items()}
    out["steps"] = scores["sft"]["steps"]
    out["kept"] = "dpo" if out["dpo"] >= out["sft"] else "sft"
    return out


def write_gate(run: str | Path, verdict: dict) -> Path:
    path = Path(run) / "gate.json"
    atomic_write_text(path, json.dumps(verdict, indent=2) + "\n")
    return path
