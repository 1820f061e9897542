"""Model backends: the OpenAI-compatible client and the scripted one."""
import json

import httpx
import pytest

from llmos.agent.backends import BackendError, OpenAIBackend, ScriptedBackend
from llmos.agent.views import ChatMessage, ClickAction, ModelRequest, Observation, StepContext

REQUEST = ModelRequest(messages=[ChatMessage(role="system", content="rules"), ChatMessage(role="user", content="page")],
                       context=StepContext(task="t", step=1, observation=Observation()))


def completion(text, usage=True):
    body = {"id": "c1", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}
    if usage:
        body["usage"] = {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16}
    return body


def backend(handler, **kw):
    return OpenAIBackend("http://model.test/v1", "m", transport=httpx.MockTransport(handler), **kw)


def test_openai_backend_sends_chat_and_reads_reply_and_usage():
    seen = {}

    def handler(request):
        seen["url"], seen["auth"] = str(request.url), request.headers.get("authorization")
        seen["body"] = json.loads(request.content)
        return httpx.Response(200, json=completion('{"type": "back"}'))
    reply = backend(handler, api_key="k3y").complete(REQUEST)
    assert seen["url"] == "http://model.test/v1/chat/completions" and seen["auth"] == "Bearer k3y"
    assert seen["body"]["model"] == "m" and seen["body"]["temperature"] == 0.0
    assert seen["body"]["messages"] == [{"role": "system", "content": "rules"}, {"role": "user", "content": "page"}]
    assert (reply.text, reply.prompt_tokens, reply.completion_tokens) == ('{"type": "back"}', 11, 5)


def test_openai_backend_errors_are_clear():
    with pytest.raises(BackendError, match="refused the request \\(401\\)"):
        backend(lambda r: httpx.Response(401, json={"error": "bad key"})).complete(REQUEST)
    calls = []

    def flaky(request):
        calls.append(1)
        return httpx.Response(503, text="busy") if len(calls) == 1 else httpx.Response(200, json=completion("x", False))
    assert backend(flaky).complete(REQUEST).prompt_tokens is None and len(calls) == 2
    with pytest.raises(BackendError, match="answered 500"):
        backend(lambda r: httpx.Response(500, text="boom"), retries=1).complete(REQUEST)
    with pytest.raises(BackendError, match="not a chat completion"):
        backend(lambda r: httpx.Response(200, json={"choices": []})).complete(REQUEST)

    def refuse(request):
        raise httpx.ConnectError("connection refused")
    with pytest.raises(BackendError, match="cannot reach http://model.test/v1"):
        backend(refuse).complete(REQUEST)
    with pytest.raises(ValueError, match="http\\(s\\) URL"):
        OpenAIBackend("127.0.0.1:8000", "m")


def test_scripted_backend_replays_or_calls_and_records():
    b = ScriptedBackend(["raw text", {"type": "click", "element": 2}, ClickAction(element=3)])
    assert b.complete(REQUEST).text == "raw text" and b.complete(REQUEST).action == ClickAction(element=2)
    assert b.complete(REQUEST).action.element == 3 and len(b.calls) == 3
    with pytest.raises(BackendError, match="no outputs left"):
        b.complete(REQUEST)
    fn = ScriptedBackend(lambda req: {"type": "done", "answer": req.context.task})
    assert fn.complete(REQUEST).action.answer == "t"
