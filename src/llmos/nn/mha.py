"""Multi-head attention: self, cross, causal; multi-, grouped- and single-KV-head.

    head_i = Attention(X W_q^i, C W_k^g(i), C W_v^g(i))      C = X for self-attention
    MHA(X, C) = concat(head_1 .. head_H) W_o                  (Vaswani et al. 2017, sec. 3.2.2)

Key/value heads can be fewer than query heads (GQA, Ainslie et al. 2023):

    MHA  (n_kv_heads = n_heads)   q q q q      GQA (n_kv_heads = 2)  q q q q      MQA (n_kv_heads = 1)  q q q q
                                  | | | |                            \\ / \\ /                             \\ \\ / /
                                  k k k k                             k   k                                 k

which shrinks the KV cache by n_heads / n_kv_heads with little loss in quality.
"""
from __future__ import annotations

from torch import Tensor, nn

from llmos.nn import fused
from llmos.nn.attention import attention
from llmos.nn.hooks import HookPoint, attend_hooked, fire_heads
from llmos.nn.kv_cache import CacheStep
from llmos.nn.linear import Linear
from llmos.nn.positions import RotaryEmbedding


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int, n_kv_heads: int | None = None,
                 head_dim: int | None = None, qkv_bias: bool = True, out_bias: bool = True,
                 dropout: float = 0.0, kv_dim: int | None = None):
        super().__init__()
        n_kv_heads = n_heads if n_kv_heads is None else n_kv_heads
        if head_dim is None:
            if d_model % n_heads:
                raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}; "
                                 "change one of them or set head_dim")
            head_dim = d_model // n_heads
        if n_heads % n_kv_heads:
            raise ValueError(f"n_heads={n_heads} must be a multiple of n_kv_heads={n_kv_heads}")
        self.n_heads, self.n_kv_heads, self.head_dim = n_heads, n_kv_heads, head_dim
        self.dropout = dropout
        kv_dim = d_model if kv_dim is None else kv_dim
        self.q_proj = Linear(d_model, n_heads * head_dim, bias=qkv_bias)
        self.k_proj = Linear(kv_dim, n_kv_heads * head_dim, bias=qkv_bias)
        self.v_proj = Linear(kv_dim, n_kv_heads * head_dim, bias=qkv_bias)
        self.o_proj = Linear(n_heads * head_dim, d_model, bias=out_bias)
        self.hook_points: dict[str, HookPoint] = {}               # see nn/hooks.py; empty = no cost

    def _split(self, x: Tensor, n: int) -> Tensor:                # (B, T, n*D) -> (B, n, T, D)
        b, t, _ = x.shape
        return x.view(b, t, n, self.head_dim).transpose(1, 2)

    def project_kv(self, context: Tensor) -> tuple[Tensor, Tensor]:
        """context (B, S, C) -> keys, values (B, Hkv, S, D).

        Cross-attention reads the same encoder output at every decoding step, so
        a decoder projects it once and passes the result back as `kv=`.
        """
        return (self._split(self.k_proj(context), self.n_kv_heads),
                self._split(self.v_proj(context), self.n_kv_heads))

    def forward(self, x: Tensor, context: Tensor | None = None, *, mask: Tensor | None = None,
                is_causal: bool = False,
                rope: tuple[RotaryEmbedding, Tensor, Tensor] | None = None,
                cache: CacheStep | None = None, layer: int = 0,
                need_weights: bool = False,
                kv: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor | None]:
        """x (B, T, C) queries; context (B, S, C) keys/values (x itself when None).

        mask: bool (True = may attend) or additive, broadcastable to (B, H, T, S).
        rope: (rotary, cos, sin) at the new tokens' positions; keys are rotated before
              they are cached, so cached keys keep their own positions.
        cache: this forward's KV-cache write; keys/values are appended and all are read back.
        kv: keys and values already projected by `project_kv` (context is then ignored).
        Returns (output (B, T, C), attention weights (B, H, T, S) or None).
        """
        hooked = self.hook_points
        q = self._split(self.q_proj(x), self.n_heads)             # (B, H, T, D)
        k, v = kv if kv is not None else self.project_kv(x if context is None else context)  # (B, Hkv, S, D)
        if hooked:
            q, k, v = (fire_heads(hooked, "hook_q", q), fire_heads(hooked, "hook_k", k),
                       fire_heads(hooked, "hook_v", v))
        if rope is not None:
            rotary, cos, sin = rope
            q, k = rotary.rotate(q, cos, sin), rotary.rotate(k, cos, sin)
            if hooked:
                q, k = fire_heads(hooked, "hook_rot_q", q), fire_heads(hooked, "hook_rot_k", k)
        if (cache is not None and mask is None and not is_causal and not hooked and not need_weights
                and q.shape[2] == 1 and fused.decoding(x)):
            out = cache.attend_one(layer, q, k, v, self.head_dim ** -0.5)   # (B, H, 1, D) or None
            if out is not None:
                return self.o_proj(out.reshape(q.shape[0], 1, self.n_heads * self.head_dim)), None
        if cache is not None:
            k, v = cache.update(layer, k, v)                      # (B, Hkv, S_all, D)
        dropout_p = self.dropout if self.training else 0.0
        if hooked and ("hook_attn_scores" in hooked or "hook_pattern" in hooked):
            out, weights = attend_hooked(hooked, q, k, v, mask, is_causal, dropout_p)
            weights = weights if need_weights else None
        else:
            out, weights = attention(q, k, v, mask=mask, is_causal=is_causal, dropout_p=dropout_p,
                                     need_weights=need_weights)
        if hooked:
            out = fire_heads(hooked, "hook_z", out)               # (B, H, T, D), hooked as (B, T, H, D)
        b, _, t, _ = out.shape
        out = out.transpose(1, 2).reshape(b, t, self.n_heads * self.head_dim)   # (B, T, H*D)
        return self.o_proj(out), weights
