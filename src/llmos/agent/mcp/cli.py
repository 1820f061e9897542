"""`llmos mcp serve`: the agent's tools for any MCP client."""
from __future__ import annotations

from pathlib import Path

from llmos.config import ConfigError


def serve(transport: str = "stdio", host: str = "127.0.0.1", port: int = 8770,
          allowed_domains: list[str] | None = None, memory_dir: Path | None = None,
          person: str = "default") -> int:
    """Serve the agent's tools over MCP: browser primitives, the sandboxed code runner, memory search.

    Tools: observe, navigate, click, type, select, extract (one real Chromium tab), run_code
    (sandboxed Python), and memory_search when --memory-dir is given. The person's policy applies
    to every browser action: hosts off the allowlist are denied, and actions the policy would ask
    the person about (purchases, logins) are refused. Streamable HTTP listens at http://HOST:PORT/mcp.

    Args:
        transport: `stdio` (for a client that starts this command) or `http` (streamable HTTP).
        host: address to listen on (http only); keep it on 127.0.0.1.
        port: TCP port (http only).
        allowed_domains: hosts the browser may act on (default 127.0.0.1 and localhost; `*` = anywhere).
        memory_dir: a memory folder (see `llmos memory`) to expose as memory_search.
        person: whose memory to search in --memory-dir.
    """
    from llmos.agent.mcp.server import MCPServeConfig
    from llmos.agent.mcp.server import serve as run

    if transport not in ("stdio", "http"):
        raise ConfigError(f"--transport must be stdio or http, not {transport!r}")
    config = MCPServeConfig(memory_dir=memory_dir, person=person)
    if allowed_domains:
        config.allowed_domains = list(allowed_domains)
    run(config, "stdio" if transport == "stdio" else "streamable-http", host, port)
    return 0
