"""Reflexion (Shinn et al. 2023): trials, an evaluator, and an episodic memory of reflections.

    memory = []
    for trial in 1..trials:
        result = ACTOR(question, with the reflections in memory shown first)   (any strategy)
        ok, feedback = EVALUATOR(question, result)                             (a function or the model)
        if ok: return result
        memory.append(REFLECT(question, result, feedback))                     (one call)

ReAct inside Reflexion is `Reflexion(actor=ReAct(tools))`. The evaluator is
usually a check the task allows (unit tests, an exact match, a verifier);
without one, the model judges its own answer (`ModelJudge`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from llmos.reason.context import Context
from llmos.reason.cot import CoT
from llmos.reason.strategy import Result, Strategy

Evaluator = Callable[[str, Result, Context], tuple[bool, str]]


@dataclass
class ModelJudge:
    """The model says whether the answer is right: 'yes' passes."""
    prompt: str = "Question: {question}\nProposed answer: {answer}\nIs the proposed answer correct? yes or no:"

    def __call__(self, question: str, result: Result, ctx: Context) -> tuple[bool, str]:
        verdict = ctx.text(self.prompt.format(question=question, answer=result.answer), "evaluate",
                           max_tokens=8, stop=["\n"])
        ok = verdict.strip().lower().startswith("yes")
        return ok, "judged correct" if ok else f"judged incorrect ({verdict.strip()})"


def with_memory(question: str, memory: list[str]) -> str:
    """The question as the next trial sees it: earlier reflections first."""
    if not memory:
        return question
    notes = "\n".join(f"- {m.strip()}" for m in memory)
    return f"Reflections on earlier attempts:\n{notes}\n{question}"


@dataclass
class Reflexion(Strategy):
    actor: Strategy = field(default_factory=CoT)
    evaluator: Evaluator = field(default_factory=ModelJudge)
    trials: int = 3
    reflect_prompt: str = ("Question: {question}\nYour attempt: {attempt}\nAnswer given: {answer}\n"
                           "Evaluation: {feedback}\nIn one sentence, what went wrong and what will you do "
                           "differently next time?\nReflection:")
    name: str = "reflexion"

    def run(self, question: str, ctx: Context) -> Result:
        memory: list[str] = []
        ctx.trace.notes["memory"] = memory
        result = None
        for trial in range(1, self.trials + 1):
            result = self.actor.run(with_memory(question, memory), ctx)
            ok, feedback = self.evaluator(question, result, ctx)
            ctx.trace.step(f"trial {trial}", f"answer {result.answer}: {feedback}", 1.0 if ok else 0.0)
            if ok:
                ctx.offer(result.answer, 1.0)
                result.confidence = 1.0 if result.confidence is None else result.confidence
                return result
            if trial == self.trials:
                break
            reflection = ctx.text(self.reflect_prompt.format(question=question, attempt=result.text.strip(),
                                                             answer=result.answer, feedback=feedback),
                                  "reflect", max_tokens=96, stop=["\n\n"])
            memory.append(reflection.strip())
            ctx.trace.step("reflection", reflection)
        result.confidence = 0.0                  # every trial failed its evaluation
        return result
