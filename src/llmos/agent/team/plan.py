"""A team's plan: subtasks as a DAG, each with its required spec.

The plan comes from the caller or from a model (`ModelPlanner`: the model
answers with the plan as JSON, validated here). Independent subtasks run at
once; a subtask waits for every subtask in its `after`.
"""
from __future__ import annotations

import json
import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from llmos.agent.team.spec import Spec
from llmos.agent.views import ChatMessage, ModelRequest, Observation, StepContext


class Subtask(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(..., pattern=r"^[\w.-]+$")
    instruction: str = Field(..., min_length=1)
    start_url: str | None = None
    spec: Spec
    after: list[str] = []                 # ids this subtask waits for
    params: dict = {}                     # typed task parameters a worker may plan from (date, seat...)
    worker: str | None = None             # a named worker, or any free one


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task: str
    subtasks: list[Subtask] = Field(..., min_length=1)

    @model_validator(mode="after")
    def _dag(self) -> Plan:
        ids = [s.id for s in self.subtasks]
        if dupes := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"duplicate subtask ids {dupes}")
        for s in self.subtasks:
            if unknown := [a for a in s.after if a not in ids]:
                raise ValueError(f"subtask {s.id!r} waits for unknown subtask(s) {unknown}")
        order = self.order()  # raises on a cycle
        assert len(order) == len(ids)
        return self

    def get(self, sid: str) -> Subtask:
        return next(s for s in self.subtasks if s.id == sid)

    def order(self) -> list[str]:
        """Subtask ids in an order that respects `after` (Kahn's algorithm); a cycle is an error."""
        waiting = {s.id: set(s.after) for s in self.subtasks}
        out: list[str] = []
        while waiting:
            ready = [sid for sid, deps in waiting.items() if not deps]
            if not ready:
                raise ValueError(f"the plan's subtasks wait on each other in a cycle: {sorted(waiting)}")
            for sid in ready:
                out.append(sid)
                del waiting[sid]
            for deps in waiting.values():
                deps.difference_update(ready)
        return out


class PlanError(ValueError):
    """The planner model's reply is not a usable plan; the message says why."""


PLAN_PROMPT = """You are the manager of a team of browser agents. Split the task into subtasks
a worker can do alone. Give each a required spec of checkable conditions. Subtasks that do not
depend on each other will run at the same time. Reply with one JSON object:
{{"task": "...", "subtasks": [{{"id": "a", "instruction": "...", "start_url": "...",
  "after": [], "spec": {{"conditions": [
    {{"kind": "field", "source": "answer", "op": "contains", "value": "..."}},
    {{"kind": "judged", "text": "..."}}]}}}}]}}

Task: {task}"""

REPLAN_PROMPT = """The team is stalled on subtask {sid}: {instruction}
What went wrong so far:
{feedback}
Rewrite the instruction so a worker gets it right next time. Reply with the new instruction only."""


def _ctx(task: str) -> StepContext:
    return StepContext(task=task, step=0, observation=Observation())


class ModelPlanner:
    """Plans (and replans) with a model over any `ModelBackend`."""

    def __init__(self, backend):
        self.backend = backend

    def plan(self, task: str) -> Plan:
        reply = self.backend.complete(ModelRequest(
            messages=[ChatMessage(role="user", content=PLAN_PROMPT.format(task=task))], context=_ctx(task)))
        m = re.search(r"\{.*\}", reply.text, re.S)
        if m is None:
            raise PlanError(f"the planner's reply holds no JSON plan: {reply.text[:200]!r}")
        try:
            return Plan.model_validate(json.loads(m.group(0)))
        except (json.JSONDecodeError, ValidationError) as e:
            raise PlanError(f"the planner's plan is invalid: {e}") from None

    def replan(self, subtask: Subtask, feedback: list[str]) -> str:
        prompt = REPLAN_PROMPT.format(sid=subtask.id, instruction=subtask.instruction,
                                      feedback="\n".join(f"- {f}" for f in feedback) or "- none")
        reply = self.backend.complete(ModelRequest(messages=[ChatMessage(role="user", content=prompt)],
                                                   context=_ctx(subtask.instruction)))
        return reply.text.strip() or subtask.instruction


class RulePlanner:
    """Replanning without a model: the instruction carries every correction learned so far."""

    def replan(self, subtask: Subtask, feedback: list[str]) -> str:
        base = subtask.instruction.split("\nLessons so far:")[0]
        return base + "\nLessons so far:\n" + "\n".join(f"- {f}" for f in dict.fromkeys(feedback))
