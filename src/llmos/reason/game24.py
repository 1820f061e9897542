"""Game of 24 as a Tree of Thoughts task, in the formats llmos's Game of 24 model is trained on.

    ToT(task=Game24(), breadth=5, depth=3, n_propose=8, n_value=1).solve("4 9 10 13", backend)

A state is the numbers left ("4 4 10"); a thought is one step with what it
leaves ("13-9=4 (left: 4 4 10)"), proposed by sampling `propose: STATE ->`;
a thought whose move is not legal from its state (a number that is not
there, wrong arithmetic, a wrong list of what is left) cannot be applied and
is dropped; a state is valued by `value: STATE ->` (sure / likely / impossible). The
answer replays the thoughts from the puzzle's numbers into one expression,
so a thought whose arithmetic is wrong yields no answer rather than a wrong one
passed off as right; `llmos.text.game24.check` is the judge.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from llmos.text import game24

_LEFT = re.compile(r"\(left:\s*([0-9/ ]+)\)")


@dataclass
class Game24:
    def root(self, question: str) -> str:
        return game24.show(game24.parse_numbers(question))

    def propose(self, question: str, state: str) -> str:
        return game24.propose_prompt(state)

    def thoughts(self, text: str) -> list[str]:
        line = text.strip().splitlines()[0].strip() if text.strip() else ""
        return [line] if _LEFT.search(line) else []

    def next_state(self, state: str, thought: str) -> str:
        """The numbers the thought says are left; ValueError when that is not what its move leaves of `state`."""
        m = _LEFT.search(thought)
        if not m:
            raise ValueError(f"thought {thought!r} does not say what is left")
        left = game24.parse_numbers(m.group(1))
        if state and game24.apply_step(game24.parse_numbers(state), thought.split("(left:")[0].strip()) != left:
            raise ValueError(f"thought {thought!r} does not follow from {state}")
        return game24.show(left)

    def value(self, question: str, state: str) -> str:
        return game24.value_prompt(state)

    def is_solution(self, question: str, state: str) -> bool:
        return state.strip() == "24"

    def answer(self, question: str, thoughts: list[str]) -> str | None:
        numbers = game24.parse_numbers(question)
        path = []
        try:
            for t in thoughts:
                step = t.split("(left:")[0].strip()
                game24.parse_step(step)                           # refuses wrong arithmetic
                path.append((step, game24.parse_numbers(self.next_state("", t))))
            if not path or path[-1][1] != (24,):
                return None
            return game24.expression(numbers, path) + "=24"
        except (ValueError, StopIteration, ZeroDivisionError):
            return None
