"""MultiHeadAttention against torch.nn.MultiheadAttention on copied weights."""
import pytest
import torch
from torch import nn

from llmos.nn.mha import MultiHeadAttention

E, H = 32, 4


@torch.no_grad()
def copy_from_torch(mine: MultiHeadAttention, ref: nn.MultiheadAttention) -> None:
    if ref.in_proj_weight is not None:                        # one packed (3E, E) matrix
        weights = ref.in_proj_weight.chunk(3)
    else:                                                     # kdim/vdim differ from E
        weights = (ref.q_proj_weight, ref.k_proj_weight, ref.v_proj_weight)
    for proj, w, b in zip((mine.q_proj, mine.k_proj, mine.v_proj), weights, ref.in_proj_bias.chunk(3)):
        proj.weight.copy_(w)
        proj.bias.copy_(b)
    mine.o_proj.weight.copy_(ref.out_proj.weight)
    mine.o_proj.bias.copy_(ref.out_proj.bias)


def pair(kdim: int | None = None) -> tuple[MultiHeadAttention, nn.MultiheadAttention]:
    ref = nn.MultiheadAttention(E, H, batch_first=True, kdim=kdim, vdim=kdim).eval()
    with torch.no_grad():
        ref.in_proj_bias.normal_()                             # torch starts biases at 0
        ref.out_proj.bias.normal_()
    mine = MultiHeadAttention(E, H, kv_dim=kdim).eval()
    copy_from_torch(mine, ref)
    return mine, ref


def padding(lengths, t):
    """(B, T) True at padding (torch's key_padding_mask)."""
    return torch.arange(t)[None, :] >= torch.tensor(lengths)[:, None]


def future(t):
    """(T, T) True where torch forbids attention."""
    return torch.ones(t, t, dtype=torch.bool).triu(1)


@pytest.mark.parametrize("masks", ["none", "padding", "causal", "causal+padding"])
def test_self_attention_equals_torch(masks):
    mine, ref = pair()
    x = torch.randn(3, 7, E)
    kpm = padding([7, 5, 2], 7) if "padding" in masks else None
    am = future(7) if "causal" in masks else None
    allowed = torch.ones(3, 1, 7, 7, dtype=torch.bool)
    if kpm is not None:
        allowed &= ~kpm[:, None, None, :]
    if am is not None:
        allowed &= ~am
    with torch.no_grad():
        expected, w_avg = ref(x, x, x, key_padding_mask=kpm, attn_mask=am, need_weights=True)
        _, w_heads = ref(x, x, x, key_padding_mask=kpm, attn_mask=am, average_attn_weights=False)
        fused, none = mine(x, mask=allowed)
        got, w = mine(x, mask=allowed, need_weights=True)
    assert none is None
    torch.testing.assert_close(fused, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(w, w_heads, atol=1e-5, rtol=0)
    torch.testing.assert_close(w.mean(1), w_avg, atol=1e-5, rtol=0)


def test_is_causal_flag_equals_torch_causal_mask():
    mine, ref = pair()
    x = torch.randn(2, 6, E)
    with torch.no_grad():
        expected, _ = ref(x, x, x, attn_mask=future(6))
        got, _ = mine(x, is_causal=True)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("kdim", [None, 24], ids=["same width", "other width"])
def test_cross_attention_equals_torch(kdim):
    mine, ref = pair(kdim)
    x, ctx = torch.randn(3, 5, E), torch.randn(3, 9, kdim or E)
    kpm = padding([9, 4, 1], 9)
    with torch.no_grad():
        expected, _ = ref(x, ctx, ctx, key_padding_mask=kpm, need_weights=False)
        _, w_heads = ref(x, ctx, ctx, key_padding_mask=kpm, average_attn_weights=False)
        got, w = mine(x, ctx, mask=~kpm[:, None, None, :], need_weights=True)
        fused, _ = mine(x, ctx, mask=~kpm[:, None, None, :])
        from_kv, _ = mine(x, mask=~kpm[:, None, None, :], kv=mine.project_kv(ctx))
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(fused, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(w, w_heads, atol=1e-5, rtol=0)
    torch.testing.assert_close(from_kv, fused, atol=1e-6, rtol=0)


def test_additive_float_mask_equals_torch():
    mine, ref = pair()
    x = torch.randn(2, 6, E)
    bias = torch.randn(6, 6)
    with torch.no_grad():
        expected, _ = ref(x, x, x, attn_mask=bias)
        got, _ = mine(x, mask=bias)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("n_kv", [2, 1], ids=["GQA", "MQA"])
def test_grouped_kv_heads_equal_full_heads_with_shared_projections(n_kv):
    """GQA is MHA whose key/value heads are copied across each group of query heads."""
    gqa = MultiHeadAttention(E, H, n_kv_heads=n_kv)
    full = MultiHeadAttention(E, H)
    d, rep = E // H, H // n_kv
    with torch.no_grad():
        full.load_state_dict({k: v for k, v in gqa.state_dict().items() if not k.startswith(("k_", "v_"))},
                             strict=False)
        for name in ("k_proj", "v_proj"):
            w = getattr(gqa, name).weight.view(n_kv, d, E).repeat_interleave(rep, 0).reshape(E, E)
            b = getattr(gqa, name).bias.view(n_kv, d).repeat_interleave(rep, 0).reshape(E)
            getattr(full, name).weight.copy_(w)
            getattr(full, name).bias.copy_(b)
    assert gqa.k_proj.weight.shape == (n_kv * d, E)
    x = torch.randn(2, 5, E)
    with torch.no_grad():
        torch.testing.assert_close(gqa(x, is_causal=True)[0], full(x, is_causal=True)[0], atol=1e-6, rtol=0)


def test_bad_head_counts_are_named():
    with pytest.raises(ValueError, match="d_model=30"):
        MultiHeadAttention(30, 4)
    with pytest.raises(ValueError, match="n_kv_heads=3"):
        MultiHeadAttention(32, 4, n_kv_heads=3)
