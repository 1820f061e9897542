"""Scaled dot-product attention: the written-out formula, the fused kernel, and the masks."""
import math

import pytest
import torch

from llmos.nn.attention import attention, attention_reference, causal_mask, repeat_kv


def qkv(b=2, h=4, hkv=4, tq=6, tk=6, d=8):
    return torch.randn(b, h, tq, d), torch.randn(b, hkv, tk, d), torch.randn(b, hkv, tk, d)


def key_padding(lengths, tk):
    """(B, 1, 1, Tk) True at real keys (right padding)."""
    return (torch.arange(tk)[None, :] < torch.tensor(lengths)[:, None])[:, None, None, :]


def by_hand(q, k, v, allowed):
    """Per batch row and head, with python-level loops: softmax(q k^T / sqrt(d)) v over allowed keys."""
    b, h, tq, d = q.shape
    group = h // k.shape[1]
    out = torch.zeros_like(q)
    for i in range(b):
        for j in range(h):
            kk, vv = k[i, j // group], v[i, j // group]
            for t in range(tq):
                keep = allowed[i, 0, t] if allowed is not None else torch.ones(k.shape[2], dtype=torch.bool)
                if keep.any():
                    s = (kk[keep] @ q[i, j, t]) / math.sqrt(d)
                    out[i, j, t] = torch.softmax(s, 0) @ vv[keep]
    return out


CASES = {
    "no mask": dict(),
    "causal": dict(is_causal=True),
    "padding": dict(mask=key_padding([6, 3], 6)),
    "causal+padding": dict(mask=key_padding([6, 4], 6), is_causal=True),
    "additive float": dict(mask=torch.randn(2, 1, 6, 6)),
}


@pytest.mark.parametrize("heads", [(4, 4), (4, 2), (4, 1)], ids=["MHA", "GQA", "MQA"])
@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_formula_equals_fused_kernel(case, heads):
    h, hkv = heads
    q, k, v = qkv(h=h, hkv=hkv)
    kw = CASES[case]
    ref, weights = attention_reference(q, k, v, **kw)
    fused, none = attention(q, k, v, **kw)
    assert none is None and weights.shape == (2, h, 6, 6)
    torch.testing.assert_close(fused, ref, atol=1e-6, rtol=0)


@pytest.mark.parametrize("heads", [(4, 4), (4, 2), (4, 1)], ids=["MHA", "GQA", "MQA"])
def test_formula_equals_attention_computed_by_hand(heads):
    q, k, v = qkv(h=heads[0], hkv=heads[1])
    allowed = key_padding([6, 4], 6) & causal_mask(6, 6)
    ref, _ = attention_reference(q, k, v, mask=allowed)
    torch.testing.assert_close(ref, by_hand(q, k, v, allowed), atol=1e-6, rtol=0)


def test_rows_with_nothing_to_attend_to_are_zero_in_both_paths():
    q, k, v = qkv(h=4, hkv=2)
    mask = key_padding([6, 0], 6)                       # row 1: every key is padding
    mask = mask & torch.tensor([True, True, False, True, True, True])[:, None]  # query 2 of row 0 sees none
    ref, weights = attention_reference(q, k, v, mask=mask.expand(2, 1, 6, 6))
    fused, _ = attention(q, k, v, mask=mask.expand(2, 1, 6, 6))
    assert not ref.isnan().any() and not fused.isnan().any()
    assert ref[1].abs().max() == 0 and ref[0, :, 2].abs().max() == 0
    assert weights[1].abs().max() == 0
    torch.testing.assert_close(fused, ref, atol=1e-6, rtol=0)


def test_weights_are_a_distribution_over_allowed_keys():
    q, k, v = qkv()
    mask = key_padding([6, 2], 6)
    _, w = attention_reference(q, k, v, mask=mask, is_causal=True)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 4, 6))
    assert w[1, :, :, 2:].abs().max() == 0               # padding
    assert w.triu(1).abs().max() == 0                     # the future
    _, w_fused_path = attention(q, k, v, mask=mask, is_causal=True, need_weights=True)
    torch.testing.assert_close(w_fused_path, w)


def test_causal_mask_aligns_new_queries_to_the_last_keys():
    m = causal_mask(2, 5)                                 # two new tokens after three cached ones
    assert m.tolist() == [[True, True, True, True, False], [True, True, True, True, True]]
    assert torch.equal(causal_mask(4, 4), torch.ones(4, 4, dtype=torch.bool).tril())


@pytest.mark.parametrize("with_padding", [False, True])
def test_cached_queries_with_causal_flag_equal_the_full_square(with_padding):
    """Tq < Tk with is_causal: the last Tq rows of the full causal attention."""
    q, k, v = qkv(tq=7, tk=7, hkv=2)
    mask = key_padding([7, 5], 7) if with_padding else None
    full, _ = attention_reference(q, k, v, mask=mask, is_causal=True)
    part_fused, _ = attention(q[:, :, -3:], k, v, mask=mask, is_causal=True)
    part_ref, _ = attention_reference(q[:, :, -3:], k, v, mask=mask, is_causal=True)
    torch.testing.assert_close(part_ref, full[:, :, -3:], atol=1e-6, rtol=0)
    torch.testing.assert_close(part_fused, full[:, :, -3:], atol=1e-6, rtol=0)


def test_explicit_scale_is_used_by_both_paths():
    q, k, v = qkv()
    ref, _ = attention_reference(q, k, v, scale=0.5)
    fused, _ = attention(q, k, v, scale=0.5)
    expected, _ = attention_reference(q * 0.5 * math.sqrt(8), k, v)
    torch.testing.assert_close(ref, expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(fused, ref, atol=1e-6, rtol=0)


def test_repeat_kv_gives_each_query_head_its_groups_key():
    k = torch.randn(2, 2, 5, 8)
    r = repeat_kv(k, 3)
    assert r.shape == (2, 6, 5, 8)
    for h in range(6):
        assert torch.equal(r[:, h], k[:, h // 3])


def test_dropout_only_when_asked():
    q, k, v = qkv()
    a, _ = attention_reference(q, k, v, dropout_p=0.5)
    b, _ = attention_reference(q, k, v)
    assert not torch.allclose(a, b)


def test_under_cpu_autocast_attention_runs_in_fp32_and_hands_back_bf16():
    """bf16 inputs under CPU autocast: the fused kernel runs on their fp32 values (it is much faster
    there), the output comes back in bf16, and gradients reach the inputs."""
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 4, 16, 8).bfloat16().requires_grad_() for _ in range(3))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, _ = attention(q, k, v, is_causal=True)
    want = torch.nn.functional.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=True)
    assert out.dtype == torch.bfloat16
    assert torch.equal(out, want.bfloat16())
    out.float().sum().backward()
    assert all(t.grad is not None and t.grad.abs().sum() > 0 for t in (q, k, v))
