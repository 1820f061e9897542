"""Renamed values: the same step with the request's cities, dates, people and seat kinds permuted.

The suite's catalogues are small (six routes, five dates, 24 first and 24 last
names), so a small policy can fit the demonstrations by predicting each
field's most common value (the origin of most routes is Lisbon or Paris)
without ever reading the request; it then fails on held-out values. A renamed
copy of a step applies one random permutation per pool to the whole example,
prompt and action alike:

    task: ... from Madrid to Amsterdam on 2025-06-11 ...   ->   ... from Rome to Berlin on 2025-06-13 ...
    4 combobox To <...|Amsterdam|...>                       ->   4 combobox To <...|Berlin|...>
    {"type": "select", "element": 3, "option": "Madrid"}    ->   {..., "option": "Rome"}

so the page, the history and the action stay consistent with each other, and
the only way to predict a renamed value is to copy it from where it appears.
Names are renamed with their lower-case forms (in email addresses) too.
Digits are never touched: element numbers, prices and quantities keep their
meaning.
"""
from __future__ import annotations

import random
import re

from llmos.agent.learn.generator import FIRST, LAST
from llmos.agent.suite import flights as fl

SEATS = ["window", "aisle", "middle"]
POOLS: tuple[list[str], ...] = (fl.CITIES, fl.DATES, FIRST, LAST, SEATS)
_WORDS = sorted({w for pool in POOLS for w in pool} | {w.lower() for w in FIRST + LAST}, key=len, reverse=True)
_PATTERN = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, _WORDS)) + r")(?![\w-])")


def permutation(rng: random.Random) -> dict[str, str]:
    """One random renaming: each pool's values shuffled among themselves (lower-case forms follow)."""
    out: dict[str, str] = {}
    for pool in POOLS:
        shuffled = pool[:]
        rng.shuffle(shuffled)
        out.update(zip(pool, shuffled))
        if pool is FIRST or pool is LAST:
            out.update((a.lower(), b.lower()) for a, b in zip(pool, shuffled))
    return out


def rename(text: str, mapping: dict[str, str]) -> str:
    """`text` with every pool value (as a whole word) replaced by its image under `mapping`, in one pass."""
    return _PATTERN.sub(lambda m: mapping.get(m.group(1), m.group(1)), text)


def renamed_copies(examples: list, copies: int = 1, seed: int = 0) -> list:
    """`copies` renamed versions of every example that holds a pool value (SFTExample: prompt, response)."""
    from llmos.train.align.data import SFTExample

    rng = random.Random(seed)
    out = []
    for e in examples:
        if not _PATTERN.search(e.prompt):
            continue
        for _ in range(copies):
            mapping = permutation(rng)
            out.append(SFTExample(rename(e.prompt, mapping), rename(e.response, mapping)))
    return out
