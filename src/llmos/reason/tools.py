"""Tools a reasoning strategy may call: a registry of named text-in, text-out functions.

    tools = ToolRegistry([calculator_tool()])
    tools.add(code_tool(run_python))            # the agent's sandboxed code runner, wired by the caller
    tools.call("calculator", "23 - 20")         # "3"

The calculator parses with `ast` and walks the tree (llmos.infer.calculator):
only numbers and arithmetic, never `eval`. A tool that raises, or a name not in
the registry, comes back as an observation that says so, so the model can
correct itself instead of the run crashing.

The code tool lives in the agent layer, above this one; `reason` takes any
callable with the `Tool` shape, and `llmos reason` (the command line) hands it
the agent's sandboxed runner.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from llmos.infer.calculator import calculate


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    fn: Callable[[str], str]


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for t in tools:
            self.add(t)

    def add(self, tool: Tool) -> None:
        if not tool.name.isidentifier():
            raise ValueError(f"tool name {tool.name!r} must be a single word (letters, digits, _)")
        if tool.name in self._tools:
            raise ValueError(f"a tool named {tool.name!r} is already registered")
        self._tools[tool.name] = tool

    def __contains__(self, name: str) -> bool:
        return name in self._tools

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def describe(self) -> str:
        return "\n".join(f"{t.name}[input]: {t.description}" for t in self._tools.values())

    def call(self, name: str, argument: str) -> str:
        tool = self._tools.get(name)
        if tool is None:
            return f"there is no tool {name!r}; the tools are {', '.join(self._tools) or 'none'}"
        try:
            return str(tool.fn(argument))
        except Exception as e:                   # the observation tells the model what went wrong
            return f"the {name} tool failed: {type(e).__name__}: {e}"


def calculator_tool() -> Tool:
    return Tool("calculator", "evaluate an arithmetic expression such as (23-20)*4/2", calculate)


def code_tool(run_python: Callable[[str], str]) -> Tool:
    """A tool running Python through `run_python` (the agent's sandbox: llmos.agent.tools.code_runner)."""
    return Tool("python", "run a short Python script in a sandbox and return what it prints", run_python)


def default_tools() -> ToolRegistry:
    return ToolRegistry([calculator_tool()])
