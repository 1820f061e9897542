"""Mounting an MCP server's tools (a small server written here) as an llmos agent's actions."""
import os
import sys

import pytest

from llmos.agent.backends import ScriptedBackend
from llmos.agent.mcp.mount import MCPMount, ToolCallError, ToolSchemaError
from llmos.agent.views import DoneAction, PolicyConfig, SessionOptions, StepStatus, ToolAction

CALC = [sys.executable, "-m", "tests.agent.mcp.calc_server"]


@pytest.fixture(scope="module")
def calc():
    m = MCPMount.stdio("calc", CALC)
    yield m
    m.close()


def test_tools_are_listed_checked_and_called(calc):
    assert sorted(calc.tools) == ["calc.add", "calc.shout"]
    assert calc.tools["calc.add"].schema["required"] == ["a", "b"]
    assert calc.tools["calc.add"].call({"a": 2, "b": 40}) == "42"
    with pytest.raises(ToolCallError, match="'b' is a required property"):
        calc.tools["calc.add"].call({"a": 2})


def test_a_tool_with_an_invalid_schema_is_refused_at_mount_by_name():
    with pytest.raises(ToolSchemaError, match="MCP tool 'broken' is refused: its input schema is invalid"):
        MCPMount.stdio("calc", CALC + ["bad"])


@pytest.mark.browser
@pytest.mark.skipif(not os.access("/usr/bin/chromium", os.X_OK), reason="Chromium is not installed")
def test_an_llmos_agent_uses_the_mounted_tools_under_the_policy(calc, tmp_path):
    from llmos.agent.service import Agent, AgentConfig

    def model(request):
        ctx = request.context
        assert any("calc.add" in n for n in ctx.notes)      # the model is told the tools exist
        if not ctx.history:
            return ToolAction(name="calc.add", arguments={"a": 19, "b": 23})
        if len(ctx.history) == 1:
            return ToolAction(name="calc.shout", arguments={"text": "sum " + ctx.history[-1].outcome})
        return DoneAction(answer=ctx.history[-1].outcome)
    with Agent(ScriptedBackend(model), AgentConfig(trace_dir=tmp_path), hooks=[calc]) as agent:
        s = agent.create("add and shout")
        r = agent.run(s.id)
        assert r.status is StepStatus.ASK_USER and r.verdict.action_class.value == "tool"
        assert r.verdict.decision.value == "ask" and "calc.add" in r.message   # default: ask
        r = agent.run(s.id, "approve")
        assert r.status is StepStatus.ASK_USER and "calc.shout" in r.message
        r = agent.run(s.id, "approve")
        assert r.status is StepStatus.DONE and r.action.answer == "SUM 42!"
        allowed = SessionOptions(policy=PolicyConfig(tools={"calc.add": "allow", "calc.shout": "allow"}))
        s2 = agent.create("add and shout", options=allowed)
        r2 = agent.run(s2.id)
        assert r2.status is StepStatus.DONE and r2.action.answer == "SUM 42!"
        denied = SessionOptions(policy=PolicyConfig(tools={"calc.add": "deny"}))
        s3 = agent.create("add and shout", options=denied, backend=ScriptedBackend(
            [ToolAction(name="calc.add", arguments={"a": 1, "b": 1}), DoneAction(answer="gave up")]))
        r3 = agent.step(s3.id)
        assert r3.status is StepStatus.CONTINUE and "denied by the policy: tool calc.add is 'deny'" in r3.message
