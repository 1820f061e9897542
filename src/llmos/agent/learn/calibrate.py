"""The policy's confidence threshold, measured on its own demonstrations.

The policy asks the person instead of acting when its action's probability
under the constraint is below `min_confidence` (backend.py). The threshold is
set from steps it was trained on: their greedy actions' confidences, where the
action is the oracle's, are what "knowing what to do" looks like, and the
threshold is their `quantile` (1% by default), capped at `cap`:

    RUN/model/policy.json   {"min_confidence": 0.1405, "quantile": 0.01, "steps": 300,
                             "agreement": 0.7533, "confidence_when_right": {...}, "confidence_when_wrong": {...}}

so about one in a hundred steps it would have got right becomes a question,
and a step it is unsure of on a request unlike anything it learned becomes
one too (one of five such tasks in BENCHMARKS.md ended this way; the loop
guard stopped three).
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path

from llmos.agent.learn.agreement import step_agreement
from llmos.agent.learn.backend import POLICY_FILE, PolicyBackend


def _summary(values: list[float]) -> dict:
    if not values:
        return {}
    q = sorted(values)
    return {"n": len(q), "min": round(q[0], 4), "p01": round(q[int(0.01 * len(q))], 4),
            "p10": round(q[int(0.1 * len(q))], 4), "median": round(statistics.median(q), 4)}


def calibrate(folder: str | Path, episodes, steps: int = 300, quantile: float = 0.01, cap: float = 0.5,
              seed: int = 0, choose: str = "decode") -> dict:
    """Measure the threshold on `steps` steps of `episodes` and write it to FOLDER/policy.json."""
    folder = Path(folder)
    policy = PolicyBackend(folder, min_confidence=0.0, choose=choose)
    report = step_agreement(policy, episodes, limit=steps, seed=seed)
    right, wrong = report["confidence"]["right"], report["confidence"]["wrong"]
    ranked = sorted(right)
    threshold = min(cap, ranked[int(quantile * len(ranked))]) if ranked else 0.0
    info = {"min_confidence": round(threshold, 4), "choose": choose, "quantile": quantile, "cap": cap,
            "steps": report["steps"], "agreement": report["agreement"],
            "agreement_by_kind": report["by_kind"], "misses": report["misses"],
            "confidence_when_right": _summary(right), "confidence_when_wrong": _summary(wrong)}
    (folder / POLICY_FILE).write_text(json.dumps(info, indent=2) + "\n")
    return info
