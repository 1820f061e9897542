"""Feed-forward blocks: the two-layer MLP, its activations, and SwiGLU."""
import math

import pytest
import torch

from llmos.nn.mlp import MLP, SwiGLU, activation, swiglu_hidden


def test_activations_are_their_formulas():
    x = torch.linspace(-4, 4, 101)
    erf_gelu = 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
    tanh_gelu = 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    torch.testing.assert_close(activation("gelu")(x), erf_gelu)
    torch.testing.assert_close(activation("gelu_tanh")(x), tanh_gelu)
    torch.testing.assert_close(activation("silu")(x), x * torch.sigmoid(x))
    torch.testing.assert_close(activation("relu")(x), x.clamp(min=0))
    assert not torch.allclose(erf_gelu, tanh_gelu, atol=1e-5, rtol=0)   # the two GELUs differ
    with pytest.raises(ValueError, match="swish.*gelu"):
        activation("swish")


@pytest.mark.parametrize("act", ["relu", "gelu", "gelu_tanh", "silu"])
def test_mlp_shape_and_formula(act):
    mlp = MLP(16, 40, act=act)
    x = torch.randn(2, 3, 16)
    y = mlp(x)
    assert y.shape == (2, 3, 16)
    assert mlp.fc_in.weight.shape == (40, 16) and mlp.fc_out.weight.shape == (16, 40)
    torch.testing.assert_close(y, mlp.fc_out(activation(act)(mlp.fc_in(x))))


def test_mlp_without_bias():
    mlp = MLP(8, 16, bias=False)
    assert mlp.fc_in.bias is None and mlp.fc_out.bias is None


def test_swiglu_shape_and_formula():
    ff = SwiGLU(16, 24)
    x = torch.randn(2, 5, 16)
    y = ff(x)
    assert y.shape == (2, 5, 16)
    assert ff.gate_proj.bias is None
    expected = ff.down_proj(torch.nn.functional.silu(ff.gate_proj(x)) * ff.up_proj(x))
    torch.testing.assert_close(y, expected)


def test_swiglu_equals_transformers_llama_mlp():
    transformers = pytest.importorskip("transformers")
    from transformers.models.llama.modeling_llama import LlamaMLP
    ref = LlamaMLP(transformers.LlamaConfig(hidden_size=16, intermediate_size=24, num_attention_heads=2,
                                                      num_key_value_heads=2, hidden_act="silu"))
    ff = SwiGLU(16, 24)
    ff.load_state_dict(ref.state_dict())
    x = torch.randn(3, 16)
    with torch.no_grad():
        torch.testing.assert_close(ff(x), ref(x), atol=1e-6, rtol=0)


def test_swiglu_hidden_matches_llama_sizing():
    assert swiglu_hidden(4096, multiple_of=256) == 11008       # Llama-7B's intermediate size
    assert swiglu_hidden(512) % 64 == 0 and swiglu_hidden(512) >= 2 * 4 * 512 // 3
