"""llmos.agent: a personal agent that works a real browser, safely and observably.

    from llmos.agent import Agent, OpenAIBackend
    agent = Agent(OpenAIBackend("http://127.0.0.1:8000/v1", "my-model"))
    s = agent.create("Find the cheapest flight to Oslo", url="http://127.0.0.1:8100/flights/")
    result = agent.run(s.id)          # DONE, FAILED, or ASK_USER (then agent.step(s.id, "approve"))

Modules: `views` (the data types), `browser` + `distill.js` (Chromium seen as
numbered elements), `loop` (one step: observe, prompt, model, parse, guard,
policy, act, trace), `policy`, `vault`, `guards`, `backends`, `prompting` +
`prompts/`, `trace` + `trace_view`, `service` (the Python Action API),
`server` + `client` (the same API over HTTP), `cli` (`llmos agent ...`),
`hooks` (where memory and teams plug in), `suite` (the local web task suite).
"""
from importlib import import_module

from llmos.extras import check_extra

check_extra("agent", "fastapi", "uvicorn", "httpx", "playwright")

_EXPORTS = {
    "Agent": "llmos.agent.service", "AgentConfig": "llmos.agent.service",
    "SessionNotFound": "llmos.agent.service", "CommandError": "llmos.agent.loop",
    "OpenAIBackend": "llmos.agent.backends", "ScriptedBackend": "llmos.agent.backends",
    "ModelBackend": "llmos.agent.backends", "AgentHooks": "llmos.agent.hooks",
    "AgentClient": "llmos.agent.client",
}


def __getattr__(name: str):
    """Import on first use, so `llmos.agent.suite` and the CLI stay light."""
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'llmos.agent' has no attribute {name!r}")


__all__ = list(_EXPORTS)
