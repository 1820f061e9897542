"""The encoder and decoder stacks of "Attention Is All You Need" (Vaswani et al. 2017, sec. 3.1).

Each layer is a few sub-layers (attention, feed-forward), each wrapped in a
residual connection and a LayerNorm. Two placements of the norm exist:

    post-norm (the paper):    x = LayerNorm(x + Dropout(Sublayer(x)))
    pre-norm  (later work):   x = x + Dropout(Sublayer(LayerNorm(x)))

Pre-norm trains more stably in deep stacks without a long warm-up (Xiong et
al. 2020); post-norm is what the paper trained. Both stacks end with a final
LayerNorm when `final_norm` is set, as `torch.nn.Transformer` does in either
mode (for pre-norm it is needed, since the residual stream is never
normalized otherwise).

    encoder layer:  self-attention (padding mask)          -> feed-forward
    decoder layer:  causal self-attention (+ padding mask) -> cross-attention
                    over the encoder output (source padding mask) -> feed-forward

Masks are boolean, True where attention is allowed, broadcastable to
(B, H, T, S).
"""
from __future__ import annotations

from typing import Callable

from torch import Tensor, nn

from llmos.nn.kv_cache import CacheStep
from llmos.nn.mha import MultiHeadAttention
from llmos.nn.mlp import MLP
from llmos.nn.norms import LayerNorm

Sublayer = Callable[[Tensor], tuple[Tensor, Tensor | None]]


class Residual(nn.Module):
    """One sub-layer's residual connection, its dropout and its LayerNorm."""

    def __init__(self, d_model: int, dropout: float, norm_first: bool, eps: float):
        super().__init__()
        self.norm = LayerNorm(d_model, eps)
        self.drop = nn.Dropout(dropout)
        self.norm_first = norm_first

    def forward(self, x: Tensor, sublayer: Sublayer) -> tuple[Tensor, Tensor | None]:
        if self.norm_first:
            y, weights = sublayer(self.norm(x))
            return x + self.drop(y), weights
        y, weights = sublayer(x)
        return self.norm(x + self.drop(y)), weights


def _no_weights(f: Callable[[Tensor], Tensor]) -> Sublayer:
    return lambda x: (f(x), None)


class EncoderLayer(nn.Module):
    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.1,
                 activation: str = "relu", norm_first: bool = False, eps: float = 1e-5):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout=dropout)
        self.ffn = MLP(d_model, d_ff, act=activation, dropout=dropout)
        self.res1 = Residual(d_model, dropout, norm_first, eps)
        self.res2 = Residual(d_model, dropout, norm_first, eps)

    def forward(self, x: Tensor, mask: Tensor | None,
                need_weights: bool = False) -> tuple[Tensor, Tensor | None]:
        """x (B, S, C); mask (B, 1, 1, S) True at real source tokens."""
        x, weights = self.res1(x, lambda h: self.self_attn(h, mask=mask, need_weights=need_weights))
        x, _ = self.res2(x, _no_weights(self.ffn))
        return x, weights


class DecoderLayer(nn.Module):
    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.1,
                 activation: str = "relu", norm_first: bool = False, eps: float = 1e-5):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout=dropout)
        self.cross_attn = MultiHeadAttention(d_model, n_heads, dropout=dropout)
        self.ffn = MLP(d_model, d_ff, act=activation, dropout=dropout)
        self.res1 = Residual(d_model, dropout, norm_first, eps)
        self.res2 = Residual(d_model, dropout, norm_first, eps)
        self.res3 = Residual(d_model, dropout, norm_first, eps)

    def forward(self, x: Tensor, memory: Tensor | tuple[Tensor, Tensor], self_mask: Tensor | None,
                cross_mask: Tensor | None, cache: CacheStep | None = None, layer: int = 0,
                need_weights: bool = False) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """x (B, T, C) target; memory: encoder output (B, S, C), or its cross-attention
        keys/values (each (B, H, S, D)) already projected by `cross_attn.project_kv`.

        self_mask: None means plain causal; else (B, 1, T, T_all) with the causal part included.
        cache: with a KV-cache step, self-attention appends this call's keys and reads all.
        Returns (x, self-attention weights, cross-attention weights).
        """
        kv = memory if isinstance(memory, tuple) else None
        context = None if kv is not None else memory
        x, w_self = self.res1(x, lambda h: self.self_attn(
            h, mask=self_mask, is_causal=self_mask is None, cache=cache, layer=layer,
            need_weights=need_weights))
        x, w_cross = self.res2(x, lambda h: self.cross_attn(
            h, context, mask=cross_mask, kv=kv, need_weights=need_weights))
        x, _ = self.res3(x, _no_weights(self.ffn))
        return x, w_self, w_cross


class Encoder(nn.Module):
    """N encoder layers, then the final LayerNorm (when `final_norm`)."""

    def __init__(self, n_layers: int, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.1,
                 activation: str = "relu", norm_first: bool = False, eps: float = 1e-5,
                 final_norm: bool = True):
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(d_model, n_heads, d_ff, dropout, activation, norm_first, eps)
                                    for _ in range(n_layers))
        self.norm = LayerNorm(d_model, eps) if final_norm else nn.Identity()

    def forward(self, x: Tensor, mask: Tensor | None,
                need_weights: bool = False) -> tuple[Tensor, list[Tensor]]:
        weights = []
        for layer in self.layers:
            x, w = layer(x, mask, need_weights)
            if need_weights:
                weights.append(w)
        return self.norm(x), weights


class Decoder(nn.Module):
    """N decoder layers, then the final LayerNorm (when `final_norm`)."""

    def __init__(self, n_layers: int, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.1,
                 activation: str = "relu", norm_first: bool = False, eps: float = 1e-5,
                 final_norm: bool = True):
        super().__init__()
        self.layers = nn.ModuleList(DecoderLayer(d_model, n_heads, d_ff, dropout, activation, norm_first, eps)
                                    for _ in range(n_layers))
        self.norm = LayerNorm(d_model, eps) if final_norm else nn.Identity()

    def forward(self, x: Tensor, memory: Tensor | list[tuple[Tensor, Tensor]], self_mask: Tensor | None,
                cross_mask: Tensor | None, cache: CacheStep | None = None,
                need_weights: bool = False) -> tuple[Tensor, list[Tensor], list[Tensor]]:
        """memory: the encoder output (B, S, C), or one projected (k, v) pair per layer."""
        w_self, w_cross = [], []
        for i, layer in enumerate(self.layers):
            mem = memory[i] if isinstance(memory, list) else memory
            x, ws, wc = layer(x, mem, self_mask, cross_mask, cache, i, need_weights)
            if need_weights:
                w_self.append(ws)
                w_cross.append(wc)
        return self.norm(x), w_self, w_cross
