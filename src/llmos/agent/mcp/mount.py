"""Mount an external MCP server's tools as the agent's actions.

    calc = MCPMount.stdio("calc", [sys.executable, "calc_server.py"])   # or MCPMount.http("calc", URL)
    agent = Agent(backend, hooks=[calc])       # sessions now have the tools calc.add, calc.upper, ...
    # the model calls one with {"type": "tool", "name": "calc.add", "arguments": {"a": 2, "b": 3}}

Every tool is listed when the server is mounted and its input schema is
checked then (a JSON Schema with `type: object`); a tool with an invalid
schema is refused, naming it, and nothing is mounted. Each mounted tool is an
action class of its own in the person's policy (`PolicyConfig.tools`, keyed by
the mounted name); a tool the person has not ruled on is asked about
(ASK_USER). Arguments are checked against the schema before the call, so a
bad call comes back to the model as an error, not to the server.

The `mcp` client is async and the agent loop is not, so a mount keeps its
connection open on its own event-loop thread and the loop calls into it.
"""
from __future__ import annotations

import asyncio
import json
import threading
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import jsonschema

from llmos.agent.hooks import AgentHooks
from llmos.agent.views import StepContext


class ToolSchemaError(ValueError):
    """A mounted server offers a tool whose input schema is not valid; the message names the tool."""


class ToolCallError(RuntimeError):
    """A mounted tool could not be called (bad arguments, the server failed or went away)."""


@dataclass
class MountedTool:
    name: str                  # the agent-side name: "<mount>.<tool>"
    remote: str                # the tool's name on its server
    description: str
    schema: dict
    mount: "MCPMount"

    def call(self, arguments: dict[str, Any]) -> str:
        try:
            jsonschema.validate(arguments, self.schema)
        except jsonschema.ValidationError as e:
            raise ToolCallError(f"arguments for {self.name} do not fit its schema: {e.message}") from None
        return self.mount.call(self.remote, arguments)


def check_schema(name: str, schema: Any) -> dict:
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise ToolSchemaError(f"MCP tool {name!r} is refused: its input schema must be a JSON Schema "
                              f"object with type 'object', got {json.dumps(schema)[:200]}")
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        raise ToolSchemaError(f"MCP tool {name!r} is refused: its input schema is invalid ({e.message} at "
                              f"{'/'.join(map(str, e.absolute_path)) or 'the root'})") from None
    return schema


class MCPMount(AgentHooks):
    """One external MCP server, connected, with its tools mounted on every session of an Agent."""

    def __init__(self, name: str, server: Any, timeout_s: float = 30.0):
        if not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"mount name {name!r}: use letters, digits, '_' or '-'")
        self.name = name
        self.server = server           # a URL (streamable HTTP) or mcp.StdioServerParameters
        self.timeout_s = timeout_s
        self.tools: dict[str, MountedTool] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name=f"mcp-{name}")
        self._thread.start()
        self._stack: AsyncExitStack | None = None
        self._client = None
        try:
            self._run(self._connect())
        except BaseException:
            self.close()
            raise

    @classmethod
    def stdio(cls, name: str, command: list[str], **kw) -> MCPMount:
        from mcp import StdioServerParameters
        return cls(name, StdioServerParameters(command=command[0], args=list(command[1:])), **kw)

    @classmethod
    def http(cls, name: str, url: str, **kw) -> MCPMount:
        return cls(name, url, **kw)

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(self.timeout_s)

    async def _connect(self) -> None:
        from mcp import Client

        self._stack = AsyncExitStack()
        self._client = await self._stack.enter_async_context(Client(self.server, mode="legacy"))
        listed = await self._client.list_tools()
        tools = {}
        for t in listed.tools:
            schema = check_schema(t.name, t.input_schema)
            name = f"{self.name}.{t.name}"
            tools[name] = MountedTool(name, t.name, t.description or "", schema, self)
        self.tools = tools

    def call(self, remote: str, arguments: dict[str, Any]) -> str:
        try:
            result = self._run(self._client.call_tool(remote, arguments))
        except Exception as e:
            raise ToolCallError(f"MCP server {self.name!r} failed on {remote}: {type(e).__name__}: {e}") from None
        text = "\n".join(getattr(c, "text", "") or json.dumps(getattr(c, "model_dump", lambda: {})())
                         for c in result.content)
        if result.is_error:
            raise ToolCallError(f"{self.name}.{remote} reported an error: {text}")
        return text

    def close(self) -> None:
        if self._stack is not None:
            try:
                self._run(self._stack.aclose())
            except Exception:  # the server is already gone
                pass
            self._stack = None
        self._loop.call_soon_threadsafe(self._loop.stop)

    # ------------------------------------------------------------------ hooks into the agent loop

    def on_session_start(self, session) -> None:
        session.tools.update(self.tools)

    def before_model(self, session, context: StepContext) -> StepContext:
        listing = "; ".join(f"{t.name}({json.dumps(t.schema.get('properties', {}))}): {t.description}"
                            for t in self.tools.values())
        note = ('Tools you may call with {"type": "tool", "name": NAME, "arguments": {...}}: ' + listing)
        return context.model_copy(update={"notes": [*context.notes, note]})
