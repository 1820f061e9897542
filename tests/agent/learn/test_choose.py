"""Choosing by whole-sequence scores: every listed action, scored as one full forward would score it."""
from __future__ import annotations

import json

import pytest
import torch

from llmos.agent.learn.backend import PolicyBackend
from llmos.agent.learn.choose import choose, listed_actions, same_target, sequence_logprobs
from llmos.agent.learn.constraint import action_schema
from llmos.agent.learn.observation import render, write_action
from llmos.agent.views import Element, Observation, StepContext
from llmos.train.align.data import encode_prompt, encode_response


def context() -> StepContext:
    obs = Observation(url="http://x/flights", title="Search", elements=[
        Element(index=1, tag="select", role="combobox", label="From", options=["Berlin", "Rome", "Paris"]),
        Element(index=4, tag="input", role="textbox", label="Name"),
        Element(index=12, tag="button", role="button", label="Search"),
        Element(index=13, tag="a", role="link", label="Deals")])
    return StepContext(task="Fly from Berlin to Rome as Ada King", step=1, observation=obs)


@pytest.fixture(scope="module")
def policy():
    torch.set_num_threads(1)
    from llmos.nn import CausalLM
    from llmos.nn.config import ModelConfig
    from llmos.text.tokenizer import Tokenizer

    tok = Tokenizer.train_bpe([render(context()) + ' {"type": "click", "element": 12}'] * 20, vocab_size=320)
    torch.manual_seed(0)
    model = CausalLM(ModelConfig.for_family("llama", vocab_size=tok.vocab_size, d_model=32, n_layers=2, n_heads=2,
                                            n_kv_heads=1, d_ff=64, max_seq_len=512, bos_token_id=tok.bos_id,
                                            eos_token_id=tok.eos_id)).eval()
    return model, tok


def test_the_listed_actions_are_every_enumerated_choice_and_nothing_free():
    ctx = context()
    actions = listed_actions(action_schema(ctx.observation, ctx.task))
    clicks = {a["element"] for a in actions if a["type"] == "click"}
    selects = {a["option"] for a in actions if a["type"] == "select"}
    typed = [a for a in actions if a["type"] == "type"]
    assert clicks == {12, 13}
    assert selects == {"Berlin", "Rome"}                          # the options the request names
    assert {"Ada King", "Berlin", "Fly from Berlin to Rome as Ada King"} <= {a["text"] for a in typed}
    assert all(a["element"] == 4 for a in typed)
    assert {"type": "back"} in actions
    assert not any(a["type"] in ("done", "ask_user") for a in actions)
    assert len(actions) == 2 + 2 + len(typed) + 3                  # + back, scroll, extract with no options


def test_scores_equal_one_full_forward_per_candidate(policy):
    model, tok = policy
    prompt = encode_prompt(tok, render(context()))
    conts = [encode_response(tok, write_action(a)) for a in listed_actions(action_schema(context().observation,
                                                                                         context().task))][:9]
    conts.append(conts[0][:1])                                     # one token long
    got = sequence_logprobs(model, prompt, conts, chunk=4)        # 3 chunks, padded rows
    for c, score in zip(conts, got):
        with torch.no_grad():
            logits = model(torch.tensor([prompt + c])).logits[0].float().log_softmax(-1)
        want = sum(float(logits[len(prompt) - 1 + i, t]) for i, t in enumerate(c))
        assert score == pytest.approx(want, abs=1e-4)


def test_choose_takes_the_best_scored_action_and_reports_its_share(policy):
    model, tok = policy
    ctx = context()
    prompt = encode_prompt(tok, render(ctx))
    schema = action_schema(ctx.observation, ctx.task)
    decoded = '{"type": "done", "answer": "no"}'
    best, share = choose(model, tok, prompt, schema, decoded=decoded)
    texts = [write_action(a) for a in listed_actions(schema)] + [decoded]
    scores = sequence_logprobs(model, prompt, [encode_response(tok, t) for t in texts])
    assert best == texts[max(range(len(texts)), key=scores.__getitem__)]
    total = torch.tensor(scores).logsumexp(0)
    assert share == pytest.approx(float((torch.tensor(max(scores)) - total).exp()), rel=1e-4)
    assert 0 < share <= 1


def test_the_backend_acts_on_the_scored_choice_and_keeps_decoding_when_asked(policy):
    model, tok = policy
    pytest.importorskip("llguidance")
    ctx = context()
    scored = PolicyBackend(policy=model, tokenizer=tok, max_new_tokens=24, choose="score")
    text, _, n = scored.propose(ctx)
    prompt = scored.prompt_ids(ctx)
    schema = action_schema(ctx.observation, ctx.task)
    decoded, _, _ = PolicyBackend(policy=model, tokenizer=tok, choose="decode", max_new_tokens=24).propose(ctx)
    assert (text, scored.last_confidence) == choose(model, tok, prompt, schema, decoded=decoded)
    assert json.loads(text)["type"] in {"click", "select", "type", "back", "scroll", "extract", "done", "ask_user"}
    assert n == len(tok.encode(text, add_special_tokens=False))
    with pytest.raises(ValueError, match="choose must be one of decode, score, within"):
        PolicyBackend(policy=model, tokenizer=tok, choose="beam")


def test_within_scores_only_the_decoded_actions_siblings(policy):
    model, tok = policy
    ctx = context()
    prompt = encode_prompt(tok, render(ctx))
    schema = action_schema(ctx.observation, ctx.task)
    actions = listed_actions(schema)
    decoded = '{"type": "select", "element": 1, "option": "Berlin"}'
    siblings = same_target(actions, decoded)
    assert siblings and all(a["type"] == "select" and a["element"] == 1 for a in siblings)
    assert len(siblings) < len(actions)
    best, share = choose(model, tok, prompt, schema, decoded=decoded, within=True)
    texts = [write_action(a) for a in siblings]
    if decoded not in texts:
        texts.append(decoded)
    scores = sequence_logprobs(model, prompt, [encode_response(tok, t) for t in texts])
    assert best == texts[max(range(len(texts)), key=scores.__getitem__)]
    assert json.loads(best)["element"] == 1
    # an action on no element keeps decoding's own choice and confidence
    assert choose(model, tok, prompt, schema, decoded='{"type": "done", "answer": "no"}', within=True) == (None, 0.0)
    assert same_target(actions, "not json") == []
