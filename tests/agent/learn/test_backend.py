"""The in-process policy backend: every reply is one action the page offers, whatever the weights."""
from __future__ import annotations

import pytest
import torch

from llmos.agent.learn.backend import PolicyBackend, policy_folder
from llmos.agent.learn.observation import render
from llmos.agent.parsing import parse_reply
from llmos.agent.views import ChatMessage, Element, ModelRequest, Observation, StepContext

pytest.importorskip("llguidance")


def context() -> StepContext:
    obs = Observation(url="http://x/forms/support", title="Support", elements=[
        Element(index=2, tag="input", role="textbox", label="Your email", input_type="email"),
        Element(index=3, tag="select", role="combobox", label="Topic", options=["Delivery", "Other"]),
        Element(index=5, tag="button", role="button", label="Send request")])
    return StepContext(task="Send a support request from ada@example.com", step=1, observation=obs)


@pytest.fixture(scope="module")
def backend():
    torch.set_num_threads(1)  # a tiny model: more threads only contend
    from llmos.nn import CausalLM
    from llmos.nn.config import ModelConfig
    from llmos.text.tokenizer import Tokenizer

    tok = Tokenizer.train_bpe([render(context()) + ' {"type": "click", "element": 5}'] * 20, vocab_size=320)
    torch.manual_seed(0)
    model = CausalLM(ModelConfig.for_family("llama", vocab_size=tok.vocab_size, d_model=32, n_layers=1, n_heads=2,
                                            n_kv_heads=1, d_ff=64, max_seq_len=512, bos_token_id=tok.bos_id,
                                            eos_token_id=tok.eos_id))
    return PolicyBackend(policy=model, tokenizer=tok, temperature=1.0, seed=0, max_new_tokens=100)


def test_random_weights_still_answer_with_an_action_on_a_listed_element(backend):
    request = ModelRequest(messages=[ChatMessage(role="user", content="unused")], context=context())
    kinds = set()
    for _ in range(6):
        reply = backend.complete(request)
        action = parse_reply(reply.text)                    # the agent's own parser reads it
        kinds.add(action.type)
        if hasattr(action, "element"):
            assert action.element in (2, 3, 5)
        if action.type == "select":
            assert action.element == 3 and action.option in ("Delivery", "Other")
        if action.type == "type":
            assert action.element == 2
        assert reply.prompt_tokens > 20 and 0 < reply.completion_tokens <= 100
    assert backend.calls == 6


def test_an_unconstrained_backend_is_free_to_write_anything(backend):
    free = PolicyBackend(policy=backend.model, tokenizer=backend.tokenizer, temperature=1.0, seed=1,
                         constrained=False, max_new_tokens=8)
    text, _, n = free.propose(context())
    assert n <= 8 and not text.startswith('{"type": ')


def test_a_folder_without_a_policy_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="llmos agent train"):
        policy_folder(tmp_path)


def test_the_observation_format_travels_with_the_model(backend, tmp_path):
    from llmos.agent.learn.backend import read_format, write_format
    from llmos.hub import save_pretrained
    ctx = context().model_copy(update={"task": "Register, with the newsletter."})
    ctx.observation.elements.append(Element(index=6, tag="input", role="checkbox", label="Newsletter"))
    for marks in (True, False):
        folder = tmp_path / str(marks)
        save_pretrained(backend.model, folder, tokenizer=backend.tokenizer)
        write_format(folder, marks, cues=marks, picks=marks)
        assert read_format(folder) == {"marks": marks, "cues": marks, "picks": marks}
        policy = PolicyBackend(folder)
        assert policy.marks is marks and ("6 checkbox Newsletter [ ] *" in policy.render(ctx)) is marks
        assert policy.cues is marks and ("<Delivery|Other ~without>" in policy.render(
            ctx.model_copy(update={"task": "Register, without Other."}))) is marks
    policy = PolicyBackend(folder, picks=True)                       # an argument overrides the file
    topic = ctx.model_copy(update={"task": "Send it, topic Other."})
    assert policy.picks and "<Delivery|Other *>" in policy.render(topic)
    assert read_format(tmp_path) == {} and PolicyBackend(policy=backend.model, tokenizer=backend.tokenizer).marks is False
