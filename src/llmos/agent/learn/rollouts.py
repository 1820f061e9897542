"""Agent Q style preference pairs: roll the SFT policy out, branch at its steps, judge, pair.

For each training variant:

1. Roll out: the policy drives a real session greedily. Beside it runs the
   oracle, as a critic that knows the plan: while the policy's actions agree
   with the oracle's, the oracle stays in step and says what progress is.
2. Branch: at every step still in agreement, `samples` more actions are drawn
   from the policy (temperature > 0). A sampled action that leaves the plan
   is a step that makes no progress: (oracle's action > sampled action) is a
   step-level pair, judged by progress.
3. Judge continuations: in an episode the policy failed, at the step where it
   first left the plan, the episode is played again with the same first
   steps, the oracle's action at that step, and the policy for the rest. The
   suite's own check judges the continuation; when it succeeds, the pair
   (oracle's action > policy's action) at that step is outcome-verified.

Pairs are `PreferencePair(prompt, chosen, rejected)` in the compact
observation format, the DPO machinery's input; each carries how it was
judged (`progress` or `outcome`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from llmos.agent.backends import ScriptedBackend
from llmos.agent.learn.backend import PolicyBackend
from llmos.agent.learn.demos import action_json
from llmos.agent.learn.observation import write_action
from llmos.agent.suite.oracle import OraclePolicy
from llmos.agent.suite.tasks import Task
from llmos.agent.views import StepContext, parse_action


def _same(a: dict | None, b: dict | None) -> bool:
    return a is not None and b is not None and write_action(a) == write_action(b)


def _parse(text: str) -> dict | None:
    try:
        return action_json(parse_action(text))
    except ValueError:
        return None


@dataclass
class Rollout:
    task: str
    success: bool
    steps: list[dict] = field(default_factory=list)   # {"prompt", "action", "oracle", "in_sync"}
    diverged_at: int | None = None                     # first step whose action left the plan


class ShadowedPolicy:
    """The policy, with the oracle alongside as a critic; an optional forced prefix replays a branch."""

    def __init__(self, policy: PolicyBackend, task: Task, prefix: list[dict] | None = None, samples: int = 0,
                 sample_temperature: float = 1.0, seed: int = 0):
        self.policy, self.task = policy, task
        self.oracle = OraclePolicy(task, wait_s=0.05)
        self.prefix = list(prefix or [])
        self.samples, self.temperature, self.seed = samples, sample_temperature, seed
        self.rollout = Rollout(task.id, False)
        self.in_sync = True
        self.alternatives: list[tuple[str, str, str]] = []  # (prompt, chosen, rejected) by progress

    def __call__(self, request):
        ctx: StepContext = request.context
        step = len(self.rollout.steps)
        oracle = action_json(self.oracle(ctx)) if self.in_sync else None
        if step < len(self.prefix):
            action = self.prefix[step]
        else:
            text, _, _ = self.policy.propose(ctx, temperature=0.0)
            action = _parse(text)
            if self.in_sync and self.samples:
                self._branch(ctx, oracle, step)
        agree = _same(action, oracle)
        if self.in_sync and not agree and self.rollout.diverged_at is None:
            self.rollout.diverged_at = step
        self.rollout.steps.append({"prompt": self.policy.render(ctx), "action": action, "oracle": oracle,
                                   "in_sync": self.in_sync})
        self.in_sync = self.in_sync and agree
        if action is None:
            return '{"type": "done", "answer": "no action", "success": false}'
        return write_action(action)

    def _branch(self, ctx: StepContext, oracle: dict | None, step: int) -> None:
        seen = set()
        for k in range(self.samples):
            text, _, _ = self.policy.propose(ctx, temperature=self.temperature,
                                             seed=self.seed * 1000 + step * 10 + k)
            alt = _parse(text)
            if alt is None or oracle is None or _same(alt, oracle) or write_action(alt) in seen:
                continue
            seen.add(write_action(alt))
            self.alternatives.append((self.policy.render(ctx), write_action(oracle), write_action(alt)))


def _play(agent, suite, task: Task, shadow: ShadowedPolicy, max_seconds: float) -> bool:
    from llmos.agent.suite.bench import run_task

    run = run_task(agent, suite, task, ScriptedBackend(shadow, name=shadow.policy.name), max_seconds)
    shadow.rollout.success = run.success
    return run.success


def preference_pairs(policy: PolicyBackend, tasks: list[Task], path: str | Path, samples: int = 2,
                     temperature: float = 1.0, verify: bool = True, max_seconds: float = 120.0,
                     progress: Callable[[str, bool], None] | None = None) -> list[dict]:
    """Roll out, branch and judge every task not yet in `path` (JSONL, one line per task); all pairs."""
    import tempfile

    from llmos.agent.service import Agent, AgentConfig
    from llmos.agent.suite.server import SuiteServer

    path = Path(path)
    done = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                done[row["task"]] = row
            except (json.JSONDecodeError, KeyError):
                continue
    todo = [t for t in tasks if t.id not in done]
    with tempfile.TemporaryDirectory(prefix="llmos-rollouts-") as tmp, SuiteServer() as suite, \
            Agent(None, AgentConfig(trace_dir=Path(tmp))) as agent, open(path, "a", encoding="utf-8") as f:
        for i, task in enumerate(todo):
            shadow = ShadowedPolicy(policy, task, samples=samples, sample_temperature=temperature, seed=i)
            ok = _play(agent, suite, task, shadow, max_seconds)
            pairs = [{"prompt": p, "chosen": c, "rejected": r, "judge": "progress"}
                     for p, c, r in shadow.alternatives]
            t = shadow.rollout.diverged_at
            if not ok and t is not None and shadow.rollout.steps[t]["oracle"] is not None:
                at = shadow.rollout.steps[t]
                rejected = write_action(at["action"]) if at["action"] else '{"type": "back"}'
                judge = "progress"
                if verify:
                    prefix = [s["action"] for s in shadow.rollout.steps[:t]] + [at["oracle"]]
                    branch = ShadowedPolicy(policy, task, prefix=prefix)
                    if _play(agent, suite, task, branch, max_seconds):
                        judge = "outcome"
                pairs.append({"prompt": at["prompt"], "chosen": write_action(at["oracle"]),
                              "rejected": rejected, "judge": judge})
            row = {"task": task.id, "success": ok, "steps": len(shadow.rollout.steps),
                   "diverged_at": t, "pairs": pairs}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()
            done[task.id] = row
            if progress is not None:
                progress(task.id, ok)
    return [p for row in done.values() for p in row["pairs"]]
