import pytest
import torch
from torch import nn

from llmos.nn import gemv
from llmos.nn.linear import Linear


def pair(k: int, n: int, bias: bool) -> tuple[nn.Linear, Linear]:
    torch.manual_seed(0)
    ref = nn.Linear(k, n, bias=bias)
    ours = Linear(k, n, bias=bias)
    ours.load_state_dict(ref.state_dict())
    return ref, ours


def counting(monkeypatch) -> list[int]:
    calls = []
    real = gemv.fp32
    monkeypatch.setattr(gemv, "fp32", lambda x, w, b=None: calls.append(x.shape[0]) or real(x, w, b))
    return calls


@pytest.mark.parametrize("rows", [1, 3, 16, 17])          # 17: past the kernel's limit, nn.Linear's own path
@pytest.mark.parametrize("bias", [True, False])
def test_inference_equals_nn_linear_and_takes_the_kernel_for_few_rows(rows, bias, monkeypatch):
    if not gemv.available():
        pytest.skip("the kernel is not built here")
    calls = counting(monkeypatch)
    ref, ours = pair(77, 45, bias)                           # K not a multiple of 8: the tail path
    x = torch.randn(rows, 77)
    with torch.no_grad():
        want, got = ref(x), ours(x)
    assert got.shape == want.shape and (got - want).abs().max().item() < 1e-5
    assert calls == ([rows] if rows <= 16 else [])


def test_batched_shapes_are_kept():
    ref, ours = pair(32, 24, True)
    x = torch.randn(2, 1, 32)                                 # (B, T, C) of a decoding step
    with torch.no_grad():
        assert torch.allclose(ours(x), ref(x), atol=1e-5) and ours(x).shape == (2, 1, 24)


def test_training_takes_autograd_and_gets_the_same_gradients(monkeypatch):
    calls = counting(monkeypatch)
    ref, ours = pair(20, 8, True)
    x = torch.randn(2, 20)
    ref(x).square().sum().backward()
    ours(x).square().sum().backward()
    assert calls == []
    assert torch.allclose(ours.weight.grad, ref.weight.grad) and torch.allclose(ours.bias.grad, ref.bias.grad)


def test_a_transposed_weight_view_is_not_sent_to_the_kernel(monkeypatch):
    calls = counting(monkeypatch)
    ref, ours = pair(20, 8, False)
    ours.weight = nn.Parameter(ref.weight.detach().t().contiguous().t())    # same values, (K, N) storage
    with torch.no_grad():
        assert torch.allclose(ours(torch.ones(1, 20)), ref(torch.ones(1, 20)), atol=1e-6)
    assert calls == []


def test_it_is_an_nn_linear_to_everything_else():
    lin = Linear(4, 3)
    assert isinstance(lin, nn.Linear) and set(lin.state_dict()) == {"weight", "bias"}
