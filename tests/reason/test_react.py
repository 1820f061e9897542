from llmos.reason import ReAct, ScriptedBackend, Tool, ToolRegistry, calculator_tool
from llmos.reason.react import parse_action


def test_calls_the_tool_and_uses_the_observation():
    backend = ScriptedBackend([" I need 23-20.\nAction: calculator[23-20]",
                               lambda prompt, p: f" It is {prompt.split('Observation: ')[-1].split(chr(10))[0]}."
                                                 f"\nAction: finish[{prompt.split('Observation: ')[-1].split(chr(10))[0]}]"])
    r = ReAct().solve("Tom had 23 and gave 20 away. How many?", backend)
    assert len(backend.calls) == 2
    assert all(c.params.stop[0] == "\nObservation:" for c in backend.calls)
    assert "Observation: 3\n" in backend.calls[1].prompt           # the tool's result, fed back
    assert r.answer == "3"
    kinds = [s.kind for s in r.trace.steps]
    assert kinds == ["thought", "action", "observation", "thought", "action"]


def test_unknown_tools_unparsable_actions_and_refused_expressions_become_observations():
    backend = ScriptedBackend([" hmm\nAction: search[x]", " just text", " x\nAction: calculator[__import__('os')]",
                               " ok\nAction: finish[none]"])
    r = ReAct().solve("q", backend)
    obs = [s.text for s in r.trace.steps if s.kind == "observation"]
    assert "there is no tool 'search'" in obs[0]
    assert "no action found" in obs[1]
    assert obs[2].startswith("refused: function calls are not plain arithmetic")


def test_a_registry_tool_such_as_the_code_runner_is_listed_and_called():
    tools = ToolRegistry([calculator_tool(), Tool("python", "run code", lambda code: f"ran {len(code)} chars")])
    backend = ScriptedBackend([" run it\nAction: python[print(1)]", " Action: finish[1]"])
    r = ReAct(tools=tools).solve("q", backend)
    assert "python[input]: run code" in backend.calls[0].prompt
    assert "Observation: ran 8 chars" in backend.calls[1].prompt and r.answer == "1"


def test_parse_action_takes_the_last_action():
    assert parse_action("Action: a[1]\nThought: no\nAction: b[2 + 3]") == ("b", "2 + 3")
    assert parse_action("Thought only") is None
