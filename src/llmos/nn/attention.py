"""Scaled dot-product attention, written out and fused.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + M) V        (Vaswani et al. 2017, eq. 1)

`attention_reference` is the formula line by line, and can return the
attention weights (for pictures and hooks). `attention` calls PyTorch's fused
kernel `F.scaled_dot_product_attention` when no weights are wanted, and falls
back to the reference otherwise. Both agree within 1e-6 in fp32.

Shapes: q (B, H, Tq, D); k, v (B, Hkv, Tk, D) with H a multiple of Hkv
(grouped-query attention: each group of H / Hkv query heads shares one K/V
head; Hkv = 1 is multi-query attention).

Masks follow PyTorch's convention: a boolean `mask` is True where attention is
allowed; a float mask is added to the scores. Either broadcasts to
(B, H, Tq, Tk). A query row with nothing to attend to returns zeros (the fused
kernel does the same), rather than NaN.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def causal_mask(tq: int, tk: int, device: torch.device | None = None) -> Tensor:
    """Boolean (Tq, Tk) mask, True on and below the diagonal aligned to the *last* key.

    With a cache, the Tq new queries are the last Tq positions of Tk keys, so
    query i may see keys 0 .. (Tk - Tq + i).
    """
    q_pos = torch.arange(tk - tq, tk, device=device)[:, None]  # (Tq, 1)
    k_pos = torch.arange(tk, device=device)[None, :]           # (1, Tk)
    return k_pos <= q_pos


def repeat_kv(x: Tensor, n_rep: int) -> Tensor:
    """(B, Hkv, T, D) -> (B, Hkv * n_rep, T, D): each K/V head serves n_rep query heads."""
    if n_rep == 1:
        return x
    b, h, t, d = x.shape
    return x[:, :, None].expand(b, h, n_rep, t, d).reshape(b, h * n_rep, t, d)


def attention_reference(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None,
                        is_causal: bool = False, scale: float | None = None,
                        dropout_p: float = 0.0) -> tuple[Tensor, Tensor]:
    """The formula, step by step. Returns (output (B, H, Tq, D), weights (B, H, Tq, Tk))."""
    n_rep = q.shape[1] // k.shape[1]
    k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ k.transpose(-2, -1)) * scale                  # (B, H, Tq, Tk)
    if is_causal:
        scores = scores.masked_fill(~causal_mask(q.shape[-2], k.shape[-2], q.device), float("-inf"))
    if mask is not None:
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            scores = scores + mask
    weights = torch.softmax(scores.float(), dim=-1).to(q.dtype)
    weights = torch.nan_to_num(weights, nan=0.0)                # rows with no visible key
    if dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p)
    return weights @ v, weights                                 # (B, H, Tq, D)


def attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None,
              is_causal: bool = False, scale: float | None = None, dropout_p: float = 0.0,
              need_weights: bool = False) -> tuple[Tensor, Tensor | None]:
    """Attention through the fused kernel; through the reference when weights are wanted."""
    if need_weights:
        return attention_reference(q, k, v, mask, is_causal, scale, dropout_p)
    if is_causal and mask is None and q.shape[-2] != k.shape[-2]:
        # the fused kernel aligns its causal mask top-left; ours aligns bottom-right
        mask, is_causal = causal_mask(q.shape[-2], k.shape[-2], q.device), False
    elif is_causal and mask is not None:
        causal = causal_mask(q.shape[-2], k.shape[-2], q.device)
        mask = (mask & causal) if mask.dtype == torch.bool else mask.masked_fill(~causal, float("-inf"))
        is_causal = False
    gqa = q.shape[1] != k.shape[1]
    if q.device.type == "cpu" and torch.is_autocast_enabled("cpu") and q.dtype == torch.bfloat16:
        # the CPU's fused kernel is about 4x slower in bf16 than in fp32 (forward + backward,
        # torch 2.13), so under CPU autocast attention runs in fp32 and only the matmuls around it in bf16
        with torch.autocast("cpu", enabled=False):
            out = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), attn_mask=mask,
                                                 dropout_p=dropout_p, is_causal=is_causal, scale=scale,
                                                 enable_gqa=gqa)
        return out.to(torch.bfloat16), None
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p,
                                         is_causal=is_causal, scale=scale, enable_gqa=gqa)
    return out, None
