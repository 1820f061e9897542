import pytest
import torch

from llmos.nn import CausalLM, ModelConfig
from llmos.nn.hooks import hook_sites

FAMILIES = ["gpt2", "llama", "mistral", "qwen2", "mixtral"]


def tiny(family: str) -> CausalLM:
    torch.manual_seed(0)
    cfg = ModelConfig.for_family(family, vocab_size=61, d_model=32, n_layers=2, n_heads=4,
                                 n_kv_heads=None if family == "gpt2" else 2, d_ff=48, max_seq_len=64,
                                 sliding_window=6 if family == "mistral" else None,
                                 n_experts=4 if family == "mixtral" else 0)
    return CausalLM(cfg).eval()


IDS = torch.randint(0, 61, (2, 9), generator=torch.Generator().manual_seed(3))


@pytest.mark.parametrize("family", FAMILIES)
def test_cache_holds_every_hook_point_with_its_shape_and_changes_nothing(family):
    model = tiny(family)
    with torch.no_grad():
        plain = model(IDS).logits
        logits, cache = model.run_with_cache(IDS)
    assert (logits - plain).abs().max() < 1e-5
    assert list(cache.keys()) == model.hook_names()
    assert cache["blocks.1.hook_resid_post"].shape == (2, 9, 32)
    assert cache["blocks.0.attn.hook_q"].shape == (2, 9, 4, 8)
    assert cache["blocks.0.attn.hook_k"].shape == (2, 9, 4 if family == "gpt2" else 2, 8)
    pattern = cache["pattern", 1]
    assert pattern.shape == (2, 4, 9, 9)
    torch.testing.assert_close(pattern.sum(-1), torch.ones(2, 4, 9))
    assert pattern.triu(1).abs().max() == 0                                  # causal
    # the residual stream adds up: resid_post = resid_mid + mlp_out = resid_pre + attn_out + mlp_out
    torch.testing.assert_close(cache["resid_post", 0], cache["resid_pre", 0] + cache["attn_out", 0]
                               + cache["mlp_out", 0], atol=1e-6, rtol=0)
    torch.testing.assert_close(cache["resid_pre", 1], cache["resid_post", 0])
    # the final norm's output is what the unembedding reads
    torch.testing.assert_close(model.lm_head(cache["ln_final.hook_normalized"]), plain, atol=1e-5, rtol=0)
    if family == "mixtral":
        assert cache["router_logits", 0].shape == (2, 9, 4)
    else:
        assert cache["post", 0].shape == (2, 9, 48)
    if family != "gpt2":
        assert "blocks.0.attn.hook_rot_q" in cache


@pytest.mark.parametrize("family", FAMILIES)
def test_a_hook_replaces_an_activation_and_leaves_when_done(family):
    model = tiny(family)
    zero = lambda x, hook: torch.zeros_like(x)                                # noqa: E731
    with torch.no_grad():
        plain = model(IDS).logits
        ablated = model.run_with_hooks(IDS, fwd_hooks=[("blocks.1.hook_mlp_out", zero),
                                                       ("blocks.0.hook_mlp_out", zero)])
        # with both feed-forwards zeroed, the output is the attention-only path
        with model.hooks([("blocks.0.hook_mlp_out", zero), ("blocks.1.hook_mlp_out", zero)]):
            again = model(IDS).logits
        after = model(IDS).logits
    assert (ablated - plain).abs().max() > 1e-3
    torch.testing.assert_close(again, ablated)
    torch.testing.assert_close(after, plain)
    assert all(not m.hook_points for m, _ in hook_sites(model).values())


def test_replacing_the_pattern_redirects_attention():
    model = tiny("llama")
    seen = {}

    def attend_to_first(p, hook):
        new = torch.zeros_like(p)
        new[..., 0] = 1.0
        return new

    def keep_z(z, hook):
        seen["z"] = z

    with torch.no_grad():
        model.run_with_hooks(IDS, fwd_hooks=[("blocks.0.attn.hook_pattern", attend_to_first),
                                             ("blocks.0.attn.hook_z", keep_z)])
        _, cache = model.run_with_cache(IDS, names_filter=["blocks.0.attn.hook_v"])
    # every query now reads the first position's value; kv heads 0, 1 serve query heads (0, 1), (2, 3)
    v0 = cache["blocks.0.attn.hook_v"][:, :1]                                # (B, 1, Hkv, D)
    expect = v0.repeat_interleave(2, dim=2).expand(-1, 9, -1, -1)
    torch.testing.assert_close(seen["z"], expect)


def test_hooks_work_with_the_kv_cache():
    model = tiny("qwen2")
    grabbed = []
    with torch.no_grad(), model.hooks([("blocks.1.hook_resid_post", lambda x, h: grabbed.append(x))]):
        cache = model.new_cache(2, 16)
        model(IDS[:, :5], cache=cache)
        model(IDS[:, 5:6], cache=cache)
        _, full = model.run_with_cache(IDS[:, :6], names_filter="blocks.1.hook_resid_post")
    assert [g.shape[1] for g in grabbed] == [5, 1, 6]
    torch.testing.assert_close(grabbed[1][:, 0], full["resid_post", 1][:, 5], atol=1e-5, rtol=0)


def test_names_filter_forms_and_unknown_names():
    model = tiny("gpt2")
    _, cache = model.run_with_cache(IDS, names_filter=lambda n: n.endswith("hook_z"))
    assert list(cache.keys()) == ["blocks.0.attn.hook_z", "blocks.1.attn.hook_z"]
    with pytest.raises(KeyError, match=r"close names: blocks\.0\.hook_resid_post"):
        model.run_with_cache(IDS, names_filter=["blocks.0.hook_resid_pots"])
    with pytest.raises(KeyError, match="not in this cache"):
        cache["blocks.0.hook_resid_pre"]
    with pytest.raises(KeyError, match="out of range"):
        cache["z", 5]
    with pytest.raises(ValueError, match="must keep the activation's shape"):
        model.run_with_hooks(IDS, fwd_hooks=[("hook_embed", lambda x, h: x[:, :1])])


def test_gradients_flow_through_a_hook():
    model = tiny("gpt2")
    delta = torch.zeros(32, requires_grad=True)
    out = model.run_with_hooks(IDS, fwd_hooks=[("blocks.0.hook_mlp_out", lambda x, h: x + delta)])
    out[:, -1, 3].sum().backward()
    assert delta.grad is not None and delta.grad.abs().sum() > 0
