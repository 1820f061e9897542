"""Arithmetic word problems with known-correct chains of thought, made on the spot.

In the style of the chain-of-thought paper's exemplars: a quantity, then one
to four operations described in words, then a question.

    Q: Ann has 23 pens. She loses 20. She buys 5 more. She doubles them. How many pens does Ann have?
    direct:      A: The answer is 16.
    cot:         A: 23-20=3. 3+5=8. 8*2=16. The answer is 16.
    calculator:  A: <<23-20=3>> <<3+5=8>> <<8*2=16>> The answer is 16.

In the calculator format the generation loop writes each result
(`llmos.infer.calculator`): the model writes `<<23-20=`, the loop writes `3>>`.
A problem is held out when the CRC32 of its text is divisible by 10, so the
training stream (`sample_problem(rng)` with `held_out=False`) never shows a
held-out problem, at any seed. `classify_error` reads a failed chain against
the known right one and names the first thing it got wrong.
"""
from __future__ import annotations

import random
import re
import zlib
from dataclasses import dataclass
from typing import Literal

Format = Literal["direct", "cot", "calc"]
FORMATS = ("direct", "cot", "calc")

NAMES = [("Ann", "She"), ("Bob", "He"), ("Cal", "He"), ("Dee", "She"), ("Eve", "She"), ("Gus", "He"),
         ("Hal", "He"), ("Ivy", "She"), ("Jo", "She"), ("Ken", "He")]
ITEMS = ["pens", "cards", "eggs", "coins", "books", "shells", "stamps", "cups", "rocks", "apples"]
ADD = ["buys {n} more", "finds {n} more", "gets {n} more", "wins {n} more"]
SUB = ["loses {n}", "gives away {n}", "sells {n}", "breaks {n}"]
MUL = {2: ["doubles them", "gets twice as many"], 3: ["triples them", "gets three times as many"]}
MAX_VALUE = 999


@dataclass(frozen=True)
class Step:
    a: int
    op: str          # "+", "-" or "*"
    b: int
    c: int

    def __str__(self) -> str:
        return f"{self.a}{self.op}{self.b}={self.c}"


@dataclass(frozen=True)
class WordProblem:
    text: str
    start: int
    steps: tuple[Step, ...]

    @property
    def answer(self) -> int:
        return self.steps[-1].c

    @property
    def prompt(self) -> str:
        return f"Q: {self.text}\nA:"

    def target(self, fmt: Format) -> str:
        """What the model should write after the prompt, ending with a newline."""
        end = f"The answer is {self.answer}."
        if fmt == "direct":
            return f" {end}\n"
        if fmt == "cot":
            return " " + " ".join(f"{s}." for s in self.steps) + f" {end}\n"
        if fmt == "calc":
            return " " + " ".join(f"<<{s}>>" for s in self.steps) + f" {end}\n"
        raise ValueError(f"unknown format {fmt!r}; choose one of {FORMATS}")


def is_held_out(text: str) -> bool:
    return zlib.crc32(text.encode()) % 10 == 0


def make_problem(rng: random.Random, n_ops: int) -> WordProblem:
    name, pronoun = rng.choice(NAMES)
    item = rng.choice(ITEMS)
    value = rng.randint(2, 60)
    sentences, steps = [f"{name} has {value} {item}."], []
    for _ in range(n_ops):
        choices = ["+", "-"] + (["*"] if value * 2 <= MAX_VALUE // 3 else [])
        op = rng.choice(choices)
        if op == "-" and value < 2:
            op = "+"
        if op == "+":
            b = rng.randint(2, 40)
            phrase = rng.choice(ADD).format(n=b)
        elif op == "-":
            b = rng.randint(1, min(value, 40))
            phrase = rng.choice(SUB).format(n=b)
        else:
            b = rng.choice([2, 3]) if value * 3 <= MAX_VALUE // 3 else 2
            phrase = rng.choice(MUL[b])
        c = value + b if op == "+" else value - b if op == "-" else value * b
        steps.append(Step(value, op, b, c))
        sentences.append(f"{pronoun} {phrase}.")
        value = c
    sentences.append(f"How many {item} does {name} have?")
    return WordProblem(" ".join(sentences), steps[0].a, tuple(steps))


def sample_problem(rng: random.Random, ops: tuple[int, ...] = (1, 2, 3), held_out: bool = False) -> WordProblem:
    """A random problem with a number of operations drawn from `ops`, from the train or held-out side."""
    while True:
        p = make_problem(rng, rng.choice(ops))
        if is_held_out(p.text) == held_out:
            return p


def held_out_problems(n: int, n_ops: int, seed: int = 0) -> list[WordProblem]:
    """n distinct held-out problems with exactly `n_ops` operations (fixed by seed)."""
    rng, seen, out = random.Random(f"held-out-{seed}-{n_ops}"), set(), []
    while len(out) < n:
        p = sample_problem(rng, (n_ops,), held_out=True)
        if p.text not in seen:
            seen.add(p.text)
            out.append(p)
    return out


# ---------------------------------------------------------------- reading chains

_STEP = re.compile(r"(?:<<)?\s*(-?\d+)\s*([-+*/])\s*(-?\d+)\s*=\s*(-?\d+)")
_ANSWER = re.compile(r"answer is\s*(-?\d+)", re.I)


def parse_steps(chain: str) -> list[Step]:
    return [Step(int(a), op, int(b), int(c)) for a, op, b, c in _STEP.findall(chain)]


def parse_answer(chain: str) -> int | None:
    m = _ANSWER.findall(chain)
    return int(m[-1]) if m else None


def _apply(a: int, op: str, b: int) -> int | None:
    return a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else (a // b if b and a % b == 0
                                                                                  else None)


ErrorKind = Literal["correct", "calculator", "symbol mapping", "missing step", "other"]


def classify_error(problem: WordProblem, chain: str) -> ErrorKind:
    """Why a chain is wrong, read against the known right one (the first mistake decides).

    - calculator: a step combines the right numbers the right way but writes the wrong result;
    - symbol mapping: a step uses a number or operation the problem does not say at that point
      (a misread quantity, + for "loses", or not carrying the previous result);
    - missing step: the chain is the right chain with exactly one operation left out;
    - other: anything else (no steps, extra steps, a final answer that disagrees with the chain).
    """
    if parse_answer(chain) == problem.answer:
        return "correct"
    steps, truth = parse_steps(chain), list(problem.steps)
    ops = [(s.op, s.b) for s in steps]
    true_ops = [(s.op, s.b) for s in truth]
    if len(steps) == len(truth) - 1 and any(ops == true_ops[:i] + true_ops[i + 1:] for i in range(len(truth))):
        return "missing step"
    carried = problem.start
    for i, s in enumerate(steps):
        if i >= len(truth):
            return "other"
        if s.a != carried or (s.op, s.b) != (truth[i].op, truth[i].b):
            return "symbol mapping"
        if s.c != _apply(s.a, s.op, s.b):
            return "calculator"
        carried = s.c
    return "other"
