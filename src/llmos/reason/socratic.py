"""Socratic questioning: break a question into sub-questions, answer those, compose back up.

    solve(q, depth):
        if depth < max_depth: subs = DECOMPOSE(q)           (one call; "none" means q is simple)
        facts = [(s, solve(s, depth + 1)) for s in subs]     (recursion, depth-first, in order)
        return ANSWER(q, facts)                              (one call, the sub-answers in its prompt)

At the depth limit a question is answered directly. Each answer is composed
from the answers below it, so the root's prompt holds its children's answers
and theirs hold their children's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from llmos.reason.answers import extract_answer
from llmos.reason.context import Context
from llmos.reason.strategy import Result, Strategy


@dataclass
class Socratic(Strategy):
    max_depth: int = 2
    max_subquestions: int = 3
    decompose_prompt: str = ("Question: {question}\nWhat simpler sub-questions must be answered first? "
                             "Write one per line, or 'none' if it can be answered directly.\nSub-questions:\n")
    answer_prompt: str = "{facts}Question: {question}\nAnswer briefly, ending with 'The answer is X.'\nAnswer:"
    max_tokens: int = 128
    numeric: bool = False
    name: str = "socratic"

    def __post_init__(self) -> None:
        if self.max_depth < 0:
            raise ValueError(f"socratic max_depth must be >= 0, got {self.max_depth}")

    def subquestions(self, text: str) -> list[str]:
        lines = [re.sub(r"^\s*(\d+[.)]|[-*])\s*", "", line).strip() for line in text.splitlines()]
        lines = [line for line in lines if line and line.lower().rstrip(".") != "none"]
        return lines[:self.max_subquestions]

    def _solve(self, question: str, depth: int, ctx: Context) -> str:
        subs: list[str] = []
        if depth < self.max_depth:
            subs = self.subquestions(ctx.text(self.decompose_prompt.format(question=question), "decompose",
                                              max_tokens=self.max_tokens, stop=["\n\n"]))
            ctx.trace.step(f"decompose (depth {depth})", f"{question} -> {subs or 'none'}")
        facts = [(s, self._solve(s, depth + 1, ctx)) for s in subs]
        block = "".join(f"Q: {s}\nA: {a}\n" for s, a in facts)
        block = f"Known:\n{block}\n" if block else ""
        text = ctx.text(self.answer_prompt.format(facts=block, question=question), "answer",
                        max_tokens=self.max_tokens, stop=["\n\n", "\nQuestion:"])
        answer = extract_answer(text, self.numeric) or text.strip()
        ctx.trace.step(f"answer (depth {depth})", f"{question} -> {answer}")
        return answer

    def run(self, question: str, ctx: Context) -> Result:
        text = self._solve(question, 0, ctx)
        answer = extract_answer(text, self.numeric) or (text.strip() or None)
        ctx.offer(answer)
        return Result(answer, None, ctx.trace, text, [answer])
