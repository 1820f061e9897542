"""The batched engine: batching changes no greedy result; slots, stops, cancels, seeds."""
import asyncio
import time

import pytest
import torch

from llmos.infer import GenerationConfig, complete, generate
from llmos.infer.engine import Engine, EngineBusy, EngineConfig
from llmos.nn import CausalLM, ModelConfig
from llmos.text import Tokenizer

TEXT = "the quick brown fox jumps over the lazy dog. pack my box with five dozen liquor jugs!\n"


def model_for(family: str, vocab: int = 40, context: int = 96, **kw) -> CausalLM:
    torch.manual_seed(1)
    extra = dict(sliding_window=12) if family == "mistral" else {}
    cfg = ModelConfig.for_family(family, vocab_size=vocab, d_model=32, n_layers=2, n_heads=4, d_ff=64,
                                 max_seq_len=context, eos_token_id=3, **extra, **kw)
    return CausalLM(cfg).eval()


def prompts(n: int) -> list[list[int]]:
    return [[(5 * i + 3 * j) % 36 + 4 for j in range(2 + 3 * i)] for i in range(n)]


def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@pytest.mark.parametrize("family", ["llama", "gpt2", "mistral", "mixtral"])
def test_greedy_alone_and_among_seven_others_equals_generate(family):
    model = model_for(family)
    ps = prompts(8)
    # different budgets, so requests leave the batch at different steps and others join
    gens = [GenerationConfig(max_new_tokens=4 + 2 * i, temperature=0) for i in range(8)]
    want = [generate(model, p, g) for p, g in zip(ps, gens)]
    with Engine(model, config=EngineConfig(n_slots=8)) as engine:
        alone = engine.submit(ps[3], gens[3]).result().token_ids
        handles = [engine.submit(p, g) for p, g in zip(ps, gens)]
        together = [h.result().token_ids for h in handles]
    assert alone == want[3]
    assert together == want


def test_requests_wait_for_a_slot_and_join_the_running_batch():
    model = model_for("llama")
    ps, gen = prompts(7), GenerationConfig(max_new_tokens=12, temperature=0)
    want = [generate(model, p, gen) for p in ps]
    rows = []
    forward = model.forward
    model.forward = lambda ids, **kw: rows.append(ids.shape[0]) or forward(ids, **kw)
    with Engine(model, config=EngineConfig(n_slots=2)) as engine:
        handles = [engine.submit(p, gen) for p in ps]
        got = [h.result().token_ids for h in handles]
        wait_until(lambda: engine.num_active == 0)
    assert got == want and all(len(w) == 12 for w in want)
    assert max(rows) == 2                                   # never more rows than slots, and both slots used
    # every request's prefill plus its 11 decode steps (the last token needs no forward), two rows at a time
    assert sum(rows) == 7 * 12


def test_prompts_arriving_together_are_prefilled_in_one_forward():
    model = model_for("llama")
    calls = []
    forward = model.forward
    model.forward = lambda ids, **kw: calls.append(tuple(ids.shape)) or forward(ids, **kw)
    ps, gen = prompts(4), GenerationConfig(max_new_tokens=5, temperature=0)
    want = [generate(model, p, gen) for p in ps]
    calls.clear()
    engine = Engine(model, config=EngineConfig(n_slots=4))
    handles = [engine.submit(p, gen) for p in ps]      # queued before the loop starts
    with engine:
        got = [h.result().token_ids for h in handles]
    assert got == want
    prefills = [c for c in calls if c[1] > 1]
    assert prefills == [(4, max(len(p) for p in ps))]   # one left-padded forward
    assert all(c[1] == 1 for c in calls[1:])             # then one decode forward per step


def test_stop_strings_and_tokens_end_like_complete():
    tok = Tokenizer.char(TEXT)
    model = model_for("llama", vocab=tok.vocab_size)
    prompt = tok.encode("the quick")
    free = complete(model, prompt, GenerationConfig(max_new_tokens=30, temperature=0, stop_token_ids=[]), tok)
    stop = free.text[8:10]       # two characters from the middle of the free text
    cfg = GenerationConfig(max_new_tokens=30, temperature=0, stop=[stop], stop_token_ids=[])
    want = complete(model, prompt, cfg, tok)
    stop_token = GenerationConfig(max_new_tokens=30, temperature=0, stop_token_ids=[free.tokens[5]])
    with Engine(model, tok) as engine:
        got = engine.submit(prompt, cfg).result()
        by_token = engine.submit(prompt, stop_token).result()
        streamed = [d.text for d in engine.submit(prompt, cfg)]
    assert got.finish_reason == want.finish_reason == "stop"
    assert got.text == want.text == free.text[:free.text.index(stop)]
    assert "".join(streamed) == got.text and stop not in "".join(streamed)
    assert by_token.finish_reason == "stop" and by_token.token_ids == free.tokens[:5]


def test_cancel_frees_the_slot_at_once():
    model = model_for("llama", context=512)
    forward = model.forward
    model.forward = lambda *a, **kw: time.sleep(0.005) or forward(*a, **kw)   # 400 tokens take >= 2 s
    with Engine(model, config=EngineConfig(n_slots=2)) as engine:
        handle = engine.submit([5, 6, 7], GenerationConfig(max_new_tokens=400, temperature=0, stop_token_ids=[]))
        it = iter(handle)
        next(it), next(it)
        assert engine.num_active == 1
        handle.cancel()
        last = list(it)[-1]
        assert last.finish_reason == "cancelled"
        wait_until(lambda: engine.num_active == 0)
        assert len(handle.request.tokens) < 400
        # a waiting request cancelled before it got a slot never runs
        blockers = [engine.submit([5], GenerationConfig(max_new_tokens=300, stop_token_ids=[])) for _ in range(2)]
        wait_until(lambda: engine.num_active == 2)
        queued = engine.submit([6], GenerationConfig(max_new_tokens=5))
        queued.cancel()
        assert queued.result().finish_reason == "cancelled" and engine.num_pending == 0
        for b in blockers:
            b.cancel()
        wait_until(lambda: engine.num_active == 0)


def test_seeded_sampling_depends_on_the_seed_not_the_batch():
    model = model_for("llama")
    cfg = lambda seed: GenerationConfig(max_new_tokens=15, temperature=1.3, top_p=0.95, seed=seed, stop_token_ids=[])
    with Engine(model) as engine:
        alone = engine.submit([4, 5, 6], cfg(7)).result().token_ids
        crowd = [engine.submit(p, cfg(i)) for i, p in enumerate(prompts(5))]
        again = engine.submit([4, 5, 6], cfg(7)).result().token_ids
        other = engine.submit([4, 5, 6], cfg(8)).result().token_ids
        for h in crowd:
            h.result()
    assert alone == again and alone != other


def test_frequency_penalty_stops_repeats():
    model = model_for("llama", vocab=64)
    greedy = GenerationConfig(max_new_tokens=40, temperature=0, stop_token_ids=[])
    with Engine(model) as engine:
        plain = engine.submit([4, 5], greedy).result().token_ids
        penalised = engine.submit([4, 5], greedy, frequency_penalty=2.0).result().token_ids
        present = engine.submit([4, 5], greedy, presence_penalty=2.0).result().token_ids
        plain_again = engine.submit([4, 5], greedy).result().token_ids   # the slot's counts were cleared
    assert len(set(plain)) < len(plain)                    # a small random model repeats itself
    assert len(set(penalised)) == len(penalised) == 40
    assert len(set(present)) == 40
    assert plain_again == plain


def test_budget_is_clipped_to_the_context_and_bad_prompts_are_refused():
    model = model_for("llama", context=40)
    with Engine(model) as engine:
        r = engine.submit(list(range(4, 34)), GenerationConfig(max_new_tokens=100, temperature=0,
                                                               stop_token_ids=[])).result()
        assert (len(r.token_ids), r.finish_reason) == (10, "length")
        with pytest.raises(ValueError, match="context is 40"):
            engine.submit([5] * 40)
        with pytest.raises(ValueError, match="empty"):
            engine.submit([])
        with pytest.raises(ValueError, match="vocabulary"):
            engine.submit([5, 99])
        with pytest.raises(ValueError, match="tokenizer"):
            engine.submit([5], GenerationConfig(stop=["x"]))
        zero = engine.submit([5], GenerationConfig(max_new_tokens=0)).result()
        assert zero.token_ids == [] and zero.finish_reason == "length"


def test_full_queue_is_refused():
    engine = Engine(model_for("llama"), config=EngineConfig(n_slots=1, max_pending=2))
    engine.submit([5]), engine.submit([6])
    with pytest.raises(EngineBusy):
        engine.submit([7])
    engine.stop()


def test_async_iteration_from_an_event_loop():
    model = model_for("llama")
    gen = GenerationConfig(max_new_tokens=8, temperature=0)

    async def run(engine):
        handles = [engine.asubmit(p, gen) for p in prompts(3)]
        return [(await h.aresult()).token_ids for h in handles]

    with Engine(model) as engine:
        got = asyncio.run(run(engine))
    assert got == [generate(model, p, gen) for p in prompts(3)]


def test_a_failing_step_fails_its_requests_and_the_engine_keeps_serving():
    model = model_for("llama")
    forward = model.forward
    broken = {"on": True}

    def flaky(ids, **kw):
        if broken["on"]:
            raise RuntimeError("device lost")
        return forward(ids, **kw)

    model.forward = flaky
    with Engine(model) as engine:
        with pytest.raises(RuntimeError, match="device lost"):
            engine.submit([5, 6]).result()
        broken["on"] = False
        assert engine.num_active == 0
        assert len(engine.submit([5, 6], GenerationConfig(max_new_tokens=3, stop_token_ids=[])).result().token_ids) == 3


def test_a_grammar_constrains_each_request_of_the_batch():
    import json
    import string

    from llmos.infer.grammar import Grammar, compile_grammar
    tok = Tokenizer.char(string.printable)
    model = model_for("llama", vocab=tok.vocab_size)
    schema = {"type": "object", "required": ["n"], "additionalProperties": False,
              "properties": {"n": {"type": "integer", "minimum": 0, "maximum": 99}}}
    grammar = compile_grammar(Grammar.json_schema(schema), tok, model.config.vocab_size)
    dead = compile_grammar(Grammar.json_schema({"enum": ["caf\u00e9"]}), tok)   # no "é" in this vocabulary
    cfg = lambda seed: GenerationConfig(max_new_tokens=30, seed=seed)
    with Engine(model, tok, config=EngineConfig(n_slots=4)) as engine:
        free = engine.submit(tok.encode("n"), cfg(0))
        constrained = [engine.submit(tok.encode("n"), cfg(s), grammar=grammar) for s in range(5)]
        stuck = engine.submit(tok.encode("n"), cfg(0), grammar=dead).result()
        results = [h.result() for h in constrained]
        free = free.result()
    for r in results:
        assert r.finish_reason == "stop"
        assert 0 <= json.loads(r.text)["n"] <= 99
    assert len(free.text) > 20                     # the unconstrained neighbour was not held to the grammar
    assert (stuck.text, stuck.finish_reason) == ('"caf', "no_valid_token")


def test_logit_bias_forces_and_bans_tokens():
    model = model_for("llama")
    greedy = GenerationConfig(max_new_tokens=6, temperature=0, stop_token_ids=[])
    with Engine(model) as engine:
        plain = engine.submit([4, 5], greedy).result().token_ids
        forced = engine.submit([4, 5], greedy, logit_bias={17: 100.0}).result().token_ids
        banned = engine.submit([4, 5], greedy, logit_bias={t: -100.0 for t in set(plain)}).result().token_ids
        with pytest.raises(ValueError, match="logit_bias"):
            engine.submit([4], greedy, logit_bias={40: 1.0})
    assert forced == [17] * 6
    assert not set(banned) & set(plain)


def test_logprobs_equal_log_softmax_of_the_model_logits_at_each_position():
    model = model_for("llama")
    prompt = [4, 9, 12, 30, 7]
    gen = GenerationConfig(max_new_tokens=6, temperature=0.8, seed=3, stop_token_ids=[])
    with Engine(model) as engine:
        r = engine.submit(prompt, gen, logprobs=3, prompt_logprobs=True).result()
        streamed = [lp for d in engine.submit(prompt, gen, logprobs=0) for lp in (d.logprobs or [])]
    ids = prompt + r.token_ids
    with torch.no_grad():
        want = torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), -1)      # (T, V)
    assert r.prompt_logprobs[0] is None and len(r.prompt_logprobs) == len(prompt)
    scored = r.prompt_logprobs[1:] + r.logprobs
    assert [s.token_id for s in scored] == ids[1:]
    for pos, s in enumerate(scored):        # token ids[pos + 1], read at position pos
        assert s.logprob == pytest.approx(want[pos, ids[pos + 1]].item(), abs=1e-4)
        top = want[pos].topk(3)
        assert [t for t, _ in s.top] == top.indices.tolist()
        assert [v for _, v in s.top] == pytest.approx(top.values.tolist(), abs=1e-4)
    assert [s.token_id for s in streamed] == r.token_ids and all(s.top == [] for s in streamed)
