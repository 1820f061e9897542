"""A small MCP server for the tests: `python -m tests.agent.mcp.calc_server [stdio|bad]`.

Tools: add(a, b), shout(text), and with `bad` one more whose input schema is
invalid (a property of type "banana"), so mounting must refuse it by name.
"""
import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer("calc")


@server.tool()
def add(a: int, b: int) -> str:
    """Add two integers."""
    return str(a + b)


@server.tool()
def shout(text: str) -> str:
    """The text in capitals."""
    return text.upper() + "!"


if __name__ == "__main__":
    if "bad" in sys.argv[1:]:
        @server.tool()
        def broken(x: int) -> str:
            """A tool with a broken schema."""
            return str(x)
        server._tool_manager.get_tool("broken").parameters = {
            "type": "object", "properties": {"x": {"type": "banana"}}}
    server.run("stdio")
