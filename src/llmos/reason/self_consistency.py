"""Self-consistency (Wang et al. 2023): sample k reasoning paths, take the majority answer.

    SelfConsistency(CoT(), k=8)                 # one line over chain-of-thought
    SelfConsistency(Socratic(), k=4)            # or over any strategy

The confidence is the vote share: votes for the winner / k, with samples that
gave no answer counted in k (a model that rarely answers is not confident).
Over a strategy with `sample(question, ctx, k)` (chain-of-thought) the k paths
come from ONE call with n=k; over any other, from k runs of it, each with its
own seed. Ties go to the answer that reached the count first.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from llmos.reason.answers import normalize
from llmos.reason.context import Context
from llmos.reason.cot import CoT
from llmos.reason.strategy import Result, Strategy


def vote(answers: list[str | None]) -> tuple[str | None, float]:
    """(majority answer, its share of all samples); (None, 0.0) when no sample answered."""
    counts = Counter(normalize(a) for a in answers if a is not None)
    if not counts:
        return None, 0.0
    best = max(counts.values())
    winner = next(normalize(a) for a in answers if a is not None and counts[normalize(a)] == best)
    original = next(a for a in answers if a is not None and normalize(a) == winner)
    return original, best / len(answers)


@dataclass
class SelfConsistency(Strategy):
    inner: Strategy = field(default_factory=CoT)
    k: int = 5
    temperature: float = 0.7
    name: str = "self_consistency"

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"self_consistency needs k >= 1 samples, got {self.k}")

    def run(self, question: str, ctx: Context) -> Result:
        answers: list[str | None] = []
        if hasattr(self.inner, "sample"):
            answers = [a for _, a in self.inner.sample(question, ctx, self.k, self.temperature)]
        else:
            for i in range(self.k):
                before, floor = ctx.seed, ctx.temperature_floor
                ctx.seed = (before or 0) + 1000 * (i + 1)      # each run samples differently
                ctx.temperature_floor = self.temperature
                try:
                    answers.append(self.inner.run(question, ctx).answer)
                finally:
                    ctx.seed, ctx.temperature_floor = before, floor
                winner, share = vote(answers)
                ctx.offer(winner, share * len(answers) / self.k)
        winner, share = vote(answers)
        tally = Counter(normalize(a) if a is not None else "(no answer)" for a in answers)
        ctx.trace.step("vote", ", ".join(f"{a}: {c}" for a, c in tally.most_common()), share)
        ctx.trace.notes["votes"] = dict(tally)
        if ctx.trace.calls:
            ctx.trace.calls[-1].score = share
        ctx.offer(winner, share)
        return Result(winner, share, ctx.trace, samples=answers)
