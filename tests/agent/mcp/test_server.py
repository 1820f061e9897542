"""`llmos mcp serve` driven by the `mcp` package's own client, over stdio and streamable HTTP."""
import asyncio
import os
import subprocess
import sys
import time

import httpx
import pytest
from mcp import Client, StdioServerParameters

from llmos.agent.suite.server import SuiteServer
from tests.agent.a2a.conftest import free_port

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.access("/usr/bin/chromium", os.X_OK), reason="Chromium is not installed")]
TOOLS = {"observe", "navigate", "click", "type", "select", "extract", "run_code"}


@pytest.fixture(scope="module")
def suite():
    with SuiteServer() as s:
        yield s


def text(result) -> str:
    return "\n".join(c.text for c in result.content)


def test_stdio_transport(suite):
    params = StdioServerParameters(command=sys.executable, args=["-m", "llmos", "mcp", "serve"])

    async def run():
        async with Client(params, mode="legacy", read_timeout_seconds=120) as c:
            names = {t.name for t in (await c.list_tools()).tools}
            code = await c.call_tool("run_code", {"code": "print(6 * 7)"})
            nav = await c.call_tool("navigate", {"url": suite.url("/shop/")})
            page = await c.call_tool("observe", {})
            found = await c.call_tool("extract", {"query": "adapter"})
            evil = await c.call_tool("navigate", {"url": "http://evil.example/claim"})
            return names, code, nav, page, found, evil
    names, code, nav, page, found, evil = asyncio.run(run())
    assert TOOLS <= names
    assert "42" in text(code) and not code.is_error
    assert "/shop/" in text(nav) and "Add Ceramic Mug to cart" in text(page)
    assert "Travel Adapter EU/US/UK" in text(found)
    assert evil.is_error and "not on the domain allowlist" in text(evil)


def test_streamable_http_transport(suite, tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "llmos", "mcp", "serve", "--transport", "http",
                             "--port", str(port)])
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(url, timeout=2)
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline, "llmos mcp serve did not start"
                time.sleep(0.3)

        async def run():
            async with Client(url, mode="legacy", read_timeout_seconds=120) as c:
                names = {t.name for t in (await c.list_tools()).tools}
                await c.call_tool("navigate", {"url": suite.url("/flights/")})
                page = (await c.call_tool("observe", {})).structured_content or {}
                listing = text(await c.call_tool("observe", {}))
                import json
                obs = json.loads(listing)
                origin = next(e["index"] for e in obs["elements"] if e["label"] == "From")
                picked = await c.call_tool("select", {"element": origin, "option": "Berlin"})
                after = json.loads(text(await c.call_tool("observe", {})))
                unobserved = await c.call_tool("click", {"element": 999})
                return names, picked, after, origin, unobserved, page
        names, picked, after, origin, unobserved, _ = asyncio.run(run())
        assert TOOLS <= names and not picked.is_error
        assert next(e for e in after["elements"] if e["index"] == origin)["value"] == "Berlin"
        assert unobserved.is_error and "no element 999" in text(unobserved)
    finally:
        proc.terminate()
        proc.wait(15)


def test_memory_search_is_a_tool_when_a_memory_is_given(tmp_path):
    """In process (the mcp client connects to the server object): no browser is started for this."""
    from llmos.agent.mcp.server import MCPServeConfig, build_server
    from llmos.agent.memory.embedder import HashEmbedder
    from llmos.agent.memory.memory import Memory

    mem = Memory.open(tmp_path, "ada", HashEmbedder())
    mem.save("Ada prefers an aisle seat on flights", key="seat", value="aisle", kind="preference")
    mem.save("Ada's library is the Riverside branch")
    mem.close()
    server, tools = build_server(MCPServeConfig(memory_dir=tmp_path, person="ada", embedder=HashEmbedder()))

    async def run():
        async with Client(server) as c:
            names = {t.name for t in (await c.list_tools()).tools}
            return names, await c.call_tool("memory_search", {"query": "which seat on flights", "k": 1})
    try:
        names, hits = asyncio.run(run())
    finally:
        tools.pool.shutdown()
    assert "memory_search" in names and TOOLS <= names
    assert "aisle seat" in text(hits) and "Riverside" not in text(hits)
