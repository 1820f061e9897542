"""Tree of Thoughts (Yao et al. 2023): search over partial solutions, valued by the model.

A thought is one step ("13-9=4 (left: 4 4 10)"); a state is what is left to
solve after it. Thoughts are PROPOSED for a state (a prompt whose samples,
split into lines, are the thoughts; or a function) and each new state is
VALUED (a prompt whose samples say sure / likely / impossible, mapped to
20 / 1 / 0.001 and summed as in the paper; or a function). With
`value_by="logprobs"` the value is instead the expectation of one valuation
under the model, read off one scoring call (the limit the paper's sum of
samples tends to, without the sampling noise that ties most states):

    p(w) = softmax_w log p(" " + w | value prompt)      over the value words w
    value = sum_w p(w) * V(w)                            in (0.001, 20)

- BFS (the paper's Algorithm 1): at each depth, propose from every state in the
  frontier, value every new state, keep the b best by value.
- DFS (Algorithm 2): go into the best-valued child first; a child valued below
  the threshold is pruned; a branch that reaches the depth limit without a
  solution is a dead end, and the search backtracks to the next child.

The whole tree stays in the trace (`trace.nodes`, printed by `trace.render()`,
drawn by `reason.tree_plot.draw_tree`). What a "state" is, how a thought
changes it, and what counts as solved is a `ThoughtTask`; `TextTask` is the
generic one (the state is the question plus the steps so far).
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from llmos.reason.context import Context
from llmos.reason.strategy import Result, Strategy
from llmos.reason.trace import Node

VALUE_WORDS = {"sure": 20.0, "likely": 1.0, "impossible": 0.001}


@dataclass
class TextTask:
    """The generic task: states are text, a thought is appended as a line."""
    propose_prompt: str = ("Problem: {question}\nSteps so far:\n{state}\n"
                           "Propose possible next steps, one per line:\n")
    value_prompt: str = ("Problem: {question}\nSteps so far:\n{state}\n"
                         "Can these steps reach a correct answer? Answer sure, likely or impossible:")
    answer_pattern: str = r"answer is\s*(.+)"

    def root(self, question: str) -> str:
        return ""

    def propose(self, question: str, state: str) -> str:
        return self.propose_prompt.format(question=question, state=state or "(none)")

    def thoughts(self, text: str) -> list[str]:
        return [line.strip(" -*\t") for line in text.splitlines() if line.strip(" -*\t")]

    def next_state(self, state: str, thought: str) -> str:
        return (state + "\n" + thought).strip()

    def value(self, question: str, state: str) -> str:
        return self.value_prompt.format(question=question, state=state)

    def is_solution(self, question: str, state: str) -> bool:
        return re.search(self.answer_pattern, state.splitlines()[-1] if state else "", re.I) is not None

    def answer(self, question: str, thoughts: list[str]) -> str | None:
        m = re.search(self.answer_pattern, thoughts[-1] if thoughts else "", re.I)
        return m.group(1).strip().rstrip(".") if m else None


def read_value(text: str, words: dict[str, float] = VALUE_WORDS) -> float | None:
    """The value word a valuation ends with (the last one named), else None."""
    hits = re.findall(r"\b(" + "|".join(map(re.escape, words)) + r")\b", text.lower())
    return words[hits[-1]] if hits else None


@dataclass
class ToT(Strategy):
    task: object = field(default_factory=TextTask)
    search: Literal["bfs", "dfs"] = "bfs"
    breadth: int = 5                     # b: states kept per depth (BFS)
    depth: int = 3                       # T: thought steps
    n_propose: int = 1                   # samples of the propose prompt per state
    n_value: int = 3                     # samples of the value prompt per state
    value_by: Literal["samples", "logprobs"] = "samples"   # logprobs: the expected value, one score call
    max_thoughts: int = 8                # distinct thoughts kept per state
    threshold: float = 1.0               # DFS prunes children valued below this
    temperature: float = 0.7
    propose_tokens: int = 128
    value_tokens: int = 16
    stop: list[str] = field(default_factory=lambda: ["\n\n"])
    propose_fn: Callable[[str, str], list[str]] | None = None   # (question, state) -> thoughts
    value_fn: Callable[[str, str], float] | None = None         # (question, state) -> value
    name: str = "tot"

    def __post_init__(self) -> None:
        if self.breadth < 1 or self.depth < 1:
            raise ValueError(f"tot needs breadth >= 1 and depth >= 1, got {self.breadth}, {self.depth}")
        if self.search not in ("bfs", "dfs"):
            raise ValueError(f"tot search must be 'bfs' or 'dfs', got {self.search!r}")
        if self.value_by not in ("samples", "logprobs"):
            raise ValueError(f"tot value_by must be 'samples' or 'logprobs', got {self.value_by!r}")

    # ------------------------------------------------------------------ the two model uses
    def _expand(self, question: str, node: Node, ctx: Context) -> list[Node]:
        if self.propose_fn is not None:
            thoughts = self.propose_fn(question, node.state)
        else:
            samples = ctx.generate(self.task.propose(question, node.state), "propose", n=self.n_propose,
                                   temperature=self.temperature if self.n_propose > 1 else 0.0,
                                   max_tokens=self.propose_tokens, stop=self.stop)
            thoughts = [t for s in samples for t in self.task.thoughts(s.text)]
        seen, children = set(), []
        for t in thoughts:
            if t in seen or len(children) >= self.max_thoughts:
                continue
            seen.add(t)
            try:
                state = self.task.next_state(node.state, t)
            except ValueError:                      # a thought the task cannot apply
                continue
            children.append(ctx.trace.node(node.id, node.depth + 1, t, state))
        return children

    def _value(self, question: str, node: Node, ctx: Context, cache: dict[str, float]) -> float:
        if node.state not in cache:
            if self.value_fn is not None:
                cache[node.state] = float(self.value_fn(question, node.state))
            elif self.value_by == "logprobs":
                words = list(VALUE_WORDS)
                scores = ctx.score(self.task.value(question, node.state), [" " + w for w in words], "value")
                top = max(scores)
                weights = [math.exp(x - top) for x in scores]
                cache[node.state] = sum(w * VALUE_WORDS[word] for w, word in zip(weights, words)) / sum(weights)
                ctx.trace.calls[-1].score = cache[node.state]
            else:
                samples = ctx.generate(self.task.value(question, node.state), "value", n=self.n_value,
                                       temperature=self.temperature if self.n_value > 1 else 0.0,
                                       max_tokens=self.value_tokens, stop=self.stop)
                cache[node.state] = sum(read_value(s.text) or 0.0 for s in samples)
                ctx.trace.calls[-1].score = cache[node.state]
        node.value = cache[node.state]
        return node.value

    def _path(self, ctx: Context, node: Node) -> list[str]:
        out = []
        while node.parent is not None:
            out.append(node.thought)
            node = ctx.trace.nodes[node.parent]
        return out[::-1]

    def _result(self, question: str, ctx: Context, node: Node | None, solved: bool) -> Result:
        if node is None:
            return Result(None, None, ctx.trace)
        thoughts = self._path(ctx, node)
        answer = self.task.answer(question, thoughts)
        top = max(VALUE_WORDS.values()) * (self.n_value if self.value_by == "samples" else 1)
        confidence = 1.0 if solved else min(1.0, (node.value or 0.0) / top)
        for t in thoughts:
            ctx.trace.step("thought", t)
        return Result(answer, confidence if answer is not None else None, ctx.trace, "\n".join(thoughts))

    # ------------------------------------------------------------------ searches
    def run(self, question: str, ctx: Context) -> Result:
        root = ctx.trace.node(None, 0, "", self.task.root(question))
        root.status = "kept"
        ctx.trace.notes["search"] = {"kind": self.search, "breadth": self.breadth, "depth": self.depth}
        if self.search == "bfs":
            return self._bfs(question, ctx, root)
        found = self._dfs(question, ctx, root, {})
        return self._result(question, ctx, found, found is not None)

    def _bfs(self, question: str, ctx: Context, root: Node) -> Result:
        frontier, cache = [root], {}
        for _ in range(self.depth):
            candidates = [c for node in frontier for c in self._expand(question, node, ctx)]
            if not candidates:
                break
            for c in candidates:
                self._value(question, c, ctx, cache)
            ranked = sorted(candidates, key=lambda n: -(n.value or 0.0))      # stable: ties keep order
            frontier = ranked[:self.breadth]
            for n in candidates:
                n.status = "kept" if n in frontier else "pruned"
            best = frontier[0]
            ctx.offer(self.task.answer(question, self._path(ctx, best)), None)
            if self.task.is_solution(question, best.state):
                best.status = "solution"
                return self._result(question, ctx, best, True)
        solved = [n for n in frontier if self.task.is_solution(question, n.state)]
        for n in solved:
            n.status = "solution"
        return self._result(question, ctx, (solved or frontier)[0] if frontier else None, bool(solved))

    def _dfs(self, question: str, ctx: Context, node: Node, cache: dict[str, float]) -> Node | None:
        if self.task.is_solution(question, node.state):
            node.status = "solution"
            ctx.offer(self.task.answer(question, self._path(ctx, node)), 1.0)
            return node
        if node.depth >= self.depth:
            node.status = "dead end"
            return None
        children = self._expand(question, node, ctx)
        for c in children:
            self._value(question, c, ctx, cache)
        for c in sorted(children, key=lambda n: -(n.value or 0.0)):
            if (c.value or 0.0) < self.threshold:
                c.status = "pruned"
                continue
            c.status = "kept"
            found = self._dfs(question, ctx, c, cache)
            if found is not None:
                return found
        if node.parent is not None:
            node.status = "dead end"                 # every child failed: backtrack
        return None
