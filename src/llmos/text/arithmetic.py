"""Multi-digit addition and multiplication, with scratchpads whose steps are known to be right.

    prompt:      347+598=
    direct:      945
    cot:         7+8=15, 4+9+1=14, 3+5+1=9, so 945           (right to left, carrying)
    calculator:  <<7+8=15>> <<4+9+1=14>> <<3+5+1=9>> so 945

    prompt:      347*26=
    direct:      9022
    cot:         347*6=2082, 347*20=6940, 2082+6940=9022, so 9022   (partial products)
    calculator:  <<347*6=2082>> <<347*20=6940>> <<2082+6940=9022>> so 9022

Operands have exactly the requested number of digits. Held-out pairs are those
whose CRC32 is divisible by 10, never drawn for training.
"""
from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from typing import Literal

Op = Literal["+", "*"]


@dataclass(frozen=True)
class ArithmeticProblem:
    a: int
    op: str
    b: int

    @property
    def answer(self) -> int:
        return self.a + self.b if self.op == "+" else self.a * self.b

    @property
    def prompt(self) -> str:
        return f"{self.a}{self.op}{self.b}="

    def steps(self) -> list[str]:
        if self.op == "+":
            xs, ys = str(self.a)[::-1], str(self.b)[::-1]
            carry, out = 0, []
            for i in range(max(len(xs), len(ys))):
                terms = [int(d[i]) for d in (xs, ys) if i < len(d)] + ([carry] if carry else [])
                total = sum(terms)
                out.append("+".join(map(str, terms)) + f"={total}")
                carry = total // 10
            return out
        partials, out = [], []
        for i, d in enumerate(str(self.b)[::-1]):
            if d == "0":
                continue
            factor = int(d) * 10 ** i
            partials.append(self.a * factor)
            out.append(f"{self.a}*{factor}={self.a * factor}")
        total = partials[0]
        for p in partials[1:]:
            out.append(f"{total}+{p}={total + p}")
            total += p
        return out

    def target(self, fmt: str) -> str:
        if fmt == "direct":
            return f"{self.answer}\n"
        if fmt == "cot":
            return ", ".join(self.steps()) + f", so {self.answer}\n"
        if fmt == "calc":
            return " ".join(f"<<{s}>>" for s in self.steps()) + f" so {self.answer}\n"
        raise ValueError(f"unknown format {fmt!r}; choose direct, cot or calc")


def is_held_out(p: ArithmeticProblem) -> bool:
    return zlib.crc32(p.prompt.encode()) % 10 == 0


def make_problem(rng: random.Random, op: Op, digits: int, digits_b: int | None = None) -> ArithmeticProblem:
    def number(d: int) -> int:
        return rng.randint(10 ** (d - 1) if d > 1 else 0, 10 ** d - 1)
    return ArithmeticProblem(number(digits), op, number(digits_b or digits))


def sample_problem(rng: random.Random, op: Op = "+", digits: tuple[int, ...] = (1, 2, 3),
                   held_out: bool = False, digits_b: int | None = None) -> ArithmeticProblem:
    while True:
        p = make_problem(rng, op, rng.choice(digits), digits_b)
        if is_held_out(p) == held_out:
            return p


def held_out_problems(n: int, op: Op, digits: int, seed: int = 0, digits_b: int | None = None
                      ) -> list[ArithmeticProblem]:
    rng, seen, out = random.Random(f"held-out-{seed}-{op}-{digits}-{digits_b}"), set(), []
    for _ in range(100 * n):
        p = sample_problem(rng, op, (digits,), True, digits_b)
        if p.prompt not in seen:
            seen.add(p.prompt)
            out.append(p)
            if len(out) == n:
                break
    return out


def digit_accuracy(prediction: str, answer: int) -> float:
    """Share of the answer's digits right, aligned from the right (a missing digit is wrong)."""
    truth, guess = str(answer)[::-1], prediction.strip()[::-1]
    return sum(1 for i, d in enumerate(truth) if i < len(guess) and guess[i] == d) / len(truth)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two token (character) strings."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
