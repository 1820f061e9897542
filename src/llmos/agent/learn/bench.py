"""The trained policy on the held-out splits, beside the oracle: success, steps and why it failed.

    report = bench_policy(PolicyBackend("runs/agent"), generate("held_out_values", 24))

Every variant runs through the Action API against the suite (as `llmos agent
bench` does), with the oracle alongside as a critic (`rollouts.ShadowedPolicy`,
no sampling), so a failure is put in one kind:

    wrong element   the first step off the plan acted on another element (or took another action type)
    wrong value     the right element, another text or option
    loop            the loop guard or the no-progress guard ended the session
    gave up         the policy answered done(success=false) or asked the person, or gave no action
    step limit      the step budget ran out
    other           anything else (a check that failed after a plan-following episode, ...)

A variant succeeds only by the suite's check of the sites' state; an
`ASK_USER` the bench cannot answer counts as the policy stopping, and the
bench never approves a purchase outside the suite's host.
"""
from __future__ import annotations

import json
import statistics
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from llmos.agent.learn.generator import template_of
from llmos.agent.suite.tasks import Task


@dataclass
class PolicyRun:
    task: str
    template: str
    site: str
    difficulty: str
    success: bool
    steps: int
    status: str
    failure: str = ""       # one of the kinds above; "" on success
    reason: str = ""        # the check's verdict


@dataclass
class PolicyReport:
    backend: str
    split: str
    runs: list[PolicyRun] = field(default_factory=list)

    def summary(self) -> dict:
        def rate(rs):
            return round(sum(r.success for r in rs) / len(rs), 4) if rs else None
        by = {}
        for key in ("site", "difficulty", "template"):
            by[key] = {v: rate([r for r in self.runs if getattr(r, key) == v])
                       for v in sorted({getattr(r, key) for r in self.runs})}
        kinds = {}
        for r in self.runs:
            if r.failure:
                kinds[r.failure] = kinds.get(r.failure, 0) + 1
        return {"backend": self.backend, "split": self.split, "tasks": len(self.runs),
                "success_rate": rate(self.runs),
                "mean_steps": round(statistics.mean(r.steps for r in self.runs), 2) if self.runs else 0,
                "by_site": by["site"], "by_difficulty": by["difficulty"], "by_template": by["template"],
                "failures": kinds}

    def to_dict(self) -> dict:
        return {"summary": self.summary(), "runs": [asdict(r) for r in self.runs]}


def failure_kind(run, rollout) -> str:
    """Which kind of failure a finished, unsuccessful episode was (see the module docstring)."""
    msg = (run.message or "").lower()
    if msg.startswith(("loop", "no progress")):
        return "loop"
    if "step limit" in msg or "time limit" in msg:
        return "step limit"
    if run.status == "ASK_USER" or "gave up" in msg or "aborted" in msg:
        return "gave up"
    t = rollout.diverged_at if rollout is not None else None
    if t is not None and t < len(rollout.steps):
        step = rollout.steps[t]
        got, want = step["action"], step["oracle"]
        if got is None:
            return "gave up"
        if want is not None and got.get("type") == want.get("type") and got.get("element") == want.get("element"):
            return "wrong value"
        if got.get("type") in ("done", "ask_user") and want is not None and want.get("type") not in ("done",):
            return "gave up" if got.get("type") == "ask_user" or got.get("success") is False else "wrong element"
        return "wrong element"
    return "other"


def bench_policy(policy, tasks: list[Task], split: str = "", progress: bool = True,
                 max_seconds: float = 120.0) -> PolicyReport:
    """Run each task with `policy` (a PolicyBackend, or "oracle") and classify what went wrong."""
    from llmos.agent.backends import ScriptedBackend
    from llmos.agent.learn.rollouts import ShadowedPolicy
    from llmos.agent.service import Agent, AgentConfig
    from llmos.agent.suite.bench import _progress, oracle_backend, run_task
    from llmos.agent.suite.server import SuiteServer

    name = "oracle" if policy == "oracle" else policy.name
    report = PolicyReport(name, split)
    with tempfile.TemporaryDirectory(prefix="llmos-policy-bench-") as tmp, SuiteServer() as suite, \
            Agent(None, AgentConfig(trace_dir=Path(tmp))) as agent, _progress(progress, len(tasks)) as advance:
        for task in tasks:
            shadow = None
            if policy == "oracle":
                backend = oracle_backend(task)
            else:
                shadow = ShadowedPolicy(policy, task)
                backend = ScriptedBackend(shadow, name=policy.name)
            run = run_task(agent, suite, task, backend, max_seconds)
            kind = "" if run.success else failure_kind(run, shadow.rollout if shadow else None)
            report.runs.append(PolicyRun(task.id, template_of(task), task.site, task.difficulty, run.success,
                                         run.steps, run.status, kind, run.reason))
            advance(task.id, run.success)
    return report


def format_policy_report(reports: list[PolicyReport]) -> str:
    """One block per (backend, split): success by site and difficulty, mean steps, failure kinds."""
    out = []
    for rep in reports:
        s = rep.summary()
        out.append(f"{s['backend']} on {s['split']}: {100 * (s['success_rate'] or 0):.1f}% of {s['tasks']} "
                   f"(mean {s['mean_steps']} steps)")
        out.append("  by site: " + ", ".join(f"{k} {100 * v:.0f}%" for k, v in s["by_site"].items()))
        out.append("  by difficulty: " + ", ".join(f"{k} {100 * v:.0f}%" for k, v in s["by_difficulty"].items()))
        out.append("  by template: " + ", ".join(f"{k} {100 * v:.0f}%" for k, v in s["by_template"].items()))
        out.append("  failures: " + (", ".join(f"{k} {n}" for k, n in sorted(s["failures"].items())) or "none"))
    return "\n".join(out)


def save_reports(reports: list[PolicyReport], path: str | Path) -> Path:
    from llmos.config import atomic_write_text
    path = Path(path)
    atomic_write_text(path, json.dumps([r.to_dict() for r in reports], indent=2) + "\n")
    return path
