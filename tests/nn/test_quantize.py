import pytest
import torch
from torch import nn

from llmos.nn import CausalLM, ModelConfig, gemv
from llmos.nn.quantize import (Bf16Linear, Int8Linear, QuantEmbedding, bf16_linear, int8_linear, quantize,
                               quantize_int8, weight_bytes)


def tiny(family: str, **kw) -> CausalLM:
    torch.manual_seed(0)
    cfg = ModelConfig.for_family(family, vocab_size=61, d_model=40, n_layers=2, n_heads=4,
                                 n_kv_heads=None if family == "gpt2" else 2, d_ff=72, max_seq_len=64,
                                 n_experts=4 if family == "mixtral" else 0, **kw)
    return CausalLM(cfg).eval()


def test_int8_rows_round_to_within_half_a_step():
    w = torch.randn(33, 70) * torch.linspace(0.01, 3, 33)[:, None]      # rows of very different scale
    q, s = quantize_int8(w)
    assert q.dtype == torch.int8 and s.shape == (33,)
    assert q.abs().max() == 127                                         # each row uses the full range
    err = (w - q.float() * s[:, None]).abs()
    assert (err <= s[:, None] / 2 + 1e-6).all()


@pytest.mark.parametrize("rows", [1, 3, 5, 16, 40])        # 40: past the kernel's 16 rows, torch's int8 matmul
@pytest.mark.parametrize("kernel", [True, False])
def test_int8_linear_equals_the_dequantized_matmul(rows, kernel, monkeypatch):
    if not kernel:
        monkeypatch.setattr(gemv, "available", lambda: False)
    lin = nn.Linear(77, 45)                                              # K not a multiple of 8: the tail path
    q = Int8Linear.from_linear(lin)
    x = torch.randn(rows, 77)
    want = nn.functional.linear(x, q.dequantized(), lin.bias)
    got = q(x)
    assert got.dtype == torch.float32 and got.shape == (rows, 45)
    # the kernel is exact in fp32; torch's int8 matmul takes bf16 activations (8 bits of mantissa)
    tol = 1e-4 if kernel and rows <= 16 else 3e-2 * want.abs().max().item()
    assert (got - want).abs().max().item() < tol
    assert (got - lin(x)).abs().max().item() < 0.05 * lin(x).abs().max().item()


@pytest.mark.parametrize("rows", [1, 4, 7, 30])
@pytest.mark.parametrize("kernel", [True, False])
@pytest.mark.parametrize("bias", [True, False])                # the kernel adds the bias in its own pass
def test_bf16_linear_equals_the_rounded_weights_matmul(rows, kernel, bias, monkeypatch):
    if not kernel:
        monkeypatch.setattr(gemv, "available", lambda: False)
    lin = nn.Linear(70, 37, bias=bias)
    b = Bf16Linear.from_linear(lin)
    assert b.weight.dtype == torch.bfloat16
    x = torch.randn(rows, 70)
    want = x @ lin.weight.detach().bfloat16().float().t() + (lin.bias.detach() if bias else 0)
    assert (b(x) - want).abs().max().item() < 1e-4


def test_the_kernel_builds_on_this_machine():
    """The fast path is what the benchmarks measure: on an AVX2 CPU with a compiler it must be there."""
    if torch.backends.cpu.get_cpu_capability() not in ("AVX2", "AVX512"):
        pytest.skip("the kernel needs AVX2")
    assert gemv.available()
    x, q = torch.randn(2, 64), torch.randint(-127, 128, (9, 64), dtype=torch.int8)
    s = torch.rand(9)
    assert torch.allclose(gemv.int8(x, q, s), (x @ q.float().t()) * s, atol=1e-4)
    w, b = torch.randn(9, 64), torch.randn(9)
    assert torch.allclose(gemv.fp32(x, w, b), x @ w.t() + b, atol=1e-5)
    assert torch.allclose(gemv.int8(x, q, s, b), (x @ q.float().t()) * s + b, atol=1e-4)


@pytest.mark.parametrize("family", ["gpt2", "llama", "mixtral"])
@pytest.mark.parametrize("dtype", ["int8", "bf16"])
def test_a_quantized_model_keeps_its_predictions(family, dtype):
    model = tiny(family)
    ids = torch.randint(0, 61, (2, 20))
    with torch.no_grad():
        ref = model(ids, targets=ids)
        fp32_bytes = weight_bytes(model)
        quantize(model, dtype)
        out = model(ids, targets=ids)
    assert isinstance(model.tok_emb, QuantEmbedding)
    kind = Int8Linear if dtype == "int8" else Bf16Linear
    assert isinstance(model.blocks[0].attn.q_proj, kind)
    if family == "gpt2":                                  # the tied head is the embedding's own table
        assert model.lm_head is model.tok_emb.head
    if family == "mixtral":
        assert isinstance(model.blocks[0].ffn.router, nn.Linear)   # routing decisions stay fp32
    assert weight_bytes(model) < fp32_bytes * (0.3 if dtype == "int8" else 0.55)
    assert abs(out.lm_loss.item() - ref.lm_loss.item()) < 0.01 * ref.lm_loss.item()
    agree = (out.logits.argmax(-1) == ref.logits.argmax(-1)).float().mean().item()
    assert agree > 0.9


def test_cached_decoding_of_a_quantized_model_equals_its_full_forward():
    model = quantize(tiny("llama"), "int8")
    ids = torch.randint(0, 61, (1, 12))
    with torch.no_grad():
        full = model(ids).logits
        cache = model.new_cache(1, 16)
        parts = [model(ids[:, :5], cache=cache).logits]
        parts += [model(ids[:, i:i + 1], cache=cache).logits for i in range(5, 12)]
    assert (torch.cat(parts, 1) - full).abs().max().item() < 1e-4


def test_quantize_refuses_twice_and_unknown_dtypes():
    model = quantize(tiny("gpt2"), "int8")
    with pytest.raises(ValueError, match="already quantized"):
        quantize(model, "bf16")
    with pytest.raises(ValueError, match="int8"):
        quantize(tiny("gpt2"), "int4")
    assert quantize(tiny("gpt2"), "fp32").tok_emb.weight.dtype == torch.float32


def test_free_functions_cover_other_dtypes():
    x = torch.randn(3, 16, dtype=torch.bfloat16)
    q, s = quantize_int8(torch.randn(5, 16))
    assert int8_linear(x, q, s).dtype == torch.bfloat16
    assert bf16_linear(x, torch.randn(5, 16).bfloat16()).dtype == torch.bfloat16


@pytest.mark.parametrize("k, offset", [(24, 0), (40, 0), (32, 4), (32, 8)])
def test_int8_linear_takes_weights_the_fast_op_would_crash_on(k, offset):
    """K off the 16-byte grid, or a weight view that starts off a 16-byte boundary (as safetensors hands
    back), goes to the safe path: same result, no segfault in torch's int8 matmul."""
    torch.manual_seed(0)
    n, rows = 24, 20                                   # past the kernel's 16 rows
    buf = torch.randint(-127, 128, (n * k + offset,), dtype=torch.int8)
    q = buf[offset:].view(n, k)
    scales, x = torch.rand(n) / 100, torch.randn(rows, k)
    ref = x @ (q.float() * scales[:, None]).T
    assert torch.allclose(int8_linear(x, q, scales), ref, atol=1e-4)


@pytest.mark.parametrize("k", [31, 160, 300, 1000])       # the 128- and 32-wide loops and the scalar tail
def test_the_one_row_int8_kernel_matches_the_dequantized_matmul(k):
    """On VNNI CPUs one row of x goes through int16 dot products: x rounded to 15 bits, not exact."""
    if not gemv.available():
        pytest.skip("the kernel is not built here")
    torch.manual_seed(k)
    q, s = quantize_int8(torch.randn(37, k) * 0.1)
    x, b = torch.randn(1, k) * 3, torch.randn(37)
    want = (x @ q.float().t()) * s + b
    got = gemv.int8(x, q, s, b)
    assert (got - want).abs().max().item() < 1e-4 * want.abs().max().item() + 1e-6
    assert gemv.int8(torch.zeros(1, k), q, s).abs().max().item() == 0.0
