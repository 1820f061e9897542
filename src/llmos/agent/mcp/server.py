"""`llmos mcp serve`: the agent's tools over MCP (the `mcp` 2.x SDK), on stdio or streamable HTTP.

Tools: the browser primitives `observe`, `navigate`, `click`, `type`,
`select`, `extract` (one real Chromium tab, elements named by the numbers the
last `observe` gave them, exactly as the agent's model sees them), the
sandboxed `run_code`, and `memory_search` when a memory store is given (the
person's long-term memory of `llmos.agent.memory`).

The person's policy still holds: every browser action is classified and
checked against the `PolicyConfig` (domain allowlist, per-class rules) and an
action the policy would ask the person about is refused, since an MCP client
is not the person. Playwright's sync API belongs to one thread, so every
browser call runs on the server's own browser thread.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from llmos.agent.browser import Browser, BrowserConfig, BrowserError, Snapshot
from llmos.agent.policy import Policy
from llmos.agent.views import (ClickAction, Decision, NavigateAction, PolicyConfig, SelectAction,
                               TypeAction)
from llmos.config import require


@dataclass
class MCPServeConfig:
    allowed_domains: list[str] = field(default_factory=lambda: ["127.0.0.1", "localhost"])
    browser: BrowserConfig = field(default_factory=BrowserConfig)
    memory_dir: Path | None = None        # with `person`: expose memory_search over this store
    person: str = "default"
    embedder: Any = None                  # the memory's embedder (default: the memory's own default)
    code_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        require(self.code_timeout_s > 0, "code_timeout_s", "> 0", self.code_timeout_s)


class ToolRefused(ToolError):
    """The person's policy does not allow the action (or there is no page to act on)."""


class BrowserTools:
    """One tab and the last snapshot, used from one thread."""

    def __init__(self, config: MCPServeConfig):
        self.config = config
        self.browser = Browser(config.browser)
        self.policy = Policy(PolicyConfig(allowed_domains=list(config.allowed_domains)))
        self._tab = None
        self._snap: Snapshot | None = None
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="llmos-mcp-browser")

    @property
    def tab(self):
        if self._tab is None:
            self._tab = self.browser.new_tab()
        return self._tab

    def _check(self, action) -> None:
        snap = self._snap or self.tab.observe()
        verdict = self.policy.check(action, snap.observation, snap.safety)
        if verdict.decision is not Decision.ALLOW:
            raise ToolRefused(f"refused by the policy: {verdict.reason} ({verdict.action_class.value} would "
                              f"need the person's approval, which an MCP client cannot give)"
                              if verdict.decision is Decision.ASK else f"denied by the policy: {verdict.reason}")

    def _need_snapshot(self) -> Snapshot:
        if self._snap is None:
            raise ToolRefused("call observe first: actions name elements by the numbers it gives")
        return self._snap

    def observe(self) -> str:
        self._snap = self.tab.observe()
        return self._snap.observation.model_dump_json(exclude_defaults=True)

    def navigate(self, url: str) -> str:
        self._check(NavigateAction(url=url))
        out = self.tab.navigate(url)
        self._snap = None
        return out

    def act(self, action) -> str:
        snap = self._need_snapshot()
        self._check(action)
        if isinstance(action, ClickAction):
            out = self.tab.click(snap, action.element)
        elif isinstance(action, TypeAction):
            out = self.tab.type(snap, action.element, action.text, action.press_enter)
        else:
            out = self.tab.select(snap, action.element, action.option)
        self._snap = None   # the page may have changed: observe again before the next action
        return out

    def extract(self, query: str) -> str:
        snap = self._snap or self.tab.observe()
        return self.tab.extract(snap, query)

    def close(self) -> None:
        self.pool.submit(self.browser.close).result(timeout=30)
        self.pool.shutdown()


def build_server(config: MCPServeConfig | None = None) -> tuple[MCPServer, BrowserTools]:
    config = config or MCPServeConfig()
    tools = BrowserTools(config)
    pool = tools.pool
    server = MCPServer("llmos", instructions="A real browser and a sandboxed code runner from llmos. "
                                             "observe first; actions name elements by their numbers.")

    async def on_browser(fn, *args):
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        except (BrowserError, ValueError) as e:  # the client reads why, as a tool error
            raise ToolError(str(e)) from None

    @server.tool()
    async def observe() -> str:
        """The current page as JSON: url, title, numbered interactive elements and a text summary."""
        return await on_browser(tools.observe)

    @server.tool()
    async def navigate(url: str) -> str:
        """Open an http(s) URL (the domain allowlist applies)."""
        return await on_browser(tools.navigate, url)

    @server.tool()
    async def click(element: int) -> str:
        """Click the element with this number from the last observe."""
        return await on_browser(tools.act, ClickAction(element=element))

    @server.tool(name="type")
    async def type_text(element: int, text: str, press_enter: bool = False) -> str:
        """Replace the text of a field (by its number from the last observe); optionally press Enter."""
        return await on_browser(tools.act, TypeAction(element=element, text=text, press_enter=press_enter))

    @server.tool()
    async def select(element: int, option: str) -> str:
        """Choose an option (its visible text) in a <select> (by its number from the last observe)."""
        return await on_browser(tools.act, SelectAction(element=element, option=option))

    @server.tool()
    async def extract(query: str = "") -> str:
        """The page's text, or only its lines that mention a word of `query`."""
        return await on_browser(tools.extract, query)

    @server.tool()
    async def run_code(code: str) -> str:
        """Run Python in a sandboxed process (no network, time and memory limits); returns its output."""
        from llmos.agent.tools.code_runner import run_code as run

        result = await asyncio.to_thread(run, code, config.code_timeout_s)
        return str(result)

    if config.memory_dir is not None:
        from llmos.agent.memory.memory import Memory

        memory = Memory.open(config.memory_dir, config.person, config.embedder)

        @server.tool()
        async def memory_search(query: str, k: int = 5) -> str:
            """Search the person's long-term memory; returns the best matches, one a line."""
            from llmos.agent.memory.actions import format_hit

            hits = await asyncio.to_thread(memory.search, query, k)
            return "\n".join(format_hit(h.item) for h in hits) or "(nothing found)"

    return server, tools


def serve(config: MCPServeConfig, transport: str = "stdio", host: str = "127.0.0.1", port: int = 8770) -> None:
    server, tools = build_server(config)
    try:
        if transport == "stdio":
            server.run("stdio")
        else:
            server.run("streamable-http", host=host, port=port)
    finally:
        tools.close()
