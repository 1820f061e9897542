"""What a reasoning run did: every model call, the steps or the search tree, what it spent.

    result.trace.calls      [Call(index, purpose, prompt, outputs, score, ...), ...]  in call order
    result.trace.steps      [Step(kind, text), ...]     chains, Thought/Action/Observation, rounds
    result.trace.nodes      [Node(id, parent, depth, thought, state, value, status), ...]  (ToT)
    print(result.trace.render())                        readable, with the tree indented
    result.trace.save("trace.json")                     JSON (written atomically)
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from llmos.config import atomic_write_text


@dataclass
class Call:
    index: int                           # 1-based, in call order
    purpose: str                         # "answer", "propose", "value", "feedback", "reflect", ...
    kind: str                            # "completion", "chat" or "score"
    prompt: Any                          # text, or a message list
    params: dict
    outputs: list[str] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0
    score: float | None = None           # what the strategy made of it (a value, a vote share)
    error: str | None = None


@dataclass
class Step:
    kind: str                            # "chain", "thought", "action", "observation", "feedback", ...
    text: str
    score: float | None = None


@dataclass
class Node:
    id: int
    parent: int | None
    depth: int
    thought: str                         # the step that led here ("" at the root)
    state: str                           # what is left to solve after it
    value: float | None = None
    status: str = "open"                 # open, kept, pruned, dead end, solution


@dataclass
class Trace:
    strategy: str
    question: str
    calls: list[Call] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    answer: str | None = None
    confidence: float | None = None
    cut_short: str | None = None          # why the budget stopped the run, when it did
    spent: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)

    def step(self, kind: str, text: str, score: float | None = None) -> Step:
        s = Step(kind, text, score)
        self.steps.append(s)
        return s

    def node(self, parent: int | None, depth: int, thought: str, state: str) -> Node:
        n = Node(len(self.nodes), parent, depth, thought, state)
        self.nodes.append(n)
        return n

    def children(self, node_id: int) -> list[Node]:
        return [n for n in self.nodes if n.parent == node_id]

    def to_dict(self) -> dict:
        return asdict(self)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, default=str) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Trace":
        d = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(**{**d, "calls": [Call(**c) for c in d["calls"]], "steps": [Step(**s) for s in d["steps"]],
                      "nodes": [Node(**n) for n in d["nodes"]]})

    # ------------------------------------------------------------------ reading
    def tree_text(self) -> str:
        """The search tree, one node a line, children indented under their parent."""
        lines: list[str] = []

        def walk(n: Node, indent: int) -> None:
            value = "" if n.value is None else f"  value {n.value:g}"
            label = n.thought or f"[{n.state}]"
            lines.append(f"{'  ' * indent}{label}{value}  ({n.status})")
            for c in self.children(n.id):
                walk(c, indent + 1)

        for root in (n for n in self.nodes if n.parent is None):
            walk(root, 0)
        return "\n".join(lines)

    def render(self, prompts: bool = False) -> str:
        """A readable account: steps or tree, then the calls, then the outcome."""
        out = [f"== {self.strategy}: {self.question}"]
        if self.nodes:
            out += ["-- tree", self.tree_text()]
        if self.steps:
            out.append("-- steps")
            for s in self.steps:
                score = "" if s.score is None else f"  [{s.score:g}]"
                out.append(f"{s.kind}: {s.text.strip()}{score}")
        out.append(f"-- {len(self.calls)} model calls")
        for c in self.calls:
            score = "" if c.score is None else f" score {c.score:g}"
            out.append(f"#{c.index} {c.purpose} (n={c.params.get('n', 1)}, {c.tokens} tokens{score})")
            if prompts:
                text = c.prompt if isinstance(c.prompt, str) else json.dumps(c.prompt)
                out.append("   prompt: " + text.replace("\n", "\n           "))
            for o in c.outputs:
                out.append("   -> " + o.strip().replace("\n", "\n      "))
            if c.error:
                out.append("   error: " + c.error)
        conf = "" if self.confidence is None else f" (confidence {self.confidence:.2f})"
        out.append(f"== answer: {self.answer}{conf}")
        spent = ", ".join(f"{k} {v}" for k, v in self.spent.items())
        out.append(f"   spent: {spent}" + (f"; CUT SHORT: {self.cut_short}" if self.cut_short else ""))
        return "\n".join(out)
