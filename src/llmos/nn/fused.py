"""Fused operators for decoding a few tokens at a time on the CPU (the kernels are `decode.cpp`).

A decoding step of a 12-layer model runs about 40 small torch operators per
layer on vectors of a few thousand numbers; at 5-20 us of dispatch each, that
costs as much as reading the weights (BENCHMARKS.md, issue 16). So for up to 16
new tokens of one sequence (a decoding step, a speculative check, a short
prompt), a whole decoder block is one call:

    block_step(block, x, step, rope)          x (1, T, C), T <= 16 -> the block's output, or None
        Norm1, the q/k/v products, rotary, the cache write, attention, the output
        product and residual, Norm2, the MLP or SwiGLU and residual: the block's own
        weights (fp32, bf16 or int8), read by the matrix-vector kernel of gemv.cpp

and for the other decoding shapes (several rows) two smaller fusions:

    attend_step(q, k, v, K, V, pos, scale)    write k, v at `pos`, then attend over K, V[:pos+1]
        q (B, H, D), k, v (B, Hkv, D), K, V (B, Hkv, L, D) -> (B, H, D)
        out[b, h] = softmax_j(q[b, h] . K[b, g, j] * scale) V[b, g, j],  g = h // (H / Hkv)

    add_norm(x, h, norm)                      the residual add and the next norm, one pass
        x, h (M, C) -> (x + h, norm(x + h))    norm a LayerNorm or an RMSNorm

They are exact in fp32 up to summation order (tests/nn/test_fused.py checks
them against the operator-by-operator forward). `ready()` says whether they
can be used: the compiled kernels are built with `gemv.py`'s (one build, the
same switches).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from llmos.nn import gemv
from llmos.nn.linear import MAX_ROWS          # the kernel's rows per call: decoding's new tokens at most
from llmos.nn.norms import LayerNorm, RMSNorm


def ready() -> bool:
    """Whether the compiled fused operators are there (building them on first call)."""
    return gemv.available()


def decoding(x: Tensor) -> bool:
    """Whether x (..., C) is a decoding step the fused operators take: fp32 on the CPU, a few
    rows, and no gradient being recorded (they have no backward)."""
    return (x.device.type == "cpu" and x.dtype == torch.float32 and x.numel() <= MAX_ROWS * x.shape[-1]
            and not torch.is_grad_enabled() and ready())


def attend_step(q: Tensor, k: Tensor, v: Tensor, k_cache: Tensor, v_cache: Tensor, pos: int,
                scale: float) -> Tensor:
    return torch.ops.llmos_decode.attend_step(q, k, v, k_cache, v_cache, pos, scale)


def add_norm(x: Tensor, h: Tensor, norm: nn.Module) -> tuple[Tensor, Tensor]:
    """(x + h, norm(x + h)) for x, h (..., C) fp32; norm llmos's LayerNorm or RMSNorm."""
    shape = x.shape
    rms = isinstance(norm, RMSNorm)
    bias = None if rms else norm.bias
    r, y = torch.ops.llmos_decode.add_norm(x.reshape(-1, shape[-1]), h.reshape(-1, shape[-1]).contiguous(),
                                           norm.weight, bias, float(norm.eps), rms)
    return r.view(shape), y.view(shape)


def norm_supported(norm: nn.Module) -> bool:
    """Whether `add_norm` computes this norm: llmos's LayerNorm or RMSNorm with fp32 gains."""
    return isinstance(norm, (LayerNorm, RMSNorm)) and norm.weight.dtype == torch.float32


ACT_CODES = {"relu": 0, "gelu": 1, "gelu_tanh": 2, "silu": 3}     # decode.cpp's Act


def _linear(m: nn.Module) -> list[Tensor | None]:
    """(weight, int8 scales or None, bias or None): Linear, Int8Linear or Bf16Linear alike.

    Read from the module's own dicts: nn.Module attribute lookup costs about a microsecond,
    and a block has 26 of these tensors to gather per token."""
    params, buffers = m._parameters, m._buffers
    w = params.get("weight")
    return [buffers["weight"] if w is None else w, buffers.get("scales"), params.get("bias")]


def _norm(m: nn.Module) -> list[Tensor | None]:
    return [m._parameters["weight"], m._parameters.get("bias")]


def block_step(block: nn.Module, x: Tensor, step, rope, act: str) -> Tensor | None:
    """One decoder block on T <= 16 new tokens of one sequence in one call; None where it cannot.

    block: a CausalLM Block (norm1, attn, norm2, ffn an MLP or SwiGLU) in eval mode, no hooks;
    step: the forward's CacheStep; rope: (rotary, cos, sin) or None; act: the ffn's activation.
    """
    mods = block._modules
    attn, ffn = mods["attn"], mods["ffn"]
    t = x.shape[1]
    if attn.hook_points or ffn.hook_points or step.write.shape != (1, t):
        return None
    slot = 0 if step.contiguous else int(step.rows[0])                  # one sequence, in any cache row
    a, f = attn._modules, ffn._modules
    swiglu = "gate_proj" in f
    params = (_norm(mods["norm1"]) + _norm(mods["norm2"]) + _linear(a["q_proj"]) + _linear(a["k_proj"])
              + _linear(a["v_proj"]) + _linear(a["o_proj"]))
    if swiglu:
        params += _linear(f["gate_proj"]) + _linear(f["up_proj"]) + _linear(f["down_proj"])
    else:
        params += _linear(f["fc_in"]) + _linear(f["fc_out"])
    rope_kind, cos, sin = 0, None, None
    if rope is not None:
        rotary, cos, sin = rope
        rope_kind, cos, sin = (2 if rotary.interleaved else 1), cos.reshape(t, -1), sin.reshape(t, -1)
    meta = [block.fused_rms, swiglu, ACT_CODES[act], attn.n_heads, attn.n_kv_heads, attn.head_dim, rope_kind,
            step.end - t, block.layer, slot]
    cache = step.cache
    out = torch.ops.llmos_decode.block_step(x.reshape(t, -1), params, meta, block.fused_eps, cache.k, cache.v,
                                            cos, sin)
    return out.view(x.shape) if out.numel() else None
