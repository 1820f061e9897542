"""Speculation in the engine while one request runs alone: the target's own output, fewer steps."""
import pytest
import torch

from llmos.infer import GenerationConfig, generate
from llmos.infer.engine import Engine, EngineConfig
from llmos.nn import CausalLM, ModelConfig


def model_for(family: str, seed: int, d: int = 32, layers: int = 2) -> CausalLM:
    torch.manual_seed(seed)
    cfg = ModelConfig.for_family(family, vocab_size=40, d_model=d, n_layers=layers, n_heads=4, d_ff=64,
                                 max_seq_len=96, eos_token_id=3)
    return CausalLM(cfg).eval()


PROMPT = [5, 9, 14, 22, 7, 30, 11]


@pytest.mark.parametrize("family", ["gpt2", "llama"])
def test_greedy_with_a_draft_is_the_target_alone(family):
    target, draft = model_for(family, 1, d=48, layers=3), model_for(family, 2)
    gen = GenerationConfig(max_new_tokens=30, temperature=0, stop_token_ids=[])
    want = generate(target, PROMPT, gen)
    with Engine(target, config=EngineConfig(n_slots=4), draft=draft, speculate_k=3) as engine:
        got = engine.submit(PROMPT, gen).result()
        stats = engine.draft.stats
    assert got.token_ids == want and got.finish_reason == "length"
    assert stats.rounds > 0 and 0 < stats.emitted <= 29     # the first token comes from the prefill


def test_a_draft_equal_to_the_target_is_always_accepted_and_steps_shrink():
    target = model_for("llama", 1)
    gen = GenerationConfig(max_new_tokens=24, temperature=0, stop_token_ids=[])
    with Engine(target, config=EngineConfig(n_slots=2, prefix_cache_mb=0), draft=model_for("llama", 1),
                speculate_k=4) as engine:
        got = engine.submit(PROMPT, gen).result().token_ids
        stats, steps = engine.draft.stats, engine.steps
    assert got == generate(target, PROMPT, gen)
    assert stats.acceptance_rate == 1.0
    assert steps <= 24 // 5 + 1                        # five tokens a step, the prefill's first aside


def test_with_company_or_per_step_logits_the_engine_decodes_as_usual():
    target, draft = model_for("gpt2", 1), model_for("gpt2", 2)
    gen = GenerationConfig(max_new_tokens=12, temperature=0, stop_token_ids=[])
    other = [8, 8, 19, 4]
    with Engine(target, config=EngineConfig(n_slots=4), draft=draft) as engine:
        together = [engine.submit(p, gen) for p in (PROMPT, other)]
        assert [h.result().token_ids for h in together] == [generate(target, p, gen) for p in (PROMPT, other)]
        rounds = engine.draft.stats.rounds
        scored = engine.submit(PROMPT, gen, logprobs=2).result()      # logprobs need every step's logits
        assert engine.draft.stats.rounds == rounds
        assert scored.token_ids == generate(target, PROMPT, gen) and len(scored.logprobs) == 12


def test_sampling_with_a_draft_keeps_the_budget_and_stops():
    target, draft = model_for("llama", 1), model_for("llama", 2)
    gen = GenerationConfig(max_new_tokens=20, temperature=0.9, seed=3)
    with Engine(target, config=EngineConfig(n_slots=2), draft=draft, speculate_k=4) as engine:
        results = [engine.submit(PROMPT, gen).result() for _ in range(3)]
    for r in results:
        assert r.completion_tokens <= 20
        assert (r.finish_reason == "length") == (r.completion_tokens == 20)
        assert all(0 <= t < 40 for t in r.token_ids)
    assert results[0].token_ids == results[1].token_ids        # seeded: the same sample each time


def test_a_draft_on_another_vocabulary_is_refused():
    target = model_for("gpt2", 1)
    torch.manual_seed(0)
    other = CausalLM(ModelConfig.for_family("gpt2", vocab_size=41, d_model=32, n_layers=1, n_heads=4, d_ff=64,
                                            max_seq_len=96))
    with pytest.raises(ValueError, match="tokenizer"):
        Engine(target, draft=other)
