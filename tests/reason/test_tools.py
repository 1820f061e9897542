import pytest

from llmos.reason import Tool, ToolRegistry, calculator_tool


def test_registry_calls_tools_and_turns_failures_into_text():
    reg = ToolRegistry([calculator_tool(), Tool("boom", "fails", lambda s: 1 / 0)])
    assert reg.call("calculator", "(23-20)*4/2") == "6"
    assert "ZeroDivisionError" in reg.call("boom", "")
    assert "no tool 'nope'" in reg.call("nope", "")
    with pytest.raises(ValueError, match="already registered"):
        reg.add(calculator_tool())
