"""The official `openai` client against a live llmos server; greedy output equals `generate`."""
import concurrent.futures
import time

import httpx
import pytest
from openai import OpenAI

from llmos.hub import load_pretrained
from llmos.infer import GenerationConfig, complete


@pytest.fixture(scope="module")
def client(server):
    with OpenAI(base_url=f"{server}/v1", api_key="unused", max_retries=0, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def reference(model_dir):
    return load_pretrained(model_dir)


def greedy_completion(reference, prompt_ids, n):
    model, tok = reference
    return complete(model, prompt_ids, GenerationConfig(max_new_tokens=n, temperature=0), tok)


def greedy_text(reference, prompt_ids, n):
    return greedy_completion(reference, prompt_ids, n).text


def test_lists_models(client, served):
    models = client.models.list().data
    assert [m.id for m in models] == ["tiny"]
    assert client.models.retrieve("tiny").id == "tiny"


def test_completion_equals_greedy_generate(client, reference):
    out = client.completions.create(model="tiny", prompt="the quick", max_tokens=12, temperature=0)
    want = greedy_completion(reference, reference[1].encode("the quick"), 12)
    assert out.choices[0].text == want.text
    assert out.choices[0].finish_reason == want.finish_reason
    # the usage counts every sampled token, the end-of-text token included
    assert out.usage.prompt_tokens == 9
    assert out.usage.completion_tokens == len(want.tokens) + (want.finish_reason == "stop")
    assert out.usage.total_tokens == out.usage.prompt_tokens + out.usage.completion_tokens


def test_eight_concurrent_greedy_requests_each_equal_generate(client, reference, served, monkeypatch):
    texts = ["the quick", "a lazy dog", "pack my box", "five dozen", "jugs", "fox: ", "over the", "brown, "]
    want = [greedy_text(reference, reference[1].encode(t), 10 + i) for i, t in enumerate(texts)]

    def ask(i):
        return client.completions.create(model="tiny", prompt=texts[i], max_tokens=10 + i,
                                         temperature=0).choices[0].text

    # hold admission until all eight are queued (or 10 s pass), so they are decoded
    # together however the threads happen to be scheduled
    engine, admit, deadline = served.engine, served.engine._admit, time.monotonic() + 10
    monkeypatch.setattr(engine, "_admit", lambda: admit() if engine.num_pending >= len(texts)
                        or time.monotonic() > deadline else [])
    engine.max_batch = 0
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        got = list(pool.map(ask, range(8)))
    assert got == want
    assert served.engine.max_batch >= 4     # they really were decoded together


def test_chat_uses_the_template_and_equals_greedy_generate(client, reference, served):
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "the dog?"}]
    out = client.chat.completions.create(model="tiny", messages=messages, max_tokens=15, temperature=0)
    model, tok = reference
    prompt = tok.apply_chat_template(messages, tokenize=True)
    assert tok.decode(prompt).endswith("User: the dog?\n\nAssistant:")   # llmos's default template
    want = greedy_text(reference, prompt, 15)
    cut = min([want.find(s) for s in served.chat_stops if s in want] or [len(want)])
    assert out.choices[0].message.content == want[:cut]
    assert out.choices[0].message.role == "assistant"
    assert out.usage.prompt_tokens == len(prompt)


def test_streaming_completion_and_chat(client, reference):
    chunks = list(client.completions.create(model="tiny", prompt="the quick", max_tokens=12, temperature=0,
                                            stream=True))
    want = greedy_completion(reference, reference[1].encode("the quick"), 12)
    assert "".join(c.choices[0].text for c in chunks) == want.text
    assert [c.choices[0].finish_reason for c in chunks] == [None] * (len(chunks) - 1) + [want.finish_reason]
    assert len(chunks) > 2
    stream = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "hi"}],
                                            max_tokens=8, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens <= 8
    assert any(c.choices and c.choices[0].finish_reason for c in chunks)


def test_streaming_several_choices(client):
    chunks = list(client.completions.create(model="tiny", prompt="the", max_tokens=6, n=2, seed=1, stream=True))
    finished = {c.choices[0].index: c.choices[0].finish_reason for c in chunks if c.choices[0].finish_reason}
    assert finished.keys() == {0, 1}
    texts = ["".join(c.choices[0].text for c in chunks if c.choices[0].index == i) for i in (0, 1)]
    again = client.completions.create(model="tiny", prompt="the", max_tokens=6, n=2, seed=1)
    assert texts == [c.text for c in again.choices]


def test_sse_wire_format_ends_with_done(server):
    body = {"model": "tiny", "prompt": "the", "max_tokens": 4, "stream": True}
    with httpx.stream("POST", f"{server}/v1/completions", json=body, timeout=30) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line for line in r.iter_lines() if line]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"


def test_n_seed_and_stop(client):
    a = client.completions.create(model="tiny", prompt="the", max_tokens=10, n=3, seed=5, temperature=1.5)
    b = client.completions.create(model="tiny", prompt="the", max_tokens=10, n=3, seed=5, temperature=1.5)
    assert [c.index for c in a.choices] == [0, 1, 2]
    assert [c.text for c in a.choices] == [c.text for c in b.choices]
    assert len({c.text for c in a.choices}) > 1        # choice i has its own seed
    free = client.completions.create(model="tiny", prompt="the", max_tokens=20, temperature=0).choices[0].text
    stop = free[5:7]
    cut = client.completions.create(model="tiny", prompt="the", max_tokens=20, temperature=0, stop=[stop, "zzz"])
    assert cut.choices[0].text == free[:free.index(stop)] and cut.choices[0].finish_reason == "stop"


def test_prompt_as_token_ids_and_a_batch_of_prompts(client, reference):
    ids = reference[1].encode("the quick")
    out = client.completions.create(model="tiny", prompt=ids, max_tokens=6, temperature=0)
    assert out.choices[0].text == greedy_text(reference, ids, 6)
    batch = client.completions.create(model="tiny", prompt=["the", "a dog"], max_tokens=5, temperature=0)
    assert [c.text for c in batch.choices] == [greedy_text(reference, reference[1].encode(t), 5) for t in ("the", "a dog")]


def test_health(server):
    r = httpx.get(f"{server}/health")
    assert r.status_code == 200 and r.json()["model"] == "tiny" and r.json()["slots"] == 8
