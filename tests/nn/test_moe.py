import math

import pytest
import torch

from llmos.nn.moe import MoE, load_balancing_loss, router_z_loss

@pytest.fixture()
def mixtral():
    """transformers' Mixtral module: only the parity tests need it; the others run without it."""
    return pytest.importorskip("transformers.models.mixtral.modeling_mixtral")


def test_load_balancing_loss_equals_transformers(mixtral):
    torch.manual_seed(0)
    layers = tuple(torch.randn(24, 8) for _ in range(3))
    want = mixtral.load_balancing_loss_func(layers, num_experts=8, top_k=2)
    assert torch.allclose(load_balancing_loss(layers, 8, 2), want, atol=1e-6)


def test_load_balancing_loss_with_padding_equals_transformers(mixtral):
    torch.manual_seed(1)
    mask = torch.ones(2, 6, dtype=torch.long)
    mask[1, :2] = 0
    layers = tuple(torch.randn(12, 4) for _ in range(2))
    want = mixtral.load_balancing_loss_func(layers, num_experts=4, top_k=1, attention_mask=mask)
    assert torch.allclose(load_balancing_loss(layers, 4, 1, mask), want, atol=1e-6)


def test_balanced_routing_gives_loss_top_k():
    # uniform probabilities and perfectly even top-1 choices: f_i = 1/E, P_i = 1/E -> loss = 1
    logits = torch.zeros(8, 4)
    logits[torch.arange(8), torch.arange(8) % 4] = 1e-4
    assert abs(load_balancing_loss(logits, 4, 1).item() - 1.0) < 1e-3


def test_z_loss_hand_value():
    logits = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    want = ((math.log(2)) ** 2 + (1 + math.log(2)) ** 2) / 2
    assert abs(router_z_loss(logits).item() - want) < 1e-6


def test_routing_matches_hand_computation():
    torch.manual_seed(2)
    moe = MoE(8, 16, n_experts=4, top_k=2).eval()
    x = torch.randn(1, 5, 8)
    y, stats = moe(x)
    probs = torch.softmax(moe.router(x[0]), -1)
    w, idx = probs.topk(2, -1)
    w = w / w.sum(-1, keepdim=True)
    want = torch.stack([sum(w[n, j] * moe.experts[int(idx[n, j])](x[0, n]) for j in range(2))
                        for n in range(5)])
    assert torch.allclose(y[0], want, atol=1e-6)
    assert stats.dropped == 0 and stats.capacity is None


def test_capacity_drops_are_counted_and_pass_through_as_zero():
    torch.manual_seed(3)
    moe = MoE(4, 8, n_experts=2, top_k=1, capacity_factor=0.5).eval()
    with torch.no_grad():
        moe.router.weight.zero_()
        moe.router.weight[0, 0] = 10.0              # every token with x0 > 0 prefers expert 0
    x = torch.randn(1, 8, 4).abs()                  # all prefer expert 0
    y, stats = moe(x)
    cap = math.ceil(0.5 * 8 * 1 / 2)                # = 2
    assert stats.capacity == cap
    assert stats.dropped == 8 - cap and stats.dropped_tokens == 8 - cap
    # the first `cap` tokens are served, the rest get a zero update (they ride the residual)
    assert torch.all(y[0, cap:] == 0)
    # top-1 with renormalized weights: a served token gets expert 0's output at weight 1
    torch.testing.assert_close(y[0, :cap], moe.experts[0](x[0, :cap]))
    assert stats.load.tolist() == [1.0, 0.0]


def test_capacity_serves_first_choices_before_second():
    moe = MoE(4, 8, n_experts=2, top_k=2, capacity_factor=0.5)
    index = torch.tensor([[0, 1], [0, 1], [1, 0], [0, 1]])     # (N=4, k=2)
    keep = moe.keep_mask(index, capacity=2)
    # expert 0 first choices: tokens 0, 1 -> full; token 3's first choice is dropped
    # expert 1 first choice: token 2; then second choices in token order: token 0
    assert keep.tolist() == [[True, True], [True, False], [True, False], [False, False]]


def test_bad_top_k_is_a_clear_error():
    with pytest.raises(ValueError, match="experts_per_token"):
        MoE(4, 8, n_experts=2, top_k=3)
