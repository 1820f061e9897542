"""Tool calling: the grammar a forced call is decoded under, and reading calls out of a reply.

A call is written as one JSON object, several as a JSON list (this is how
llmos's default chat template shows the model earlier calls, too):

    {"name": "get_weather", "arguments": {"city": "Paris"}}
    [{"name": "a", "arguments": {...}}, {"name": "b", "arguments": {...}}]

Models whose own template uses tags (`<tool_call>{...}</tool_call>`, as
Qwen and Hermes do) are read as well.

tool_choice "required" and a named function decode the reply under the JSON
schema of such a call, the arguments under the function's `parameters`
schema, so the reply is always a valid call. "auto" leaves the model free and
reads a call if the reply is one; "none" never reads calls.
"""
from __future__ import annotations

import json
import re
import uuid

from llmos.serve.schemas import ChatCompletionRequest, FunctionCall, NamedToolChoice, Tool, ToolCall

_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.S)
CALL_STARTS = ("{", "[", "<tool_call>")     # a reply that may turn out to be a call begins so


def call_schema(tools: list[Tool]) -> dict:
    """The JSON schema of one call to any of `tools`."""
    options = [{"type": "object", "additionalProperties": False, "required": ["name", "arguments"],
                "properties": {"name": {"const": t.function.name},
                               "arguments": t.function.parameters or {"type": "object"}}} for t in tools]
    return options[0] if len(options) == 1 else {"anyOf": options}


def forced_schema(body: ChatCompletionRequest) -> dict | None:
    """The schema a reply must follow under tool_choice required / named (None otherwise)."""
    if body.calling == "required":
        tools = body.tools
    elif body.calling == "named":
        assert isinstance(body.tool_choice, NamedToolChoice)
        tools = [t for t in body.tools if t.function.name == body.tool_choice.function.name]
    else:
        return None
    one = call_schema(tools)
    if body.parallel_tool_calls is False or body.calling == "named":
        return one
    return {"type": "array", "minItems": 1, "items": one}


def parse_tool_calls(text: str, tools: list[Tool]) -> tuple[str | None, list[ToolCall]]:
    """(content left over, calls) read from a reply; no calls if it is not a well-formed call to a
    known tool, in which case the content is the whole text."""
    names = {t.function.name for t in tools}
    tagged = _TAGGED.findall(text)
    pieces = tagged if tagged else [text.strip()]
    calls: list[ToolCall] = []
    for piece in pieces:
        try:
            value = json.loads(piece)
        except json.JSONDecodeError:
            return text, []
        for call in value if isinstance(value, list) else [value]:
            if not (isinstance(call, dict) and call.get("name") in names):
                return text, []
            args = call.get("arguments", call.get("parameters", {}))
            if isinstance(args, str):
                try:
                    args = json.loads(args)
                except json.JSONDecodeError:
                    return text, []
            if not isinstance(args, dict):
                return text, []
            calls.append(ToolCall(id=f"call_{uuid.uuid4().hex[:24]}",
                                  function=FunctionCall(name=call["name"], arguments=json.dumps(args))))
    if not calls:
        return text, []
    rest = _TAGGED.sub("", text).strip() if tagged else ""
    return rest or None, calls


def may_become_call(text: str) -> bool:
    """Could a reply that starts with `text` still be a call (so streaming should hold it back)?"""
    head = text.lstrip()
    return any(head.startswith(s) or s.startswith(head) for s in CALL_STARTS)


def template_message(m) -> dict:
    """A ChatMessage as chat templates read it (Hugging Face's convention: arguments as a dict)."""
    d = {"role": "system" if m.role == "developer" else m.role,   # OpenAI's newer name for system
         "content": m.text}
    if m.name is not None:
        d["name"] = m.name
    if m.tool_call_id is not None:
        d["tool_call_id"] = m.tool_call_id
    if m.tool_calls:
        d["tool_calls"] = [{"id": c.id, "type": "function",
                            "function": {"name": c.function.name, "arguments": _arguments(c.function.arguments)}}
                           for c in m.tool_calls]
    return d


def _arguments(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
