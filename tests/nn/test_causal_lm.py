import pytest
import torch

from llmos.nn import CausalLM, ModelConfig
from llmos.nn.moe import load_balancing_loss

FAMILIES = ["gpt2", "llama", "mistral", "qwen2", "mixtral"]


def tiny(family: str, **kw) -> CausalLM:
    torch.manual_seed(0)
    cfg = ModelConfig.for_family(family, vocab_size=61, d_model=32, n_layers=2, n_heads=4,
                                 n_kv_heads=None if family == "gpt2" else 2, d_ff=48, max_seq_len=64,
                                 sliding_window=6 if family == "mistral" else None,
                                 n_experts=4 if family == "mixtral" else 0, **kw)
    return CausalLM(cfg).eval()


@pytest.mark.parametrize("family", FAMILIES)
def test_cached_decoding_equals_full_forward(family):
    model = tiny(family)
    ids = torch.randint(0, 61, (3, 24))
    with torch.no_grad():
        full = model(ids).logits
        cache = model.new_cache(3, 32)
        parts = [model(ids[:, :9], cache=cache).logits]
        for i in range(9, 24):
            parts.append(model(ids[:, i:i + 1], cache=cache).logits)
    assert (torch.cat(parts, 1) - full).abs().max().item() < 1e-4
    assert cache.lengths.tolist() == [24, 24, 24]


@pytest.mark.parametrize("family", FAMILIES)
def test_slots_of_different_lengths_decode_together(family):
    """Continuous batching: rows at different lengths share one decode step."""
    model = tiny(family)
    a, b = torch.randint(0, 61, (1, 15)), torch.randint(0, 61, (1, 8))
    with torch.no_grad():
        cache = model.new_cache(4, 32)
        model(a[:, :14], cache=cache, cache_slots=torch.tensor([2]))
        model(b[:, :7], cache=cache, cache_slots=torch.tensor([0]))
        step = model(torch.cat([a[:, 14:], b[:, 7:]]), cache=cache, cache_slots=torch.tensor([2, 0])).logits
        want_a, want_b = model(a).logits[:, -1], model(b).logits[:, -1]
    assert (step[0, -1] - want_a[0]).abs().max() < 1e-4
    assert (step[1, -1] - want_b[0]).abs().max() < 1e-4
    assert cache.lengths.tolist() == [8, 0, 15, 0]


@pytest.mark.parametrize("family", FAMILIES)
def test_left_padded_prefill_then_decode(family):
    model = tiny(family)
    ids = torch.randint(1, 61, (1, 10))
    padded = torch.cat([torch.zeros(1, 3, dtype=torch.long), ids[:, :9]], 1)
    mask = torch.cat([torch.zeros(1, 3), torch.ones(1, 9)], 1).long()
    with torch.no_grad():
        cache = model.new_cache(1, 16)
        model(padded, attention_mask=mask, cache=cache)
        got = model(ids[:, 9:], cache=cache).logits[0, -1]
        want = model(ids).logits[0, -1]
    assert (got - want).abs().max() < 1e-4


def test_sliding_window_limits_what_is_seen():
    model = tiny("mistral")                       # window 6
    ids = torch.randint(0, 61, (1, 20))
    changed = ids.clone()
    changed[0, 0] = (ids[0, 0] + 1) % 61          # outside the last token's window ...
    with torch.no_grad():
        # ... but the first layer's reach is widened by the second layer, so compare a 1-layer model
        one = CausalLM(model.config.replace(n_layers=1)).eval()
        assert torch.allclose(one(ids).logits[0, -1], one(changed).logits[0, -1])
        assert not torch.allclose(one(ids).logits[0, 5], one(changed).logits[0, 5])  # 5 - 0 < 6: seen
        assert torch.allclose(one(ids).logits[0, 6], one(changed).logits[0, 6])      # 6 - 0 = 6: not


def test_loss_is_next_token_cross_entropy_with_ignore_index():
    model = tiny("llama")
    ids = torch.randint(0, 61, (2, 10))
    targets = ids.clone()
    targets[:, :4] = -100
    out = model(ids, targets=targets)
    want = torch.nn.functional.cross_entropy(out.logits[:, 4:].reshape(-1, 61), ids[:, 4:].reshape(-1))
    assert torch.allclose(out.lm_loss, want, atol=1e-6)
    assert out.aux_loss is None and torch.equal(out.loss, out.lm_loss)


def test_moe_model_adds_weighted_aux_loss_and_reports_load():
    model = tiny("mixtral", router_aux_loss_coef=0.5)
    ids = torch.randint(0, 61, (2, 10))
    out = model(ids, targets=ids)
    assert out.aux_loss is not None and out.aux_loss.item() > 0
    # the coefficient times the balance loss over both layers' router logits, with the model's top-k
    balance = load_balancing_loss([s.logits for s in out.router_stats], 4, model.config.experts_per_token)
    torch.testing.assert_close(out.aux_loss, 0.5 * balance)
    assert torch.allclose(out.loss, out.lm_loss + out.aux_loss)
    assert len(out.router_stats) == 2
    assert torch.allclose(out.router_stats[0].load.sum(), torch.tensor(1.0))


def test_tied_embeddings_share_storage():
    model = tiny("gpt2")
    assert model.lm_head.weight.data_ptr() == model.tok_emb.weight.data_ptr()


def test_learned_positions_past_context_is_a_clear_error():
    model = tiny("gpt2")
    with pytest.raises(ValueError, match="context of 64"):
        model(torch.zeros(1, 65, dtype=torch.long))


def test_attention_weights_on_request():
    model = tiny("qwen2")
    out = model(torch.randint(0, 61, (1, 7)), need_weights=True)
    assert len(out.attentions) == 2 and out.attentions[0].shape == (1, 4, 7, 7)
    w = out.attentions[1][0]
    assert torch.allclose(w.sum(-1), torch.ones(4, 7), atol=1e-5)
    assert torch.all(w.triu(1) == 0)                # causal


def test_last_only_matches_last_position():
    model = tiny("llama")
    ids = torch.randint(0, 61, (2, 9))
    with torch.no_grad():
        assert torch.allclose(model(ids, last_only=True).logits[:, -1], model(ids).logits[:, -1], atol=1e-6)
