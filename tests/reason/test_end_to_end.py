"""Every strategy against `llmos serve` through the official openai client, and against the same
model in process: greedy, the two backends must make the same calls and get the same outputs."""
import dataclasses

import pytest

from llmos import reason as r
from llmos.reason import LocalBackend, OpenAIBackend


def strategies():
    cot = r.CoT(max_tokens=12)
    return {
        "few_shot": r.FewShot(exemplars=[r.Exemplar("1+1?", "2")], max_tokens=8),
        "cot": cot,
        "self_consistency": r.SelfConsistency(cot, k=3, temperature=0.0),
        "tot": r.ToT(breadth=2, depth=2, n_value=1, propose_tokens=12, value_tokens=4, temperature=0.0),
        "tot_logprob_values": r.ToT(breadth=2, depth=2, value_by="logprobs", propose_tokens=12, temperature=0.0),
        "socratic": r.Socratic(max_depth=1, max_subquestions=2, max_tokens=12),
        "self_refine": r.SelfRefine(rounds=1, max_tokens=12),
        "reflexion": r.Reflexion(actor=cot, trials=2),
        "react": r.ReAct(max_steps=2, max_tokens=12),
    }


@pytest.fixture(scope="module")
def backends(tiny_dir, server):
    return LocalBackend.load(tiny_dir), OpenAIBackend("tiny", base_url=server + "/v1", api_key="none")


@pytest.mark.parametrize("name", list(strategies()))
def test_each_strategy_runs_the_same_over_the_server_and_in_process(name, backends):
    local, remote = backends
    question = "Ann has 3 pens and buys 2 more. How many pens?"
    a = strategies()[name].solve(question, local, seed=7)
    b = strategies()[name].solve(question, remote, seed=7)
    assert len(a.trace.calls) >= 1
    assert [(c.purpose, c.prompt) for c in a.trace.calls] == [(c.purpose, c.prompt) for c in b.trace.calls]
    assert [c.outputs for c in a.trace.calls] == [c.outputs for c in b.trace.calls]
    assert a.answer == b.answer and not a.cut_short
    assert [n.value or 0.0 for n in a.trace.nodes] == pytest.approx([n.value or 0.0 for n in b.trace.nodes], rel=1e-4)


def test_scores_match_the_decoded_logprobs_in_process_and_over_the_server(backends):
    """log p(continuation | prompt) from one full forward pass equals the sum of the logprobs the
    cached decoder gave the same tokens; the server's echoed prompt logprobs give the same."""
    local, remote = backends
    prompt = "Q: 3+4?\nA:"
    greedy = local.complete(prompt, r.Params(max_tokens=6, logprobs=True))[0]
    other = greedy.text[::-1] if greedy.text[::-1] != greedy.text else greedy.text + "x"
    scores = local.score(prompt, [greedy.text, other])
    assert scores[0] == pytest.approx(sum(greedy.logprobs), abs=1e-4)
    assert scores[1] < scores[0]                              # the greedy text is the likelier one here
    assert remote.score(prompt, [greedy.text, other]) == pytest.approx(scores, abs=1e-3)
    with pytest.raises(ValueError, match="non-empty"):
        local.score(prompt, [])


def test_chat_mode_over_the_server_and_a_budget(backends):
    _, remote = backends
    res = r.SelfConsistency(r.Socratic(max_depth=0, max_tokens=8), k=4).solve(
        "2+2?", remote, mode="chat", budget=r.Budget(max_calls=2))
    assert res.cut_short and len(res.trace.calls) == 2 and res.trace.calls[0].kind == "chat"


def test_a_server_that_is_down_is_named_in_the_error():
    backend = OpenAIBackend("tiny", base_url="http://127.0.0.1:9/v1", api_key="none", timeout=2)
    with pytest.raises(r.BackendError, match=r"backend openai:tiny@http://127.0.0.1:9/v1: the completion call"):
        r.CoT().solve("q?", backend)


def test_local_backend_gives_logprobs_and_n_samples(tiny_dir):
    backend = LocalBackend.load(tiny_dir)
    samples = backend.complete("Q: hi\nA:", r.Params(n=3, temperature=1.0, max_tokens=5, seed=1, logprobs=True))
    assert len(samples) == 3 and all(len(s.logprobs) == s.tokens for s in samples)
    assert 0 < samples[0].mean_prob <= 1
    with pytest.raises(r.BackendError, match="does not exist"):
        LocalBackend.load(tiny_dir / "missing")
