"""Tool calling through the official client: call, tool result, final answer; streamed too."""
import json

import pytest

from llmos.serve.schemas import Tool
from llmos.serve.tool_calls import parse_tool_calls

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city.",
    "parameters": {"type": "object", "additionalProperties": False, "required": ["city", "unit"],
                   "properties": {"city": {"enum": ["Paris", "Oslo"]}, "unit": {"enum": ["C", "F"]}}}}}
ADD = {"type": "function", "function": {
    "name": "add", "parameters": {"type": "object", "additionalProperties": False, "required": ["a", "b"],
                                  "properties": {"a": {"type": "integer", "minimum": 0, "maximum": 9},
                                                 "b": {"type": "integer", "minimum": 0, "maximum": 9}}}}}
ASK = [{"role": "user", "content": "Weather in Paris?"}]


def check_call(call, tools=(WEATHER, ADD)):
    spec = {t["function"]["name"]: t["function"]["parameters"] for t in tools}
    assert call.type == "function" and call.id.startswith("call_")
    args = json.loads(call.function.arguments)
    import jsonschema
    jsonschema.validate(args, spec[call.function.name])
    return args


def test_named_call_then_tool_result_then_final_answer(json_client):
    first = json_client.chat.completions.create(
        model="tiny-json", messages=ASK, tools=[WEATHER, ADD], max_tokens=120, seed=0,
        tool_choice={"type": "function", "function": {"name": "get_weather"}})
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    [call] = choice.message.tool_calls
    assert call.function.name == "get_weather"
    check_call(call)
    # the assistant's call and the tool's result go back through the chat template
    messages = ASK + [choice.message, {"role": "tool", "tool_call_id": call.id, "content": "21 C, sunny"}]
    final = json_client.chat.completions.create(model="tiny-json", messages=messages, tools=[WEATHER, ADD],
                                                tool_choice="none", max_tokens=8, seed=0)
    assert final.choices[0].message.tool_calls is None
    assert final.choices[0].finish_reason in ("stop", "length") and final.choices[0].message.content


def test_required_calls_follow_the_schemas_and_may_be_parallel(json_client):
    out = json_client.chat.completions.create(model="tiny-json", messages=ASK, tools=[WEATHER, ADD], n=6,
                                              tool_choice="required", max_tokens=600, seed=0)
    for choice in out.choices:
        assert choice.finish_reason == "tool_calls", choice
        assert choice.message.tool_calls
        for call in choice.message.tool_calls:
            check_call(call)
    assert {c.function.name for ch in out.choices for c in ch.message.tool_calls} == {"get_weather", "add"}
    single = json_client.chat.completions.create(model="tiny-json", messages=ASK, tools=[WEATHER, ADD],
                                                 tool_choice="required", parallel_tool_calls=False,
                                                 max_tokens=120, seed=1)
    assert len(single.choices[0].message.tool_calls) == 1


def test_streamed_tool_call_deltas_have_openais_shape(json_client):
    chunks = list(json_client.chat.completions.create(
        model="tiny-json", messages=ASK, tools=[WEATHER], tool_choice="required", stream=True, seed=2,
        max_tokens=600))
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert deltas[0].role == "assistant"
    calls = [tc for d in deltas for tc in (d.tool_calls or [])]
    assert calls and calls[0].id.startswith("call_") and calls[0].function.name == "get_weather"
    by_index = {}
    for tc in calls:                                   # a client rebuilds each call from its fragments
        by_index.setdefault(tc.index, "")
        by_index[tc.index] += tc.function.arguments or ""
    for args in by_index.values():
        assert set(json.loads(args)) == {"city", "unit"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert not any(d.content for d in deltas)


def test_auto_reads_a_call_when_the_reply_is_one_and_text_otherwise(json_client):
    tools = [Tool.model_validate(ADD)]
    content, calls = parse_tool_calls('{"name": "add", "arguments": {"a": 1, "b": 2}}', tools)
    assert content is None and json.loads(calls[0].function.arguments) == {"a": 1, "b": 2}
    content, calls = parse_tool_calls('Sure. <tool_call>{"name": "add", "arguments": {"a": 1}}</tool_call>', tools)
    assert content == "Sure." and calls[0].function.name == "add"
    assert parse_tool_calls('{"name": "mul", "arguments": {}}', tools) == ('{"name": "mul", "arguments": {}}', [])
    assert parse_tool_calls("hello", tools) == ("hello", [])
    # a random model under auto writes text: it streams as content, not held back as a call
    out = json_client.chat.completions.create(model="tiny-json", messages=ASK, tools=[ADD], max_tokens=10,
                                              seed=4, logit_bias={"0": -100})
    assert out.choices[0].message.tool_calls is None and out.choices[0].message.content


@pytest.mark.parametrize("bad, field", [
    ({"tools": [ADD, ADD]}, "tools"),
    ({"tools": [ADD], "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}, "tool_choice"),
])
def test_bad_tools_are_refused_naming_the_field(json_client, bad, field):
    import openai
    with pytest.raises(openai.BadRequestError) as e:
        json_client.chat.completions.create(model="tiny-json", messages=ASK, max_tokens=5, **bad)
    assert e.value.body["param"] == field
