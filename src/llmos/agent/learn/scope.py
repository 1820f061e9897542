"""What the trained policy learned, so that a `done` on a request outside it is not taken on trust.

A policy trained on the suite's errands knows their words: "book", "flight",
"cart", "newsletter". A request that names something else ("renew my
passport", "a mountain bike") is one it was never taught; a small policy still
answers it with the nearest errand it knows, and may end by claiming `done`
("The cart is empty.") on a page that has nothing to do with the request.

The scope is the set of words of every request the policy was trained on,

    RUN/model/scope.json   {"words": ["add", "arrive", "book", ...], "requests": 1200}

and a request word is *unfamiliar* when it is in neither the scope nor any page
the policy has seen during the task (element labels, values, options and page
text): a city the policy never trained on but finds in a select is familiar, a
product no page of the shop shows is not. The backend (backend.py) then turns
the policy's first `done` on such a request into a question to the person,

    unfamiliar(task, scope, seen) = words(task) - scope - seen

so the task ends in ASK_USER, not in a claim the policy cannot back. Words are
alphabetic, of three letters or more, case aside: numbers and dates are values,
and values are what the held-out splits change.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable

from llmos.agent.views import StepContext

SCOPE_FILE = "scope.json"
_WORD = re.compile(r"[^\W\d_]{3,}")


def words(text: str) -> set[str]:
    """The alphabetic words of `text` (three letters or more), case-folded."""
    return set(_WORD.findall(text.casefold()))


def page_words(ctx: StepContext) -> set[str]:
    """Every word the step's page shows: element labels, values and options, and the page text."""
    obs = ctx.observation
    parts = [obs.title, obs.text]
    for e in obs.elements:
        parts += [e.label, e.value or "", *e.options]
    return words(" ".join(parts))


def write_scope(folder: str | Path, requests: Iterable[str]) -> dict:
    """FOLDER/scope.json from the training requests; returns what it wrote."""
    requests = list(requests)
    vocab = set().union(*(words(r) for r in requests)) if requests else set()
    info = {"words": sorted(vocab), "requests": len(requests)}
    (Path(folder) / SCOPE_FILE).write_text(json.dumps(info, indent=1) + "\n")
    return info


def read_scope(folder: str | Path) -> set[str] | None:
    """The scope saved beside a policy, or None where there is none (then nothing is checked)."""
    path = Path(folder) / SCOPE_FILE
    return set(json.loads(path.read_text())["words"]) if path.exists() else None


def unfamiliar(task: str, scope: set[str], seen: set[str]) -> list[str]:
    """The request's words that are neither learned nor seen on a page, in the order the request says them."""
    out: list[str] = []
    for w in _WORD.findall(task.casefold()):
        if w not in scope and w not in seen and w not in out:
            out.append(w)
    return out
