"""llmos.agent.mcp: tools over the Model Context Protocol (the `mcp` 2.x SDK).

`server` + `cli` serve the agent's own tools (`llmos mcp serve`); `mount`
connects to other MCP servers and makes their tools the agent's actions, each
under the person's policy (default: ask).
"""
