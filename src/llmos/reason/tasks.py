"""The synthetic tasks a small llmos model is trained on to reason, and how each is graded.

    task = TASKS["word"]
    prompt, target = task.example(rng, "calc")           # a training pair from the train side
    items = task.held_out(200, seed=0, size=3)           # fixed held-out problems of one size
    task.prompt(item), task.grade(item, text)

Sizes are operations (word problems) or digits (addition, multiplication).
The tasks themselves live in `llmos.text` (word_problems, arithmetic, game24).
"""
from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Any, Callable

from llmos.text import arithmetic, game24, word_problems

ALPHABET = string.ascii_letters + string.digits + " .,?:;()<>=+-*/!'\n"


@dataclass(frozen=True)
class Task:
    name: str
    description: str
    example: Callable[[random.Random, str, tuple[int, ...]], tuple[str, str]]
    held_out: Callable[..., list[Any]]
    prompt: Callable[[Any], str]
    answer: Callable[[Any], int]
    parse: Callable[[str], int | None]
    default_sizes: tuple[int, ...]
    template: str                       # how `llmos reason` wraps a bare question for this task
    stop: tuple[str, ...] = ("\n",)

    def grade(self, item: Any, text: str) -> bool:
        if self.name == "game24":
            return game24.check(item, self.parse(text))
        return self.parse(text) == self.answer(item)


def _word_example(rng: random.Random, fmt: str, sizes: tuple[int, ...]) -> tuple[str, str]:
    p = word_problems.sample_problem(rng, sizes)
    return p.prompt, p.target(fmt)


def _arith_example(op: str) -> Callable:
    def example(rng: random.Random, fmt: str, sizes: tuple[int, ...]) -> tuple[str, str]:
        p = arithmetic.sample_problem(rng, op, sizes, digits_b=None if op == "+" else 2)
        return p.prompt, p.target(fmt)
    return example


def _arith_answer(text: str) -> int | None:
    tail = text.split("so")[-1].strip().split()
    try:
        return int(tail[0]) if tail else None
    except ValueError:
        return None


def _game24_example(rng: random.Random, fmt: str, sizes: tuple[int, ...]) -> tuple[str, str]:
    """One pair of the Game of 24 mix (proposals, values, chains, direct answers); `fmt` is not used."""
    return game24.training_examples(rng, game24.split()[0], 1)[0]


def _game24_answer(text: str) -> str | None:
    return text.split("answer:")[-1].strip() or None


TASKS: dict[str, Task] = {
    "word": Task("word", "arithmetic word problems (a quantity, 1-4 operations in words, a question)",
                 _word_example, lambda n, seed=0, size=3: word_problems.held_out_problems(n, size, seed),
                 lambda p: p.prompt, lambda p: p.answer, word_problems.parse_answer, (1, 2, 3), "Q: {question}\nA:"),
    "add": Task("add", "multi-digit addition", _arith_example("+"),
                lambda n, seed=0, size=3: arithmetic.held_out_problems(n, "+", size, seed),
                lambda p: p.prompt, lambda p: p.answer, _arith_answer, (1, 2, 3), "{question}"),
    "mul": Task("mul", "multi-digit by two-digit multiplication", _arith_example("*"),
                lambda n, seed=0, size=2: arithmetic.held_out_problems(n, "*", size, seed, digits_b=2),
                lambda p: p.prompt, lambda p: p.answer, _arith_answer, (1, 2), "{question}"),
    "game24": Task("game24", "Game of 24 (one-step proposals, values, chains and direct answers)",
                   _game24_example, lambda n, seed=0, size=4: game24.split(seed=seed)[1][:n],
                   game24.solve_prompt, lambda p: p, _game24_answer, (4,), "{question}"),
}


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise ValueError(f"unknown reasoning task {name!r}; choose one of {', '.join(TASKS)}")
    return TASKS[name]
