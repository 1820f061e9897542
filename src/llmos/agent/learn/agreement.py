"""Step agreement: on the oracle's own episodes, how often the policy's constrained greedy action is the oracle's.

Teacher-forced: every step is the context the oracle saw (its earlier actions
in the history), so one wrong step does not spoil the next. An episode of n
steps succeeds end to end only if about every step is right, so a step
agreement p puts success near p ** n (17 steps at p = 0.9: 17%): this is the
figure to watch while training, and it is cheap (no browser).

    report = step_agreement(PolicyBackend("runs/agent"), episodes, limit=400)
    report["agreement"], report["by_kind"]["select"], report["by_template"]["flights-cheapest"]

A step counts as right when the action equals the oracle's (a `done` counts
by its type alone: its answer is judged by the suite, not here). Where it is
wrong, the miss is put in one kind: `action` (another action type), `element`
(the same type on another element) or `value` (the same element, another
text or option).
"""
from __future__ import annotations

import json
import random


def _kind_of_miss(got: dict | None, want: dict) -> str:
    if got is None or got.get("type") != want.get("type"):
        return "action"
    if got.get("element") != want.get("element"):
        return "element"
    return "value"


def _rate(right: int, n: int) -> float | None:
    return round(right / n, 4) if n else None


def step_agreement(policy, episodes, limit: int | None = None, seed: int = 0,
                   examples: int = 0) -> dict:
    """Agreement of `policy` (a `PolicyBackend`) with the oracle over the successful `episodes`' steps.

    `limit` samples that many steps (seeded); `examples` keeps that many misses
    (template, task, the oracle's and the policy's action) for reading.
    """
    pool = [(ep.template, s) for ep in episodes if ep.success for s in ep.steps]
    if limit is not None and len(pool) > limit:
        pool = random.Random(seed).sample(pool, limit)
    tally: dict[str, dict[str, list[int]]] = {"kind": {}, "template": {}}
    misses: dict[str, int] = {}
    kept, right, confidences = [], 0, {"right": [], "wrong": []}
    for template, step in pool:
        want = step.action
        text, _, _ = policy.propose(step.context, temperature=0.0)
        try:
            got = json.loads(text)
        except json.JSONDecodeError:
            got = None
        ok = got == want or (got is not None and got.get("type") == want.get("type") == "done")
        right += ok
        confidences["right" if ok else "wrong"].append(policy.last_confidence)
        for key, value in (("kind", want.get("type", "?")), ("template", template)):
            cell = tally[key].setdefault(value, [0, 0])
            cell[0] += ok
            cell[1] += 1
        if not ok:
            miss = _kind_of_miss(got, want)
            misses[miss] = misses.get(miss, 0) + 1
            if len(kept) < examples:
                kept.append({"template": template, "task": step.context.task, "want": want, "got": got})
    return {"steps": len(pool), "agreement": _rate(right, len(pool)), "misses": misses,
            "by_kind": {k: _rate(*v) for k, v in sorted(tally["kind"].items())},
            "by_template": {k: _rate(*v) for k, v in sorted(tally["template"].items())},
            "confidence": confidences, "examples": kept}
