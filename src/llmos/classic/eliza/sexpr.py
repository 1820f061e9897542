"""Read the S-expressions an ELIZA script is written in, remembering where each one is.

A 1966 script is a sequence of LISP-like lists: `(MY = YOUR 2 ((0 YOUR 0) (YOUR 3)))`.
The reader here knows nothing of what the lists mean (that is `script.py`); it
only turns text into atoms and lists that carry their line and column, so that
every later complaint about a script can point at the place to fix.

Atoms are runs of characters other than blanks and parentheses, so `DON'T`,
`REALLY,` and `=WHAT` are single atoms and `DLIST(/FAMILY)` is the atom `DLIST`
followed by a list. A `;` starts a comment that runs to the end of the line (the
1966 cards had no comments; modern scripts need them).
"""
from __future__ import annotations

from dataclasses import dataclass


class ElizaScriptError(ValueError):
    """A script that cannot be read, with the place (source:line:column) to fix."""

    def __init__(self, message: str, source: str, line: int, column: int):
        self.message, self.source, self.line, self.column = message, source, line, column
        super().__init__(f"{source}:{line}:{column}: {message}")


@dataclass(frozen=True)
class Atom:
    text: str
    line: int
    column: int

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class SList:
    items: tuple["Atom | SList", ...]
    line: int
    column: int

    def __str__(self) -> str:
        return "(" + " ".join(str(item) for item in self.items) + ")"

    def __len__(self) -> int:
        return len(self.items)


Node = Atom | SList


def read(text: str, source: str = "<script>") -> list[Node]:
    """Every top-level form of `text`, in order.

    Raises ElizaScriptError for a `)` that closes nothing and for a `(` that is
    never closed; the latter names the outermost unclosed list, since a missing
    `)` deep inside a rule makes everything after it part of that list.
    """
    stack: list[tuple[list[Node], int, int]] = []  # (items so far, line, column) of open lists
    top: list[Node] = []
    line, col, i, n = 1, 1, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line, col, i = line + 1, 1, i + 1
            continue
        if ch.isspace():
            col, i = col + 1, i + 1
            continue
        if ch == ";":
            while i < n and text[i] != "\n":
                i += 1
            continue
        if ch == "(":
            stack.append(([], line, col))
            col, i = col + 1, i + 1
            continue
        if ch == ")":
            if not stack:
                raise ElizaScriptError("this ')' closes no list; remove it or add the missing '('",
                                       source, line, col)
            items, l0, c0 = stack.pop()
            (stack[-1][0] if stack else top).append(SList(tuple(items), l0, c0))
            col, i = col + 1, i + 1
            continue
        start, start_col = i, col
        while i < n and not text[i].isspace() and text[i] not in "();":
            i += 1
        col += i - start
        (stack[-1][0] if stack else top).append(Atom(text[start:i], line, start_col))
    if stack:
        _, l0, c0 = stack[0]
        raise ElizaScriptError(
            f"the '(' opened here is never closed ({len(stack)} list(s) still open at the end "
            "of the script); add the missing ')'", source, l0, c0)
    return top
