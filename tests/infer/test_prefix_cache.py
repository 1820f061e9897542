"""Prefix caching: the same greedy tokens with and without it; blocks, budget and LRU eviction."""
import torch

from llmos.infer import GenerationConfig, generate
from llmos.infer.engine import Engine, EngineConfig
from llmos.infer.prefix_cache import PrefixCache
from llmos.nn import CausalLM, ModelConfig


def model_for(family: str = "llama") -> CausalLM:
    torch.manual_seed(2)
    return CausalLM(ModelConfig.for_family(family, vocab_size=48, d_model=32, n_layers=2, n_heads=4, d_ff=64,
                                           max_seq_len=128, eos_token_id=3)).eval()


SYSTEM = [(7 * j) % 40 + 5 for j in range(37)]          # a shared "system prompt" of 37 tokens


def test_eight_concurrent_requests_give_the_same_greedy_tokens_with_and_without_the_cache():
    model = model_for()
    ps = [SYSTEM + [(i * 5 + j) % 40 + 5 for j in range(3 + i)] for i in range(8)]
    gen = GenerationConfig(max_new_tokens=10, temperature=0, stop_token_ids=[])
    want = [generate(model, p, gen) for p in ps]
    runs = {}
    for mb in (0, 16):
        with Engine(model, config=EngineConfig(n_slots=8, prefix_cache_mb=mb, prefix_block=8)) as engine:
            first = engine.submit(ps[0], gen).result()          # fills the cache with the shared blocks
            handles = [engine.submit(p, gen) for p in ps]       # 8 at once
            results = [h.result() for h in handles]
            # a chat's next turn: the previous prompt and reply, plus more
            follow = ps[1] + results[1].token_ids + [9, 10]
            again = engine.submit(follow, gen).result()
        runs[mb] = ([r.token_ids for r in results], again.token_ids, [r.cached_tokens for r in results],
                    again.cached_tokens, first.cached_tokens)
    assert runs[0][0] == runs[16][0] == want
    assert runs[0][1] == runs[16][1] == generate(model, follow, gen)
    assert runs[0][2] == [0] * 8 and runs[0][3] == 0
    assert runs[16][4] == 0 and runs[16][2] == [32] * 8         # 4 blocks of 8 of the 37 shared tokens
    assert runs[16][3] >= 48                                    # the reply's blocks were kept too


def test_a_gpt2_model_with_learned_positions_reuses_prefixes_exactly():
    model = model_for("gpt2")
    gen = GenerationConfig(max_new_tokens=8, temperature=0, stop_token_ids=[])
    p1, p2 = SYSTEM + [5, 6], SYSTEM + [7, 8, 9]
    with Engine(model, config=EngineConfig(prefix_block=4)) as engine:
        engine.submit(p1, gen).result()
        r = engine.submit(p2, gen).result()
    assert r.cached_tokens == 36 and r.token_ids == generate(model, p2, gen)


def test_lookup_takes_whole_blocks_and_leaves_the_last_token():
    model = model_for()
    cache = model.new_cache(2, 64)
    with torch.no_grad():
        model(torch.tensor([list(range(5, 21))]), cache=cache, cache_slots=torch.tensor([0]))
    pc = PrefixCache(block_size=4)
    pc.store(list(range(5, 21)), cache, 0, 0)
    assert len(pc) == 4
    assert pc.lookup(list(range(5, 21))).n_tokens == 12          # 16 tokens: the last block is recomputed
    assert pc.lookup(list(range(5, 14)) + [40]).n_tokens == 8
    assert pc.lookup([6] + list(range(6, 21))).n_tokens == 0     # a different first block: nothing
    hit = pc.lookup(list(range(5, 15)))
    pc.load(hit, cache, 1)
    assert int(cache.lengths[1]) == 8
    assert torch.equal(cache.k[:, 1, :, :8], cache.k[:, 0, :, :8])


def test_the_budget_evicts_the_least_recently_used_blocks():
    model = model_for()
    cache = model.new_cache(3, 64)
    seqs = [[s] * 8 for s in (5, 6, 7)]
    with torch.no_grad():
        for slot, s in enumerate(seqs):
            model(torch.tensor([s]), cache=cache, cache_slots=torch.tensor([slot]))
    block = 2 * cache.k[:, 0, :, :4].numel() * cache.k.element_size()
    pc = PrefixCache(block_size=4, budget_bytes=3 * block)       # room for three blocks
    pc.store(seqs[0], cache, 0, 0)                               # 2 blocks
    pc.store(seqs[1][:4], cache, 1, 0)                           # 1 block: full
    assert pc.lookup(seqs[0] + [9]).n_tokens == 8                # seqs[0] used again: seqs[1] is oldest
    pc.store(seqs[2][:4], cache, 2, 0)
    assert pc.bytes <= pc.budget_bytes and len(pc) == 3
    assert pc.lookup(seqs[1] + [9]).n_tokens == 0
    assert pc.lookup(seqs[0] + [9]).n_tokens == 8
