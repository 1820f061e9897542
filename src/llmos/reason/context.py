"""One reasoning run's state: the backend, the budget, the trace, and the best answer so far.

Strategies make every model call through `ctx.generate(prompt, purpose, ...)`,
which checks the budget first, records the call in the trace, and counts what
it spent. Strategies nest by sharing one context: self-consistency over
chain-of-thought, ReAct inside Reflexion, all in one trace and one budget.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Literal, TypeVar

from llmos.reason.backend import Backend, BackendError, Params, Sample
from llmos.reason.budget import Budget, BudgetExhausted, Spent, check, tokens_left
from llmos.reason.trace import Call, Trace

T = TypeVar("T")


class Context:
    def __init__(self, backend: Backend, trace: Trace, budget: Budget | None = None,
                 mode: Literal["completion", "chat"] = "completion", seed: int | None = None) -> None:
        if mode not in ("completion", "chat"):
            raise ValueError(f"mode must be 'completion' or 'chat', got {mode!r}")
        self.backend = backend
        self.trace = trace
        self.budget = budget or Budget()
        self.spent = Spent()
        self.mode = mode
        self.seed = seed                          # base seed; sampled calls derive theirs from it
        self.best: tuple[str, float | None] | None = None
        self.temperature_floor = 0.0              # self-consistency raises it to sample its inner runs

    def generate(self, prompt: str, purpose: str, **params) -> list[Sample]:
        """Sample `prompt` (Params fields as keywords); BudgetExhausted when the budget is spent."""
        check(self.budget, self.spent)
        p = Params(**params)
        p.temperature = max(p.temperature, self.temperature_floor)
        left = tokens_left(self.budget, self.spent)
        if left is not None:
            p.max_tokens = max(1, min(p.max_tokens, left // p.n))
        if p.seed is None and self.seed is not None:
            p.seed = self.seed + len(self.trace.calls)
        call = Call(len(self.trace.calls) + 1, purpose, self.mode, prompt, asdict(p))
        if self.mode == "chat":
            samples = self._traced(call, lambda: self.backend.chat([{"role": "user", "content": prompt}], p))
        else:
            samples = self._traced(call, lambda: self.backend.complete(prompt, p))
        call.outputs = [s.text for s in samples]
        call.tokens = sum(s.tokens for s in samples)
        self.spent.tokens += call.tokens
        return samples

    def score(self, prompt: str, continuations: list[str], purpose: str) -> list[float]:
        """log p(continuation | prompt) for each, as one model call (budgeted and traced like a sample)."""
        check(self.budget, self.spent)
        call = Call(len(self.trace.calls) + 1, purpose, "score", prompt, {"n": 1, "continuations": continuations})
        scores = self._traced(call, lambda: self.backend.score(prompt, continuations))
        call.outputs = [f"{c!r}: {s:.3f}" for c, s in zip(continuations, scores)]
        return scores

    def _traced(self, call: Call, run: Callable[[], T]) -> T:
        """Record `call` in the trace, run it, and count it and its time whether it succeeds or not."""
        self.trace.calls.append(call)
        start = time.monotonic()
        try:
            return run()
        except BackendError as e:
            call.error = str(e)
            raise BackendError(f"{e} (call #{call.index}, {call.purpose}, in {self.trace.strategy})") from e
        finally:
            call.seconds = round(time.monotonic() - start, 4)
            self.spent.calls += 1

    def text(self, prompt: str, purpose: str, **params) -> str:
        """The one sample's text."""
        return self.generate(prompt, purpose, **params)[0].text

    def offer(self, answer: str | None, confidence: float | None = None) -> None:
        """Note a candidate answer; the best one stands in when the budget cuts the run short."""
        if answer is None:
            return
        if self.best is None or (confidence or 0.0) >= (self.best[1] or 0.0):
            self.best = (answer, confidence)


__all__ = ["Context", "BudgetExhausted"]
