"""Reading the final answer out of a model's text, and comparing answers.

    extract_answer("... 8*2=16. The answer is 16.")   -> "16"
    extract_answer("I am not sure.")                  -> None   (recorded as "no answer")

Markers are tried first, in order ("the answer is X", "answer: X", "#### X",
"Final Answer: X", "\\boxed{X}"); with `numeric=True`, text without a marker
falls back to its last number. `normalize` makes "1,000." and "$1000" equal.
"""
from __future__ import annotations

import re

NO_ANSWER = None
IDK = "I don't know"

_MARKERS = [
    re.compile(r"\\boxed\{([^{}]+)\}"),
    re.compile(r"####\s*([^\n]+)"),
    re.compile(r"final answer\s*(?:is|:)\s*([^\n]+)", re.I),
    re.compile(r"the answer is\s*:?\s*([^\n]+)", re.I),
    re.compile(r"\banswer\s*:\s*([^\n]+)", re.I),
]
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def extract_answer(text: str, numeric: bool = True) -> str | None:
    """The answer in `text`, or None when it has none."""
    if not text:
        return None
    for pattern in _MARKERS:
        hits = pattern.findall(text)
        if hits:
            answer = _clean(hits[-1])
            if answer:
                return answer
    if numeric:
        numbers = _NUMBER.findall(text)
        if numbers:
            return _clean(numbers[-1])
    return None


def _clean(answer: str) -> str:
    answer = answer.strip()
    # "16." / "16 apples." -> the leading number when the answer starts with one
    m = re.match(r"^\$?(-?\d[\d,]*(?:\.\d+)?)\b", answer)
    if m and not re.search(r"[-+*/=()]", answer[m.end():]):      # "(13-9)*6=24" is an answer in itself
        return m.group(1).replace(",", "")
    return answer.rstrip(".").strip()


def normalize(answer: str | None) -> str | None:
    """A canonical form for voting and grading: case, spaces, commas, $, trailing zeros."""
    if answer is None:
        return None
    a = answer.strip().lower().rstrip(".").replace("$", "").strip()
    if re.fullmatch(r"-?[\d,]+(\.\d+)?", a):
        a = a.replace(",", "")
        if "." in a:
            a = a.rstrip("0").rstrip(".")
    return " ".join(a.split())


def same_answer(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and normalize(a) == normalize(b)
