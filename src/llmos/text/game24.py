"""Game of 24: every solvable puzzle of four numbers from 1 to 13, with solutions and formats.

Use each number once with + - * / to make 24. Of the 1,820 multisets of four
numbers in 1..13, the solvable ones are enumerated here (exact arithmetic with
fractions); 100 of them are held out, fixed by seed. The formats, after the
Tree of Thoughts paper's prompts:

    propose: 4 9 10 13 ->  13-9=4 (left: 4 4 10)                       one step
    value: 4 4 10 ->  sure                                              sure / impossible for what is left
    solve: 4 9 10 13 ->  13-9=4 (left: 4 4 10) 10-4=6 (left: 4 6) 4*6=24 (left: 24) answer: (13-9)*(10-4)=24
    io: 4 9 10 13 ->  (13-9)*(10-4)=24                                  the direct answer

`check(puzzle, expression)` is the judge: the expression must use exactly the
puzzle's numbers, only arithmetic, and equal 24.
"""
from __future__ import annotations

import ast
import itertools
import random
from collections import Counter
from fractions import Fraction
from functools import lru_cache

Numbers = tuple[Fraction, ...]
TARGET = 24


def fmt(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def parse_numbers(text: str) -> Numbers:
    """"4 4 10" or "4 1/3 10" -> sorted fractions; ValueError on anything else."""
    parts = text.split()
    if not parts:
        raise ValueError("no numbers")
    try:
        return tuple(sorted(Fraction(p) for p in parts))
    except ZeroDivisionError:
        raise ValueError(f"{text!r} has a number over 0") from None


def show(numbers: Numbers) -> str:
    return " ".join(fmt(x) for x in sorted(numbers))


@lru_cache(maxsize=200_000)
def moves(numbers: Numbers) -> list[tuple[str, Numbers]]:
    """Every distinct one-step move: ("13-9=4", numbers left); a - b only when a >= b, no division by 0."""
    out, seen = [], set()
    for i, j in itertools.permutations(range(len(numbers)), 2):
        a, b = numbers[i], numbers[j]
        rest = [numbers[k] for k in range(len(numbers)) if k not in (i, j)]
        for op in "+-*/":
            if op in "+*" and i > j:
                continue
            if op == "-" and a < b:
                continue
            if op == "/" and b == 0:
                continue
            c = a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else a / b
            step = f"{fmt(a)}{op}{fmt(b)}={fmt(c)}"
            left = tuple(sorted(rest + [c]))
            if (step, left) not in seen:
                seen.add((step, left))
                out.append((step, left))
    return out


def _results(a, b) -> set:
    """What one step can make of a and b: the same moves as `moves` (no negative intermediates)."""
    out = {a + b, a * b, abs(a - b)}
    if b:
        out.add(a / b)
    if a:
        out.add(b / a)
    return out


@lru_cache(maxsize=None)
def solvable(numbers: Numbers) -> bool:
    """Can these (sorted) numbers make 24? Exact search over every pair and operation."""
    if len(numbers) == 1:
        return numbers[0] == TARGET
    for i, j in itertools.combinations(range(len(numbers)), 2):
        rest = [numbers[k] for k in range(len(numbers)) if k not in (i, j)]
        if any(solvable(tuple(sorted(rest + [c]))) for c in _results(numbers[i], numbers[j])):
            return True
    return False


def solution_paths(numbers: Numbers) -> list[list[tuple[str, Numbers]]]:
    """Every sequence of moves that ends at 24."""
    if len(numbers) == 1:
        return [[]] if numbers[0] == TARGET else []
    return [[(step, left)] + rest for step, left in moves(numbers) if solvable(left)
            for rest in solution_paths(left)]


def random_solution(numbers: Numbers, rng: random.Random) -> list[tuple[str, Numbers]]:
    """One solution path, each step drawn uniformly from the moves that keep it solvable."""
    path = []
    while len(numbers) > 1:
        good = [(s, left) for s, left in moves(numbers) if solvable(left)]
        if not good:
            raise ValueError(f"{show(numbers)} has no solution")
        step, numbers = rng.choice(good)
        path.append((step, numbers))
    return path


def step_readings(step: str) -> list[tuple[Fraction, str, Fraction, Fraction]]:
    """Every split of "a op b=c" whose arithmetic holds: "1/2/1=1/2" reads as (1/2)/1 and as 1/(2/1)."""
    lhs, _, rhs = step.partition("=")
    try:
        c = Fraction(rhs.strip())
    except (ValueError, ZeroDivisionError):
        return []
    out = []
    for k, op in enumerate(lhs):
        if op in "+-*/" and k > 0:
            try:
                a, b = Fraction(lhs[:k]), Fraction(lhs[k + 1:])
            except (ValueError, ZeroDivisionError):
                continue
            if op == "/" and b == 0:
                continue
            if (a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else a / b) == c:
                out.append((a, op, b, c))
    return out


def parse_step(step: str) -> tuple[Fraction, str, Fraction, Fraction]:
    """"8/3*9=24" -> (8/3, "*", 9, 24): the first split whose arithmetic holds; ValueError if none."""
    readings = step_readings(step)
    if not readings:
        raise ValueError(f"{step!r} is not a correct step a op b = c")
    return readings[0]


def legal_readings(numbers, step: str) -> list[tuple[Fraction, str, Fraction, Fraction]]:
    """The readings of `step` whose operands a and b are both among `numbers` (twice, when a == b)."""
    values = Counter(numbers)
    return [r for r in step_readings(step) if values[r[0]] >= 1 + (r[0] == r[2]) and values[r[2]] >= 1]


def apply_step(numbers: Numbers, step: str) -> Numbers:
    """What is left after the move "a op b=c" on `numbers`; ValueError unless a and b are there and it holds."""
    readings = legal_readings(numbers, step)
    if not readings:
        raise ValueError(f"{step!r} is not a move from {show(numbers)}")
    a, _, b, c = readings[0]
    values = Counter(numbers)
    values[a] -= 1
    values[b] -= 1
    return tuple(sorted(list(values.elements()) + [c]))


def expression(numbers: Numbers, path: list[tuple[str, Numbers]]) -> str:
    """The path's steps composed into one expression over the starting numbers."""
    pool = [(x, fmt(x)) for x in numbers]
    for step, _ in path:
        readings = legal_readings([v for v, _ in pool], step)                  # operands still left
        if not readings:
            raise ValueError(f"step {step!r} uses numbers that are not left ({show(tuple(v for v, _ in pool))})")
        a, op, b, c = readings[0]
        ea = pool.pop(next(i for i, (v, _) in enumerate(pool) if v == a))[1]
        eb = pool.pop(next(i for i, (v, _) in enumerate(pool) if v == b))[1]
        pool.append((c, f"({ea}{op}{eb})"))
    text = pool[0][1]
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def all_puzzles() -> tuple[tuple[int, ...], ...]:
    """The 1,362 solvable puzzles, as sorted 4-tuples of ints, in order (from `search_puzzles`, stored)."""
    from llmos.text.game24_puzzles import PUZZLES
    return PUZZLES


def search_puzzles() -> tuple[tuple[int, ...], ...]:
    """Find the solvable puzzles (tens of seconds).

    A fast float search screens the 1,820 candidates (a float can only err on
    the side of "solvable" here by a hair); the exact search confirms each.
    """
    return tuple(p for p in itertools.combinations_with_replacement(range(1, 14), 4)
                 if _roughly_solvable(tuple(float(x) for x in p)) and solvable(tuple(Fraction(x) for x in p)))


@lru_cache(maxsize=None)
def _roughly_solvable(numbers: tuple[float, ...]) -> bool:
    if len(numbers) == 1:
        return abs(numbers[0] - TARGET) < 1e-6
    for i, j in itertools.combinations(range(len(numbers)), 2):
        rest = [numbers[k] for k in range(len(numbers)) if k not in (i, j)]
        if any(_roughly_solvable(tuple(sorted(rest + [round(c, 9)]))) for c in _results(numbers[i], numbers[j])):
            return True
    return False


def split(n_test: int = 100, seed: int = 0) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    """(train puzzles, held-out puzzles): n_test held out by a seeded shuffle."""
    train, test = _split(n_test, seed)
    return list(train), list(test)


@lru_cache(maxsize=8)
def _split(n_test: int, seed: int) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]]:
    puzzles = list(all_puzzles())
    random.Random(seed).shuffle(puzzles)
    return tuple(sorted(puzzles[n_test:])), tuple(puzzles[:n_test])


def _value(node: ast.AST, used: list[int]) -> Fraction:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        used.append(node.value)
        return Fraction(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in (ast.Add, ast.Sub, ast.Mult, ast.Div):
        a, b = _value(node.left, used), _value(node.right, used)
        if isinstance(node.op, ast.Div) and b == 0:
            raise ZeroDivisionError
        return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}.get(type(node.op)) if not isinstance(
            node.op, ast.Div) else a / b
    raise ValueError("not arithmetic over integers")


def check(puzzle: tuple[int, ...], expr: str | None) -> bool:
    """True when `expr` uses exactly the puzzle's numbers and equals 24."""
    if not expr:
        return False
    lhs = expr.split("=")[0].strip()
    try:
        used: list[int] = []
        value = _value(ast.parse(lhs, mode="eval").body, used)
    except (SyntaxError, ValueError, ZeroDivisionError, RecursionError):
        return False
    return value == TARGET and Counter(used) == Counter(puzzle)


# ---------------------------------------------------------------- formats

def puzzle_text(puzzle) -> str:
    return " ".join(str(x) for x in puzzle)


def propose_prompt(state: str) -> str:
    return f"propose: {state} ->"


def value_prompt(state: str) -> str:
    return f"value: {state} ->"


def solve_prompt(puzzle) -> str:
    return f"solve: {puzzle_text(puzzle)} ->"


def io_prompt(puzzle) -> str:
    return f"io: {puzzle_text(puzzle)} ->"


def step_text(step: str, left: Numbers) -> str:
    return f"{step} (left: {show(left)})"


def chain_text(numbers: Numbers, path) -> str:
    return " ".join(step_text(s, left) for s, left in path) + f" answer: {expression(numbers, path)}=24"


def training_examples(rng: random.Random, puzzles: list[tuple[int, ...]], n: int,
                      mix: tuple[float, float, float, float] = (0.35, 0.35, 0.2, 0.1)) -> list[tuple[str, str]]:
    """n (prompt, target) pairs from `puzzles`: proposals, values, chains and direct answers in `mix` shares.

    Half the proposals are moves that keep the puzzle solvable and half are any
    legal move, so the proposer learns which steps are promising without being
    told only good ones. Values are sure/impossible for a state one move on,
    drawn the same way (half from the moves that keep it solvable): drawn from
    any move, "impossible" would be most of them and the valuer would learn to
    say it to everything.
    """
    out = []
    kinds = rng.choices(["propose", "value", "solve", "io"], weights=mix, k=n)
    for kind in kinds:
        nums = tuple(Fraction(x) for x in rng.choice(puzzles))
        path = random_solution(nums, rng)
        if kind in ("solve", "io"):
            target = chain_text(nums, path) if kind == "solve" else f"{expression(nums, path)}=24"
            ints = tuple(int(x) for x in nums)
            prompt = solve_prompt(ints) if kind == "solve" else io_prompt(ints)
            out.append((prompt, f" {target}\n"))
            continue
        depth = rng.randint(0, 2)                          # a state on the way: 4, 3 or 2 numbers left
        state = nums
        for step, left in path[:depth]:
            state = left
        if kind == "propose":
            options = moves(state)
            good = [(s, l) for s, l in options if solvable(l)]
            step, left = rng.choice(good if good and rng.random() < 0.5 else options)
            out.append((propose_prompt(show(state)), f" {step_text(step, left)}\n"))
        else:
            options = moves(state)                         # a child state, solvable half the time when it can be
            good = [(s, l) for s, l in options if solvable(l)]
            _, left = rng.choice(good if good and rng.random() < 0.5 else options)
            out.append((value_prompt(show(left)), " sure\n" if solvable(left) else " impossible\n"))
    return out
