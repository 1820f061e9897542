"""Log-probabilities and logit bias through the official client, against the in-process model."""
import pytest
import torch

from llmos.hub import load_pretrained


@pytest.fixture(scope="module")
def reference(json_model_dir):
    return load_pretrained(json_model_dir)


def log_softmax(model, ids):
    with torch.no_grad():
        return torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), -1)     # (T, V)


def test_chat_logprobs_equal_the_models_log_softmax_at_each_position(json_client, json_served, reference):
    model, tok = reference
    messages = [{"role": "user", "content": "Hello there"}]
    out = json_client.chat.completions.create(model="tiny-json", messages=messages, max_tokens=8, seed=1,
                                              temperature=0.9, logprobs=True, top_logprobs=3)
    content = out.choices[0].logprobs.content
    prompt = json_served.chat_prompt(json_served_messages(messages))
    ids = prompt + [tok.encode(c.token, add_special_tokens=False)[0] for c in content]
    assert "".join(c.token for c in content) == out.choices[0].message.content
    want = log_softmax(model, ids)
    for i, c in enumerate(content):
        pos = len(prompt) - 1 + i                                # the logits that chose token i
        assert c.logprob == pytest.approx(want[pos, ids[pos + 1]].item(), abs=1e-4)
        top = want[pos].topk(3)
        assert [t.token for t in c.top_logprobs] == [tok.decode([t]) for t in top.indices.tolist()]
        assert [t.logprob for t in c.top_logprobs] == pytest.approx(top.values.tolist(), abs=1e-4)
        assert c.bytes == list(c.token.encode())


def json_served_messages(messages):
    from llmos.serve.schemas import ChatMessage
    return [ChatMessage.model_validate(m) for m in messages]


def test_completion_echo_scores_the_prompt_like_an_evaluation_harness(json_client, reference):
    model, tok = reference
    prompt = "The answer is B"
    out = json_client.completions.create(model="tiny-json", prompt=prompt, max_tokens=3, temperature=0,
                                         logprobs=2, echo=True)
    choice = out.choices[0]
    lp = choice.logprobs
    assert choice.text.startswith(prompt)
    ids = tok.encode(prompt) + [tok.encode(t, add_special_tokens=False)[0] for t in lp.tokens[len(prompt):]]
    assert "".join(lp.tokens) == choice.text and lp.text_offset[:3] == [0, 1, 2]
    assert lp.token_logprobs[0] is None and lp.top_logprobs[0] is None
    want = log_softmax(model, ids)
    for i in range(1, len(ids)):
        assert lp.token_logprobs[i] == pytest.approx(want[i - 1, ids[i]].item(), abs=1e-4)
        assert len(lp.top_logprobs[i]) <= 2
    # the harness's score: the sum over the answer's tokens
    answer = sum(lp.token_logprobs[len(prompt) - 1:len(prompt)])
    assert answer == pytest.approx(want[len(prompt) - 2, ids[len(prompt) - 1]].item(), abs=1e-4)


def test_streamed_completion_logprobs_match_the_plain_ones(json_client):
    kw = dict(model="tiny-json", prompt="abc", max_tokens=6, temperature=0, logprobs=1)
    plain = json_client.completions.create(**kw).choices[0].logprobs
    chunks = [c.choices[0] for c in json_client.completions.create(stream=True, **kw) if c.choices]
    streamed = [v for c in chunks if c.logprobs for v in c.logprobs.token_logprobs]
    assert streamed == pytest.approx(plain.token_logprobs, abs=1e-5)
    offsets = [o for c in chunks if c.logprobs for o in c.logprobs.text_offset]
    assert offsets == plain.text_offset


def test_logit_bias_forces_a_token(json_client, reference):
    tok = reference[1]
    x = tok.encode("x")[0]
    out = json_client.completions.create(model="tiny-json", prompt="abc", max_tokens=5, temperature=0,
                                         logit_bias={str(x): 100})
    assert out.choices[0].text == "xxxxx"
