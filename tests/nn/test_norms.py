"""LayerNorm and RMSNorm against PyTorch's own modules."""
import pytest
import torch
from torch import nn

from llmos.nn.norms import LayerNorm, RMSNorm, make_norm


@pytest.mark.parametrize("eps", [1e-5, 1e-12])
def test_layernorm_equals_torch(eps):
    mine, ref = LayerNorm(24, eps), nn.LayerNorm(24, eps=eps)
    with torch.no_grad():
        ref.weight.normal_()
        ref.bias.normal_()
        mine.weight.copy_(ref.weight)
        mine.bias.copy_(ref.bias)
    x = 3 * torch.randn(2, 5, 24) + 1
    torch.testing.assert_close(mine(x), ref(x), atol=1e-6, rtol=0)


def test_layernorm_without_bias():
    mine, ref = LayerNorm(16, bias=False), nn.LayerNorm(16, bias=False)
    assert mine.bias is None
    x = torch.randn(3, 16)
    torch.testing.assert_close(mine(x), ref(x), atol=1e-6, rtol=0)


@pytest.mark.parametrize("eps", [1e-5, 1e-6])
def test_rmsnorm_equals_torch(eps):
    mine, ref = RMSNorm(24, eps), nn.RMSNorm(24, eps=eps)
    with torch.no_grad():
        ref.weight.normal_()
        mine.weight.copy_(ref.weight)
    x = 3 * torch.randn(2, 5, 24) + 1
    torch.testing.assert_close(mine(x), ref(x), atol=1e-6, rtol=0)
    assert not torch.allclose(mine(x), nn.functional.layer_norm(x, (24,)) * mine.weight, atol=1e-3)  # no centring


def test_rmsnorm_in_bf16_normalizes_in_fp32():
    norm = RMSNorm(64).bfloat16()                             # a bf16 model: weights in bf16 too
    x = (50 * torch.randn(32, 64)).bfloat16()
    xf = x.float()
    expected = (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-6)).bfloat16()
    in_bf16 = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)
    got = norm(x)
    assert got.dtype == torch.bfloat16
    assert torch.equal(got, expected)
    assert not torch.equal(got, in_bf16)                      # computing in bf16 would round differently


def test_make_norm_names_the_choices():
    assert isinstance(make_norm("layernorm", 8, 1e-5), LayerNorm)
    assert isinstance(make_norm("rmsnorm", 8, 1e-6), RMSNorm)
    with pytest.raises(ValueError, match="batchnorm.*layernorm.*rmsnorm"):
        make_norm("batchnorm", 8, 1e-5)
