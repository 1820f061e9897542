"""Few-shot prompting: worked examples before the question, chosen or retrieved.

    FewShot(exemplars=[Exemplar("2+2?", "4"), ...], k=3, retrieve=True)

With `retrieve`, the k exemplars whose questions share the most words with
the new question are used (Jaccard overlap of word sets, nearest first);
otherwise the first k, in the order given. The model answers the way the
exemplars do, and the answer is read out of its text (`answers.extract_answer`).
With no exemplars this is the plain direct answer ("IO" in the ToT paper).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from llmos.reason.answers import extract_answer
from llmos.reason.context import Context
from llmos.reason.strategy import Result, Strategy

DEFAULT_TEMPLATE = "Q: {question}\nA:"
DEFAULT_STOP = ["\nQ:", "\n\n"]


@dataclass(frozen=True)
class Exemplar:
    question: str
    answer: str                  # the worked answer: a bare answer, or a chain ending in it


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+|\d+", text.lower()))


def select(exemplars: list[Exemplar], question: str, k: int | None, retrieve: bool) -> list[Exemplar]:
    """The exemplars to show: the first k, or with `retrieve` the k nearest by word overlap."""
    k = len(exemplars) if k is None else k
    if not retrieve:
        return exemplars[:k]
    q = _words(question)

    def overlap(e: Exemplar) -> float:
        w = _words(e.question)
        return len(q & w) / max(len(q | w), 1)

    ranked = sorted(range(len(exemplars)), key=lambda i: (-overlap(exemplars[i]), i))
    return [exemplars[i] for i in ranked[:k]]


def build_prompt(question: str, exemplars: list[Exemplar], template: str = DEFAULT_TEMPLATE,
                 suffix: str = "") -> str:
    shots = "".join(template.format(question=e.question) + " " + e.answer.strip() + "\n\n" for e in exemplars)
    prompt = shots + template.format(question=question)
    return prompt + (" " + suffix.strip() if suffix.strip() else "")


@dataclass
class FewShot(Strategy):
    exemplars: list[Exemplar] = field(default_factory=list)
    k: int | None = None
    retrieve: bool = False
    template: str = DEFAULT_TEMPLATE
    stop: list[str] = field(default_factory=lambda: list(DEFAULT_STOP))
    max_tokens: int = 64
    numeric: bool = True
    logprobs: bool = True
    name: str = "few_shot"

    def prompt(self, question: str) -> str:
        return build_prompt(question, select(self.exemplars, question, self.k, self.retrieve), self.template)

    def run(self, question: str, ctx: Context) -> Result:
        sample = ctx.generate(self.prompt(question), "answer", max_tokens=self.max_tokens, stop=self.stop,
                              logprobs=self.logprobs)[0]
        answer = extract_answer(sample.text, self.numeric)
        ctx.trace.step("answer", sample.text if answer is not None else f"{sample.text} (no answer)")
        ctx.offer(answer, sample.mean_prob)
        return Result(answer, sample.mean_prob if answer is not None else None, ctx.trace, sample.text,
                      [answer])
