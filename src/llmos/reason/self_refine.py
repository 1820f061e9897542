"""Self-Refine (Madaan et al. 2023): draft, get feedback, refine; repeat until good or n rounds.

    draft = GENERATE(q)
    for round in 1..rounds:
        feedback = FEEDBACK(q, draft)        (the model, or a function such as a checker)
        if feedback says stop: break         ("no issues" by default)
        draft = REFINE(q, draft, feedback)

The answer is read from the last draft.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from llmos.reason.answers import extract_answer
from llmos.reason.context import Context
from llmos.reason.strategy import Result, Strategy


@dataclass
class SelfRefine(Strategy):
    rounds: int = 3
    stop_phrase: str = "no issues"
    generate_prompt: str = "Q: {question}\nA: Let's think step by step."
    feedback_prompt: str = ("Q: {question}\nProposed answer: {draft}\nCheck each step. List any mistakes, "
                            "or say 'no issues' if it is correct.\nFeedback:")
    refine_prompt: str = ("Q: {question}\nPrevious answer: {draft}\nFeedback: {feedback}\n"
                          "Write an improved answer, ending with 'The answer is X.'\nA:")
    feedback_fn: Callable[[str, str], str] | None = None      # (question, draft) -> feedback
    max_tokens: int = 256
    numeric: bool = True
    name: str = "self_refine"

    def run(self, question: str, ctx: Context) -> Result:
        stop = ["\nQ:", "\n\n"]
        draft = ctx.text(self.generate_prompt.format(question=question), "generate", max_tokens=self.max_tokens,
                         stop=stop)
        ctx.trace.step("draft", draft)
        ctx.offer(extract_answer(draft, self.numeric))
        for _ in range(self.rounds):
            if self.feedback_fn is not None:
                feedback = self.feedback_fn(question, draft)
            else:
                feedback = ctx.text(self.feedback_prompt.format(question=question, draft=draft.strip()),
                                    "feedback", max_tokens=self.max_tokens, stop=stop)
            ctx.trace.step("feedback", feedback)
            if self.stop_phrase.lower() in feedback.lower():
                break
            draft = ctx.text(self.refine_prompt.format(question=question, draft=draft.strip(),
                                                       feedback=feedback.strip()), "refine",
                             max_tokens=self.max_tokens, stop=stop)
            ctx.trace.step("draft", draft)
            ctx.offer(extract_answer(draft, self.numeric))
        answer = extract_answer(draft, self.numeric)
        return Result(answer, None, ctx.trace, draft, [answer])
