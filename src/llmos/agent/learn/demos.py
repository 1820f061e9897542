"""Demonstrations: the scripted oracle plays generated tasks through the Action API, and every step is kept.

Each step is recorded as the model would receive it: the typed `StepContext`
the agent loop built (task, observation, history, notes) and the action the
oracle answered with. The raw context is stored, not a rendered prompt, so the
observation format can change without playing the episodes again:

    DEMOS.jsonl   one episode per line: {"task", "template", "site", "difficulty",
                  "success", "steps": [{"context": {...}, "action": {...}}, ...]}

Collection appends one line per finished episode and skips task ids already
in the file, so an interrupted collection resumes where it stopped. Only
episodes the suite's check passes become training examples.
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from llmos.agent.backends import ScriptedBackend
from llmos.agent.learn.generator import template_of
from llmos.agent.suite.oracle import OraclePolicy
from llmos.agent.suite.tasks import Task
from llmos.agent.views import StepContext


@dataclass
class Step:
    context: StepContext
    action: dict  # the action as JSON (thought left out)


@dataclass
class Episode:
    task: str
    template: str
    site: str
    difficulty: str
    success: bool
    steps: list[Step]

    def to_json(self) -> str:
        return json.dumps({"task": self.task, "template": self.template, "site": self.site,
                           "difficulty": self.difficulty, "success": self.success,
                           "steps": [{"context": s.context.model_dump(mode="json"), "action": s.action}
                                     for s in self.steps]}, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> "Episode":
        d = json.loads(line)
        steps = [Step(StepContext.model_validate(s["context"]), s["action"]) for s in d.pop("steps")]
        return cls(steps=steps, **d)


def action_json(action) -> dict:
    """The action as the model writes it: its fields, no thought, defaults left out."""
    return {"type": action.type, **action.model_dump(exclude={"thought", "type"}, exclude_defaults=True)}


def read_episodes(path: str | Path) -> list[Episode]:
    path = Path(path)
    if not path.exists():
        return []
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                try:
                    out.append(Episode.from_json(line))
                except (json.JSONDecodeError, KeyError, ValueError):
                    continue  # a line cut short by an interruption: played again on resume
    return out


def _recording_oracle(task: Task, steps: list[Step]):
    policy = OraclePolicy(task, wait_s=0.05)

    def answer(request):
        action = policy(request.context)
        steps.append(Step(request.context, action_json(action)))
        return action
    return ScriptedBackend(answer, name="oracle")


def collect(tasks: list[Task], path: str | Path, progress: bool = True,
            on_episode: Callable[[Episode], None] | None = None, max_seconds: float = 120.0) -> list[Episode]:
    """Play every task not yet in `path` with the oracle; append each episode; return all episodes."""
    from llmos.agent.service import Agent, AgentConfig
    from llmos.agent.suite.bench import _progress, run_task
    from llmos.agent.suite.server import SuiteServer

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    done = {e.task for e in read_episodes(path)}
    if path.exists() and path.stat().st_size and not path.read_bytes().endswith(b"\n"):
        with open(path, "a", encoding="utf-8") as f:  # a line cut short: the next one starts afresh
            f.write("\n")
    todo = [t for t in tasks if t.id not in done]
    with tempfile.TemporaryDirectory(prefix="llmos-demos-") as tmp, SuiteServer() as suite, \
            Agent(None, AgentConfig(trace_dir=Path(tmp))) as agent, \
            _progress(progress and bool(todo), len(todo)) as advance, open(path, "a", encoding="utf-8") as f:
        for task in todo:
            steps: list[Step] = []
            run = run_task(agent, suite, task, _recording_oracle(task, steps), max_seconds)
            ep = Episode(task.id, template_of(task), task.site, task.difficulty, run.success, steps)
            f.write(ep.to_json() + "\n")
            f.flush()
            advance(task.id, run.success)
            if on_episode is not None:
                on_episode(ep)
    return read_episodes(path)


def examples(episodes: Iterable[Episode], render: Callable[[StepContext], str],
             write: Callable[[dict], str]) -> list:
    """SFT examples (prompt = rendered context, response = action text) from the successful episodes."""
    from llmos.train.align.data import SFTExample

    return [SFTExample(render(s.context), write(s.action))
            for ep in episodes if ep.success for s in ep.steps]
