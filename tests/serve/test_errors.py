"""Malformed requests: each gets the right 4xx in OpenAI's error shape, and the server keeps serving."""
import httpx
import pytest

from llmos.serve.errors import validation_message

OK = {"model": "tiny", "prompt": "the", "max_tokens": 3}
CHAT = {"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3}
TOOL = {"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}


def schema_format(schema: dict) -> dict:
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}


# (what is wrong, method, path, body (dict, or raw text), status, words the message must contain, param)
CASES = [
    ("malformed JSON", "POST", "/v1/completions", '{"model": "tiny", "prompt": ', 400, "not valid JSON", None),
    ("body not an object", "POST", "/v1/completions", "[1, 2]", 400, "JSON object", None),
    ("empty body", "POST", "/v1/completions", "", 400, "body is missing", None),
    ("missing field", "POST", "/v1/completions", {"model": "tiny"}, 400, "prompt is required", "prompt"),
    ("missing model", "POST", "/v1/chat/completions", {"messages": CHAT["messages"]}, 400, "model is required", "model"),
    ("unknown model", "POST", "/v1/completions", {**OK, "model": "gpt-9"}, 404, "does not exist", "model"),
    ("wrong type: string for int", "POST", "/v1/completions", {**OK, "max_tokens": "ten"}, 400, "valid integer", "max_tokens"),
    ("wrong type: float for int", "POST", "/v1/completions", {**OK, "n": 1.5}, 400, "valid integer", "n"),
    ("wrong type: string for number", "POST", "/v1/completions", {**OK, "temperature": "0.5"}, 400, "valid number", "temperature"),
    ("wrong type: prompt", "POST", "/v1/completions", {**OK, "prompt": {"text": "x"}}, 400, "valid string", "prompt"),
    ("negative max_tokens", "POST", "/v1/completions", {**OK, "max_tokens": -1}, 400, "greater than or equal to 1", "max_tokens"),
    ("temperature > 2", "POST", "/v1/completions", {**OK, "temperature": 2.5}, 400, "less than or equal to 2", "temperature"),
    ("top_p > 1", "POST", "/v1/chat/completions", {**CHAT, "top_p": 1.5}, 400, "less than or equal to 1", "top_p"),
    ("n < 1", "POST", "/v1/completions", {**OK, "n": 0}, 400, "greater than or equal to 1", "n"),
    ("penalty out of range", "POST", "/v1/completions", {**OK, "presence_penalty": 3}, 400, "less than or equal to 2", "presence_penalty"),
    ("too many stops", "POST", "/v1/completions", {**OK, "stop": list("abcde")}, 400, "at most 4 items", "stop"),
    ("empty messages", "POST", "/v1/chat/completions", {**CHAT, "messages": []}, 400, "at least 1 item", "messages"),
    ("bad role", "POST", "/v1/chat/completions", {**CHAT, "messages": [{"role": "wizard", "content": "x"}]}, 400, "'user'", "messages[0].role"),
    ("message without content", "POST", "/v1/chat/completions", {**CHAT, "messages": [{"role": "user"}]}, 400, "content is required", "messages[0].content"),
    ("image content", "POST", "/v1/chat/completions",
     {**CHAT, "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}, 400, "text only", "messages[0].content"),
    ("prompt longer than the context", "POST", "/v1/completions", {**OK, "prompt": "the " * 40}, 400, "maximum context length is 96", "prompt"),
    ("chat longer than the context", "POST", "/v1/chat/completions",
     {**CHAT, "messages": [{"role": "user", "content": "jugs " * 30}]}, 400, "maximum context length", "messages"),
    ("token id outside the vocabulary", "POST", "/v1/completions", {**OK, "prompt": [1, 2, 100000]}, 400, "vocabulary", "prompt"),
    ("unknown field", "POST", "/v1/completions", {**OK, "temprature": 0.5}, 400, "unrecognized request argument", "temprature"),
    ("top_logprobs without logprobs", "POST", "/v1/chat/completions", {**CHAT, "top_logprobs": 2}, 400, "needs logprobs", "top_logprobs"),
    ("too many top_logprobs", "POST", "/v1/chat/completions", {**CHAT, "logprobs": True, "top_logprobs": 21}, 400, "less than or equal to 20", "top_logprobs"),
    ("completion logprobs > 5", "POST", "/v1/completions", {**OK, "logprobs": 6}, 400, "less than or equal to 5", "logprobs"),
    ("duplicate tool names", "POST", "/v1/chat/completions", {**CHAT, "tools": [TOOL, TOOL]}, 400, "more than once", "tools"),
    ("tool_choice names an unknown tool", "POST", "/v1/chat/completions",
     {**CHAT, "tools": [TOOL], "tool_choice": {"type": "function", "function": {"name": "nope"}}}, 400, "'nope'", "tool_choice"),
    ("tool_choice required without tools", "POST", "/v1/chat/completions", {**CHAT, "tool_choice": "required"}, 400, "at least one tool", "tool_choice"),
    ("tool message without its call id", "POST", "/v1/chat/completions",
     {**CHAT, "messages": [{"role": "tool", "content": "4"}]}, 400, "tool_call_id", "messages[0].tool_call_id"),
    ("invalid JSON schema", "POST", "/v1/chat/completions",
     {**CHAT, "response_format": schema_format({"type": "object", "properties": {"age": {"type": "integr"}}})}, 400,
     "properties.age.type", "response_format.json_schema.schema.properties.age.type"),
    ("unsupported schema feature", "POST", "/v1/completions",
     {**OK, "response_format": schema_format({"type": "object", "if": {"required": ["a"]}, "then": {}})}, 400,
     '"if"', "response_format.json_schema.schema"),
    ("invalid tool parameters", "POST", "/v1/chat/completions",
     {**CHAT, "tools": [{**TOOL, "function": {"name": "f", "parameters": {"type": 7}}}], "tool_choice": "required"}, 400,
     "tools[0].function.parameters", "tools[0].function.parameters.type"),
    ("unknown response_format type", "POST", "/v1/chat/completions", {**CHAT, "response_format": {"type": "yaml"}}, 400, "json_schema", "response_format"),
    ("logit_bias token outside the vocabulary", "POST", "/v1/completions", {**OK, "logit_bias": {"100000": 1}}, 400, "vocabulary", "logit_bias"),
    ("logit_bias key not a token id", "POST", "/v1/completions", {**OK, "logit_bias": {"the": 1}}, 400, "pattern", "logit_bias.the"),
    ("logit_bias value out of range", "POST", "/v1/completions", {**OK, "logit_bias": {"5": 101}}, 400, "less than or equal to 100", "logit_bias.5"),
    ("empty stop string", "POST", "/v1/completions", {**OK, "stop": ["\n", ""]}, 400, "at least 1 character", "stop[1]"),
    ("negative token id", "POST", "/v1/completions", {**OK, "prompt": [5, -1]}, 400, "greater than or equal to 0", "prompt[1]"),
    ("unsupported completion parameter", "POST", "/v1/completions", {**OK, "suffix": "x"}, 400, "suffix is not supported", "suffix"),
    ("wrong content type", "POST", "/v1/completions", "model=tiny&prompt=x", 400, "JSON object", None),
    ("wrong method", "GET", "/v1/completions", None, 405, "not allowed", None),
    ("unknown route", "GET", "/v1/engines", None, 404, "no route", None),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_request_gets_a_4xx_and_the_server_keeps_serving(server, case):
    what, method, path, body, status, words, param = case
    if isinstance(body, dict):
        r = httpx.request(method, server + path, json=body, timeout=30)
    else:
        headers = {"content-type": "application/x-www-form-urlencoded" if what == "wrong content type"
                   else "application/json"}
        r = httpx.request(method, server + path, content=body, headers=headers, timeout=30)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert words in error["message"], error["message"]
    if param is not None:
        assert error["param"] == param
    ok = httpx.post(f"{server}/v1/completions", json=OK, timeout=30)
    assert ok.status_code == 200 and ok.json()["choices"][0]["finish_reason"] in ("stop", "length")


def test_validation_message_names_the_field_once_for_a_union():
    errors = [{"type": "string_type", "loc": ("body", "stop", "str"), "msg": "Input should be a valid string"},
              {"type": "list_type", "loc": ("body", "stop", "list[str]"), "msg": "Input should be a valid list"},
              {"type": "missing", "loc": ("body", "model"), "msg": "Field required"}]
    message, param = validation_message(errors)
    assert param == "stop"
    assert message == "stop: input should be a valid string or input should be a valid list (and 1 more problem)"
