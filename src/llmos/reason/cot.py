"""Chain-of-thought prompting (Wei et al. 2022; zero-shot: Kojima et al. 2022).

Zero-shot: the question, then a trigger ("Let's think step by step."), and
the model writes its reasoning before the answer. Few-shot: exemplars whose
answers are worked chains ("She has 23-20=3 left. ... The answer is 9."),
chosen or retrieved as in `few_shot`. The answer is read from the end of the
chain; a chain with none counts as "no answer".

`sample(question, ctx, k)` draws k chains in ONE call (n=k), which is how
self-consistency uses it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from llmos.reason.answers import extract_answer
from llmos.reason.backend import Sample
from llmos.reason.context import Context
from llmos.reason.few_shot import DEFAULT_STOP, DEFAULT_TEMPLATE, Exemplar, build_prompt, select
from llmos.reason.strategy import Result, Strategy

ZERO_SHOT_TRIGGER = "Let's think step by step."


@dataclass
class CoT(Strategy):
    exemplars: list[Exemplar] = field(default_factory=list)
    k: int | None = None
    retrieve: bool = False
    trigger: str = ZERO_SHOT_TRIGGER     # after the question; "" for models trained to reason unprompted
    template: str = DEFAULT_TEMPLATE
    stop: list[str] = field(default_factory=lambda: list(DEFAULT_STOP))
    max_tokens: int = 256
    temperature: float = 0.0
    numeric: bool = True
    logprobs: bool = True
    name: str = "cot"

    def prompt(self, question: str) -> str:
        shots = select(self.exemplars, question, self.k, self.retrieve)
        return build_prompt(question, shots, self.template, self.trigger)

    def sample(self, question: str, ctx: Context, k: int, temperature: float | None = None,
               purpose: str = "chain") -> list[tuple[Sample, str | None]]:
        """k chains of one call, each with its extracted answer (None: no answer)."""
        samples = ctx.generate(self.prompt(question), purpose, n=k, max_tokens=self.max_tokens,
                               stop=self.stop, logprobs=self.logprobs,
                               temperature=self.temperature if temperature is None else temperature)
        out = []
        for s in samples:
            answer = extract_answer(s.text, self.numeric)
            ctx.trace.step("chain", s.text if answer is not None else f"{s.text} (no answer)")
            out.append((s, answer))
        return out

    def run(self, question: str, ctx: Context) -> Result:
        (sample, answer), = self.sample(question, ctx, 1)
        confidence = sample.mean_prob if answer is not None else None
        ctx.offer(answer, confidence)
        return Result(answer, confidence, ctx.trace, sample.text, [answer])
