import pytest
import torch

from llmos.classic.seq2seq.attention import RNNAttention


@pytest.mark.parametrize("kind", ["bahdanau", "luong"])
def test_weights_are_a_distribution_that_ignores_padding(kind):
    attn = RNNAttention(decoder_dim=6, encoder_dim=8, kind=kind)
    memory = torch.randn(3, 5, 8)
    pad = torch.tensor([[False] * 5, [False] * 3 + [True] * 2, [False] + [True] * 4])
    context, weights = attn(torch.randn(3, 6), attn.prepare(memory), memory, pad)
    assert weights.shape == (3, 5) and context.shape == (3, 8)
    assert torch.allclose(weights.sum(-1), torch.ones(3))
    assert torch.all(weights[pad] == 0)
    assert torch.allclose(weights[2, 0], torch.tensor(1.0))          # one real token takes all the weight
    assert torch.allclose(context, torch.einsum("bs,bse->be", weights, memory), atol=1e-6)


def test_scores_follow_the_published_formulas():
    torch.manual_seed(0)
    s, memory = torch.randn(2, 4), torch.randn(2, 3, 5)
    luong = RNNAttention(4, 5, "luong")
    _, w = luong(s, luong.prepare(memory), memory, None)
    scores = torch.einsum("bd,de,bse->bs", s, luong.W.weight, memory)  # s^T W h_j
    assert torch.allclose(w, torch.softmax(scores, -1), atol=1e-6)
    bahdanau = RNNAttention(4, 5, "bahdanau", attention_dim=7)
    _, w = bahdanau(s, bahdanau.prepare(memory), memory, None)
    e = torch.tanh(memory @ bahdanau.W_h.weight.T + (s @ bahdanau.W_s.weight.T + bahdanau.W_s.bias)[:, None])
    scores = (e @ bahdanau.v.weight.T).squeeze(-1)                        # v^T tanh(W_s s + W_h h_j)
    assert torch.allclose(w, torch.softmax(scores, -1), atol=1e-6)
    with pytest.raises(ValueError, match="dot"):
        RNNAttention(4, 5, "dot")
