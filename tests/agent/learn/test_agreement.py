"""Step agreement: the policy's constrained greedy action against the oracle's, teacher-forced, by kind."""
from __future__ import annotations

import json

from llmos.agent.learn.agreement import step_agreement
from llmos.agent.learn.demos import Episode, Step
from llmos.agent.views import Observation, StepContext


class Scripted:
    """A stand-in policy: answers from a table keyed by the step's task, with a fixed confidence."""

    def __init__(self, answers: dict[str, dict | str]):
        self.answers, self.last_confidence = answers, 1.0

    def propose(self, ctx, temperature=0.0):
        got = self.answers[ctx.task]
        self.last_confidence = 0.9 if got != "wrong" else 0.2
        return (got if isinstance(got, str) else json.dumps(got)), 10, 5


def step(task: str, action: dict) -> Step:
    return Step(StepContext(task=task, step=0, observation=Observation(url="http://x/")), action)


def test_misses_are_counted_by_kind_and_template():
    want = {"a": {"type": "click", "element": 3}, "b": {"type": "select", "element": 4, "option": "Rome"},
            "c": {"type": "type", "element": 5, "text": "Ada"}, "d": {"type": "done", "answer": "Booked."},
            "e": {"type": "click", "element": 8}}
    episodes = [Episode("t1", "flights", "flights", "easy", True, [step(k, want[k]) for k in "abcd"]),
                Episode("t2", "shop", "shop", "easy", True, [step("e", want["e"])]),
                Episode("t3", "shop", "shop", "easy", False, [step("e", want["e"])])]   # failed: not counted
    policy = Scripted({"a": want["a"], "b": {**want["b"], "option": "Paris"},        # value
                       "c": {"type": "type", "element": 6, "text": "Ada"},           # element
                       "d": {"type": "done", "answer": "something else"},            # a done is judged by type
                       "e": "wrong"})                                                # not JSON: action
    report = step_agreement(policy, episodes, examples=5)
    assert report["steps"] == 5 and report["agreement"] == 0.4
    assert report["misses"] == {"value": 1, "element": 1, "action": 1}
    assert report["by_kind"] == {"click": 0.5, "done": 1.0, "select": 0.0, "type": 0.0}
    assert report["by_template"] == {"flights": 0.5, "shop": 0.0}
    assert sorted(report["confidence"]["wrong"]) == [0.2, 0.9, 0.9] and len(report["examples"]) == 3
    assert step_agreement(policy, episodes, limit=2)["steps"] == 2
