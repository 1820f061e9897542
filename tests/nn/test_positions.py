"""Position codes: sinusoidal values, learned tables, rotary layouts and their relative-position property."""
import math

import pytest
import torch

from llmos.nn.positions import (LearnedPositions, RotaryEmbedding, SinusoidalPositions, rope_frequencies,
                                sinusoidal_table)


def test_sinusoidal_table_is_the_papers_formula():
    d = 16
    table = sinusoidal_table(50, d)
    for pos in range(50):
        for i in range(d // 2):
            angle = pos / 10000 ** (2 * i / d)
            assert table[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-5)
            assert table[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-5)


def test_sinusoidal_positions_look_up_rows():
    pe = SinusoidalPositions(20, 8)
    ids = torch.tensor([[0, 3, 19], [5, 5, 1]])
    assert torch.equal(pe(ids), sinusoidal_table(20, 8)[ids])
    assert not list(pe.parameters())                          # fixed, not trained


def test_learned_positions_are_a_trainable_table():
    pe = LearnedPositions(10, 4)
    ids = torch.tensor([[1, 2]])
    assert pe(ids).shape == (1, 2, 4)
    assert torch.equal(pe(ids)[0, 1], pe.weight[2])
    assert pe.weight.requires_grad


def rotated(rope: RotaryEmbedding, x: torch.Tensor, positions: list[int]) -> torch.Tensor:
    """x (B, H, T, D) rotated to the given positions."""
    cos, sin = rope.cos_sin(torch.tensor([positions]))
    return rope.rotate(x, cos, sin)


def test_rotate_half_equals_interleaved_under_a_feature_permutation():
    """Rotate-half pairs (i, i + d/2); interleaved pairs (2i, 2i+1). Same rotation, features reordered."""
    d = 16
    perm = torch.cat([torch.arange(0, d, 2), torch.arange(1, d, 2)])   # interleaved -> half layout
    x = torch.randn(2, 3, 7, d)
    half = rotated(RotaryEmbedding(d), x[..., perm], list(range(7)))
    inter = rotated(RotaryEmbedding(d, interleaved=True), x, list(range(7)))
    torch.testing.assert_close(half, inter[..., perm], atol=1e-6, rtol=0)


def test_interleaved_rope_is_multiplication_by_a_unit_complex_number():
    """The RoFormer view: pair (x_2i, x_2i+1) as a complex number times e^{i m theta_i}."""
    d, theta = 8, 10000.0
    x = torch.randn(1, 1, 5, d)
    got = rotated(RotaryEmbedding(d, theta, interleaved=True), x, list(range(5)))
    freqs = theta ** (-torch.arange(0, d, 2).float() / d)
    angles = torch.arange(5).float()[:, None] * freqs                      # (T, D/2)
    z = torch.view_as_complex(x.reshape(1, 1, 5, d // 2, 2)) * torch.polar(torch.ones_like(angles), angles)
    torch.testing.assert_close(got, torch.view_as_real(z).reshape(1, 1, 5, d), atol=1e-6, rtol=0)


@pytest.mark.parametrize("interleaved", [False, True])
def test_rope_score_depends_only_on_the_distance(interleaved):
    rope = RotaryEmbedding(32, interleaved=interleaved)
    q, k = torch.randn(1, 1, 1, 32), torch.randn(1, 1, 1, 32)

    def score(m, n):
        return (rotated(rope, q, [m]) * rotated(rope, k, [n])).sum().item()

    assert score(5, 2) == pytest.approx(score(103, 100), abs=1e-4)
    assert score(7, 7) == pytest.approx(score(0, 0), abs=1e-4)
    assert score(0, 0) == pytest.approx((q * k).sum().item(), abs=1e-4)   # no rotation at distance 0
    assert score(5, 2) != pytest.approx(score(5, 3), abs=1e-3)


def test_rope_keeps_vector_lengths():
    rope = RotaryEmbedding(16)
    x = torch.randn(2, 2, 9, 16)
    torch.testing.assert_close(rotated(rope, x, list(range(9))).norm(dim=-1), x.norm(dim=-1))


def test_rope_frequencies_and_linear_scaling():
    inv = rope_frequencies(8, 500000.0)
    torch.testing.assert_close(inv, torch.tensor([500000.0 ** (-i / 8) for i in (0, 2, 4, 6)]))
    torch.testing.assert_close(rope_frequencies(8, scaling={"rope_type": "linear", "factor": 4.0}),
                               rope_frequencies(8) / 4.0)
    with pytest.raises(ValueError, match="yarn"):
        rope_frequencies(8, scaling={"rope_type": "yarn", "factor": 2.0})


def test_llama3_scaling_equals_transformers():
    transformers = pytest.importorskip("transformers")
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
    scaling = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 8192}
    cfg = transformers.LlamaConfig(hidden_size=2048, num_attention_heads=16, max_position_embeddings=131072,
                                   rope_parameters={"rope_theta": 500000.0, **scaling})
    expected, _ = ROPE_INIT_FUNCTIONS["llama3"](cfg, "cpu")
    torch.testing.assert_close(rope_frequencies(128, 500000.0, scaling), expected.float(), rtol=1e-6, atol=0)
    assert not torch.allclose(expected.float(), rope_frequencies(128, 500000.0))   # the scaling did something
