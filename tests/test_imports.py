"""The package's import graph: no layer imports a higher one, and no modules import each other in a cycle.

Reads every module under src/llmos with `ast` (imports inside functions and under
TYPE_CHECKING count too), so the layer picture in the README stays true as code is added.
"""
from __future__ import annotations

import ast
import functools
from pathlib import Path

import llmos

SRC = Path(llmos.__file__).parent

# A package never imports one of a higher rank (equal ranks may import each other, a cycle aside).
# The README's layer diagram draws these ranks.
RANK = {"config": 0, "extras": 0, "background_server": 0, "nn": 1, "text": 1, "hub": 2,
        "infer": 3, "train": 3, "classic": 3, "serve": 4, "reason": 4, "interp": 4, "agent": 5, "cli": 6, "demo": 6, "__main__": 7}
# Narrower rules the diagram states: classic stands beside the rest on config and text alone;
# the agent talks to models over HTTP (agent.learn, which trains the agent's own policy, aside).
ONLY = {"classic": {"config", "text"}}
NEVER = {"agent": {"nn", "infer", "train", "serve"}}
NEVER_EXEMPT = ("llmos.agent.learn",)


def module_files() -> dict[str, Path]:
    mods = {}
    for f in SRC.rglob("*.py"):
        rel = f.relative_to(SRC.parent).with_suffix("")
        mods[".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)] = f
    return mods


@functools.lru_cache(maxsize=1)
def import_graph() -> dict[str, set[str]]:
    """module -> the llmos modules it imports (a name imported from a package counts as the package)."""
    mods = module_files()

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, f in mods.items():
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = m.split(".") if f.name == "__init__.py" else m.split(".")[:-1]
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                # `from pkg import mod` imports the submodule when there is one, else a name in pkg
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            else:
                continue
            for t in targets:
                if t == "llmos" or t.startswith("llmos."):
                    r = resolve(t)
                    if r and r != m:
                        graph[m].add(r)
    return graph


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def is_cli(module: str) -> bool:
    """A layer's `cli` module wires its verbs and may reach any layer below the command line."""
    return module.endswith(".cli") or ".cli." in module


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for m, deps in graph.items():
        a = layer(m)
        for d in deps:
            b = layer(d)
            if a == b or is_cli(m):
                continue
            if a in RANK and b in RANK and RANK[b] > RANK[a]:
                bad.append(f"{m} -> {d} ({a} is below {b})")
            if a in ONLY and b not in ONLY[a]:
                bad.append(f"{m} -> {d} ({a} may import only {sorted(ONLY[a])})")
            if a in NEVER and b in NEVER[a] and not m.startswith(NEVER_EXEMPT):
                bad.append(f"{m} -> {d} ({a} does not import {b})")
    return sorted(bad)


def test_every_package_has_a_rank():
    packages = {layer(m) for m in module_files()} - {""}
    assert packages <= set(RANK), f"give these a rank in RANK (and the README diagram): {packages - set(RANK)}"


def test_no_import_runs_up_the_layers():
    assert upward_imports(import_graph()) == []


def test_no_import_cycles_between_modules():
    assert cycles(import_graph()) == []


def test_the_checks_catch_what_they_are_for():
    graph = {"llmos.nn.a": {"llmos.agent.b", "llmos.nn.g"}, "llmos.nn.g": {"llmos.nn.a"}, "llmos.agent.b": set(),
             "llmos.classic.c": {"llmos.nn.a"}, "llmos.agent.d": {"llmos.infer.e"},
             "llmos.train.cli": {"llmos.serve.f"}, "llmos.infer.e": set(), "llmos.serve.f": set()}
    assert upward_imports(graph) == ["llmos.agent.d -> llmos.infer.e (agent does not import infer)",
                                     "llmos.classic.c -> llmos.nn.a (classic may import only ['config', 'text'])",
                                     "llmos.nn.a -> llmos.agent.b (nn is below agent)"]
    assert cycles(graph) == [["llmos.nn.a", "llmos.nn.g"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_test_module_imports_another():
    """Shared test pieces live in fixtures or helper modules (not named test_*), never in a test module."""
    tests = Path(__file__).parent
    bad = []
    for f in tests.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            bad += [f"{f.relative_to(tests)} imports {n}" for n in names
                    if n.startswith("tests.") and n.rsplit(".", 1)[-1].startswith("test_")]
    assert bad == []
