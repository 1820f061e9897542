import pytest
import torch
import torch.nn.functional as F

from llmos.classic.word2vec.model import Word2Vec, Word2VecConfig
from llmos.classic.word2vec.windows import Windows


def _batch():
    # 3 windows over a vocabulary of 7; row 1 has a negative equal to its center (must be skipped)
    return Windows(center=torch.tensor([0, 1, 2], dtype=torch.int32),
                   context=torch.tensor([[3, 4, 1], [5, 6, 0], [4, 0, 0]], dtype=torch.int32),
                   count=torch.tensor([3, 2, 1], dtype=torch.int32),
                   negatives=torch.tensor([[5, 6], [1, 2], [0, 3]], dtype=torch.int32))


def _model(seed=0):
    m = Word2Vec(7, 4, seed=seed)
    m.W_out = torch.randn(7, 4, generator=torch.Generator().manual_seed(seed + 1))
    return m


def test_skipgram_step_is_sgd_on_the_negative_sampling_loss():
    """Hand-written update == -lr * gradient of sum over pairs of -log sigma(+-u.v) (autograd)."""
    win, lr = _batch(), 0.1
    m = _model()
    W_in, W_out = m.W_in.clone().requires_grad_(), m.W_out.clone().requires_grad_()
    loss = 0
    for n in range(3):
        for c in win.context[n, : win.count[n]].tolist():
            v = W_in[c]
            loss = loss - F.logsigmoid(W_out[int(win.center[n])] @ v)
            for k in win.negatives[n].tolist():
                if k != int(win.center[n]):
                    loss = loss - F.logsigmoid(-(W_out[k] @ v))
    loss.backward()
    m.skipgram_step(win, lr)
    assert torch.allclose(m.W_in, W_in.detach() - lr * W_in.grad, atol=1e-6)
    assert torch.allclose(m.W_out, W_out.detach() - lr * W_out.grad, atol=1e-6)


def test_cbow_step_gives_each_context_word_the_full_hidden_gradient():
    win, lr = _batch(), 0.1
    m = _model(3)
    W_in0, W_out = m.W_in.clone(), m.W_out.clone().requires_grad_()
    expected_in = W_in0.clone()
    loss_total = 0
    for n in range(3):
        ctx = win.context[n, : win.count[n]].tolist()
        h = W_in0[ctx].mean(0).clone().requires_grad_()
        loss = -F.logsigmoid(W_out[int(win.center[n])] @ h)
        for k in win.negatives[n].tolist():
            if k != int(win.center[n]):
                loss = loss - F.logsigmoid(-(W_out[k] @ h))
        (grad_h,) = torch.autograd.grad(loss, h, retain_graph=True)
        for c in ctx:                                    # word2vec.c: not divided by the window size
            expected_in[c] -= lr * grad_h
        loss_total = loss_total + loss
    loss_total.backward()
    m.cbow_step(win, lr)
    assert torch.allclose(m.W_in, expected_in, atol=1e-6)
    assert torch.allclose(m.W_out, W_out.detach() - lr * W_out.grad, atol=1e-6)


def test_saturated_pairs_are_skipped():
    m = Word2Vec(3, 2)
    m.W_in = torch.tensor([[10.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    m.W_out = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    win = Windows(torch.tensor([1], dtype=torch.int32), torch.tensor([[0]], dtype=torch.int32),
                  torch.tensor([1], dtype=torch.int32), torch.tensor([[2]], dtype=torch.int32))
    before = m.W_out[1].clone()
    m.skipgram_step(win, 0.1)                            # score(0 -> 1) = 10 > 6: no update to row 1
    assert torch.equal(m.W_out[1], before)
    assert not torch.equal(m.W_out[2], torch.zeros(2))   # the negative (score 0) is updated


def _pair_loss(m, win):
    """sum over (center, context) pairs of -log sigma(u_o.v_c) - sum_k log sigma(-u_k.v_c), by hand."""
    total = 0.0
    for n in range(len(win.center)):
        for c in win.context[n, : win.count[n]].tolist():
            total -= float(F.logsigmoid(m.W_out[int(win.center[n])] @ m.W_in[c]))
            total -= sum(float(F.logsigmoid(-(m.W_out[k] @ m.W_in[c])))
                         for k in win.negatives[n].tolist() if k != int(win.center[n]))
    return total


def test_loss_is_the_mean_negative_sampling_loss_per_pair_and_config_is_checked():
    m, win = _model(), _batch()
    expected = _pair_loss(m, win) / int(win.count.sum())               # 6 (center, context) pairs
    loss = m.skipgram_step(win, 0.0, want_loss=True)                   # lr 0: nothing moves
    assert loss == pytest.approx(expected, rel=1e-5)
    m.skipgram_step(win, 0.5)
    assert m.skipgram_step(win, 0.0, want_loss=True) < loss            # a step lowers it
    with pytest.raises(ValueError, match="dim"):
        Word2VecConfig(dim=0)
    with pytest.raises(ValueError, match="mode"):
        Word2VecConfig(mode="glove")
