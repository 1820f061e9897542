"""What every strategy is: `run(question, ctx) -> Result`; and `solve`, which runs one.

    result = CoT().solve("Q...", backend, budget=Budget(max_calls=5), abstain_below=0.5)
    result.answer, result.confidence, result.cut_short, print(result.trace.render())

`solve` makes the context, runs the strategy, and when the budget runs out
returns the best answer offered so far, marked as cut short. Below the
`abstain_below` confidence the answer is "I don't know" (the answer it would
have given stays in the trace).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Literal

from llmos.reason.answers import IDK
from llmos.reason.backend import Backend
from llmos.reason.budget import Budget, BudgetExhausted
from llmos.reason.context import Context
from llmos.reason.trace import Trace


@dataclass
class Result:
    answer: str | None                      # None: no answer could be read
    confidence: float | None
    trace: Trace
    text: str = ""                          # the final chain or output
    samples: list[str | None] = field(default_factory=list)   # per-sample answers, where there are several
    cut_short: bool = False
    abstained: bool = False


class Strategy(ABC):
    name: str = "strategy"

    @abstractmethod
    def run(self, question: str, ctx: Context) -> Result: ...

    def solve(self, question: str, backend: Backend, budget: Budget | None = None,
              mode: Literal["completion", "chat"] = "completion", seed: int | None = None,
              abstain_below: float | None = None) -> Result:
        if not isinstance(question, str) or not question.strip():
            raise ValueError("the question is empty; give the problem to reason about")
        ctx = Context(backend, Trace(self.name, question), budget, mode, seed)
        try:
            result = self.run(question, ctx)
        except BudgetExhausted as e:
            answer, confidence = ctx.best or (None, None)
            result = Result(answer, confidence, ctx.trace, cut_short=True)
            ctx.trace.cut_short = e.reason
        return finish(result, ctx, abstain_below)


def finish(result: Result, ctx: Context, abstain_below: float | None) -> Result:
    trace = ctx.trace
    if abstain_below is not None and (result.confidence is None or result.confidence < abstain_below):
        trace.notes["abstained_from"] = result.answer
        result.answer, result.abstained = IDK, True
    trace.answer, trace.confidence, trace.spent = result.answer, result.confidence, ctx.spent.to_dict()
    return result
