"""Run the suite's tasks with an agent and report success, steps and time per task.

    report = run_suite(oracle_backend)                  # the scripted oracle (100% expected)
    report = run_suite(OpenAIBackend(url, "my-model"))  # any model, one backend for all tasks
    print(format_report(report)); report.save("bench/results/agent_suite.json")

Every task goes through the agent's Action API (`Agent.create` / `step`), one
shared Chromium, one session per task, the suite reset in between; the
verdict comes from the task's check of the sites' state, never from the
agent's own claim of success. The person's policy for the run allows
purchases on the suite's own host (its tasks buy things) and keeps the domain
allowlist, so a hostile page still cannot send the agent elsewhere.
"""
from __future__ import annotations

import json
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Union

from llmos.agent.backends import ModelBackend, ScriptedBackend
from llmos.agent.suite.checks import run_check
from llmos.agent.suite.oracle import OraclePolicy
from llmos.agent.suite.server import SuiteServer
from llmos.agent.suite.tasks import Task, load_tasks
from llmos.agent.views import (DoneAction, PolicyConfig, SessionOptions, StepResult, StepStatus,
                               UserCommand)

BackendSource = Union[ModelBackend, Callable[[Task], ModelBackend]]
MAX_ASKS = 4  # answers the bench gives to ASK_USER per task before it aborts


@dataclass
class TaskRun:
    task: str
    site: str
    difficulty: str
    success: bool
    reason: str           # the check's verdict, in words
    status: str           # the session's final status
    steps: int
    seconds: float
    answer: str = ""
    asks: int = 0         # ASK_USER pauses the bench answered
    message: str = ""     # the session's last message (why it stopped)


@dataclass
class SuiteReport:
    runs: list[TaskRun] = field(default_factory=list)
    backend: str = ""

    @property
    def success_rate(self) -> float:
        return sum(r.success for r in self.runs) / len(self.runs) if self.runs else 0.0

    def summary(self) -> dict:
        def rate(runs):
            return round(sum(r.success for r in runs) / len(runs), 4) if runs else None
        groups = {}
        for key in ("site", "difficulty"):
            values = sorted({getattr(r, key) for r in self.runs})
            groups[key] = {v: rate([r for r in self.runs if getattr(r, key) == v]) for v in values}
        return {"backend": self.backend, "tasks": len(self.runs),
                "success_rate": round(self.success_rate, 4),
                "mean_steps": round(statistics.mean(r.steps for r in self.runs), 2) if self.runs else 0,
                "median_seconds": round(statistics.median(r.seconds for r in self.runs), 3) if self.runs else 0,
                "total_seconds": round(sum(r.seconds for r in self.runs), 2),
                "by_site": groups["site"], "by_difficulty": groups["difficulty"]}

    def to_dict(self) -> dict:
        return {"summary": self.summary(), "runs": [asdict(r) for r in self.runs]}

    def save(self, path: str | Path) -> Path:
        from llmos.config import atomic_write_text

        path = Path(path)
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")
        return path


def oracle_backend(task: Task) -> ModelBackend:
    """A scripted backend that answers every step with the task's oracle policy."""
    policy = OraclePolicy(task)
    return ScriptedBackend(lambda request: policy(request.context), name="oracle")


def suite_policy(host: str) -> PolicyConfig:
    """The person's policy for a bench run: purchases and logins on the suite host are pre-approved."""
    return PolicyConfig(domains={host: {"purchase": "allow", "login": "allow"}})


def _answer_ask(result: StepResult) -> UserCommand:
    if result.pending is not None:  # the policy asked: the person approves (code runs sandboxed)
        return UserCommand(kind="approve")
    return UserCommand(kind="reply", text="I can't add anything: the task says all there is. "
                                          "Carry on without asking.")


def run_task(agent, suite: SuiteServer, task: Task, backend: ModelBackend,
             max_seconds: float = 300.0, person: str = "me") -> TaskRun:
    """One task, start to verdict: reset, set up, run the session (as `person`), check the state."""
    suite.reset()
    task.apply_setup(suite.state)
    start = time.perf_counter()
    options = SessionOptions(policy=suite_policy(suite.host), secrets=task.secret_values(),
                             max_steps=task.max_steps, max_seconds=max_seconds, person=person)
    info = agent.create(task.instruction, url=suite.url(task.start), options=options,
                        backend=backend)
    asks, result = 0, agent.run(info.id)
    while result.status is StepStatus.ASK_USER and asks < MAX_ASKS:
        asks += 1
        result = agent.run(info.id, _answer_ask(result))
    if result.status is StepStatus.ASK_USER:
        result = agent.step(info.id, UserCommand(kind="abort"))
    steps = agent.retrieve(info.id).steps
    agent.close(info.id)
    seconds = time.perf_counter() - start
    answer = result.action.answer if isinstance(result.action, DoneAction) else ""
    verdict = run_check(suite.state, task.check, answer)
    return TaskRun(task.id, task.site, task.difficulty, verdict.ok, verdict.reason,
                   result.status.value, steps, round(seconds, 3), answer, asks,
                   result.message[:300])


def run_suite(backend: BackendSource, tasks: list[Task] | None = None, agent_config=None,
              progress: bool = True, max_seconds: float = 300.0) -> SuiteReport:
    """Run `tasks` (default: all) with `backend` (or a per-task backend factory).

    Starts the suite server and one Agent (one shared Chromium); traces go to
    `agent_config.trace_dir` (default: a temporary folder, removed afterwards).
    """
    from llmos.agent.service import Agent, AgentConfig

    tasks = load_tasks() if tasks is None else tasks
    make = backend if callable(backend) and not hasattr(backend, "complete") else (lambda _t: backend)
    name = "oracle" if make is oracle_backend else getattr(backend, "name", type(backend).__name__)
    report = SuiteReport(backend=name)
    with tempfile.TemporaryDirectory(prefix="llmos-suite-") as tmp, SuiteServer() as suite:
        config = agent_config or AgentConfig(trace_dir=Path(tmp))
        with Agent(None, config) as agent, _progress(progress, len(tasks)) as advance:
            for task in tasks:
                run = run_task(agent, suite, task, make(task), max_seconds)
                report.runs.append(run)
                advance(task.id, run.success)
    return report


class _progress:
    """A rich progress bar over tasks (or nothing when `enabled` is False)."""

    def __init__(self, enabled: bool, total: int):
        self.enabled, self.total = enabled, total

    def __enter__(self):
        if not self.enabled:
            return lambda *_: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(TextColumn("suite"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[last]}"), TimeElapsedColumn(), transient=True)
        self._bar.start()
        self._id = self._bar.add_task("tasks", total=self.total, last="")
        self._ok = 0

        def advance(task_id: str, ok: bool):
            self._ok += ok
            self._bar.update(self._id, advance=1, last=f"{task_id} {'ok' if ok else 'FAILED'} "
                                                       f"({self._ok} solved)")
        return advance

    def __exit__(self, *exc):
        if self.enabled:
            self._bar.stop()


def format_report(report: SuiteReport) -> str:
    """A plain-text table: one row per task, then the summary."""
    rows = [f"{'task':32} {'site':8} {'level':7} {'ok':3} {'steps':>5} {'seconds':>8}  reason"]
    for r in report.runs:
        rows.append(f"{r.task:32} {r.site:8} {r.difficulty:7} {'yes' if r.success else 'NO':3} "
                    f"{r.steps:5d} {r.seconds:8.2f}  {r.reason}")
    s = report.summary()
    rows.append(f"\n{s['backend']}: {sum(r.success for r in report.runs)}/{s['tasks']} tasks solved "
                f"({100 * s['success_rate']:.1f}%), mean {s['mean_steps']} steps, median "
                f"{s['median_seconds']} s per task, {s['total_seconds']} s in all")
    rows.append("by site: " + ", ".join(f"{k} {100 * v:.0f}%" for k, v in s["by_site"].items()))
    rows.append("by difficulty: " + ", ".join(f"{k} {100 * v:.0f}%" for k, v in s["by_difficulty"].items()))
    return "\n".join(rows)
