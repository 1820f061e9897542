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


def test_openai_backend_asks_for_the_action_schema_and_falls_back_when_refused():
    bodies = []

    def old_server(request):
        body = json.loads(request.content)
        bodies.append(body)
        if "response_format" in body:
            return httpx.Response(400, json={"error": {"message": "unrecognized request argument supplied: "
                                                                  "response_format", "param": "response_format"}})
        return httpx.Response(200, json=completion('{"type": "back"}'))
    b = backend(old_server)
    assert b.complete(REQUEST).text == '{"type": "back"}' and b.complete(REQUEST).text == '{"type": "back"}'
    assert ["response_format" in x for x in bodies] == [True, False, False] and b.structured is False
    fmt = bodies[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert "oneOf" not in json.dumps(fmt) and len(fmt["json_schema"]["schema"]["anyOf"]) >= 10
    never = []
    backend(lambda r: never.append(json.loads(r.content)) or httpx.Response(200, json=completion("x")),
            structured=False).complete(REQUEST)
    assert "response_format" not in never[0]


@pytest.mark.parametrize("steps", [10, pytest.param(50, marks=pytest.mark.slow)])
def test_agent_through_llmos_serve_with_a_random_model_never_fails_to_parse(tmp_path, steps):
    """Agent steps with the agent's own prompts, a random-weight model behind `llmos serve`, and
    the agent's own parser: constrained decoding leaves nothing to retry."""
    import string

    import torch

    from llmos.agent.parsing import parse_reply
    from llmos.agent.prompting import build_messages
    from llmos.agent.views import Element, HistoryItem
    from llmos.background_server import serve_in_background
    from llmos.hub import save_pretrained
    from llmos.infer.engine import EngineConfig
    from llmos.nn import CausalLM, ModelConfig
    from llmos.serve.app import create_app
    from llmos.serve.served_model import ServedModel
    from llmos.text import Tokenizer

    # a small alphabet, so a random model's strings soon close: steps stay short (the prompt's
    # other characters read as <unk>)
    tok = Tokenizer.char(string.ascii_lowercase + string.digits[:4] + '{}[]":,. _-')
    torch.manual_seed(0)
    model = CausalLM(ModelConfig.for_family("llama", vocab_size=tok.vocab_size, d_model=32, n_layers=1, n_heads=4,
                                            d_ff=64, max_seq_len=8192, eos_token_id=tok.eos_id)).eval()
    save_pretrained(model, tmp_path, tokenizer=tok)
    served = ServedModel.load(tmp_path, name="random", engine_config=EngineConfig(n_slots=2))
    obs = Observation(url="http://shop.test/", title="Shop", text="Wool socks, 12 EUR.",
                      elements=[Element(index=0, tag="button", role="button", label="Add to cart"),
                                Element(index=1, tag="input", role="textbox", label="Quantity", value="1")])
    failures, kinds = [], set()
    with serve_in_background(create_app(served)) as url:
        b = OpenAIBackend(f"{url}/v1", "random", temperature=1.0, max_tokens=2000)
        history = []
        for step in range(steps):
            context = StepContext(task="buy socks", step=step, observation=obs, history=history[-3:])
            reply = b.complete(ModelRequest(messages=build_messages(context), context=context))
            try:
                action = parse_reply(reply.text)
            except Exception as e:
                failures.append(f"{e}: {reply.text[-200:]}")
                continue
            kinds.add(action.type)
            history.append(HistoryItem(step=step, action=action, outcome="ok"))
        assert b.structured is True
    assert failures == []
    assert len(kinds) >= min(5, steps // 2)  # random actions of many kinds, every one of them valid
