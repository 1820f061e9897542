"""Attention for a recurrent decoder: score every encoder state against the decoder's.

At each output step the decoder state s (B, H) scores each encoder state h_j
(B, S, E); a softmax over j (padding masked out) gives weights a_j, and the
context vector is c = sum_j a_j h_j. Two scoring functions:

- Bahdanau et al. (2015), additive ("concat"):  e_j = v^T tanh(W_s s + W_h h_j)
- Luong et al. (2015), multiplicative ("general"): e_j = s^T W h_j

The encoder-side projection (W_h h_j, or W h_j) does not depend on the decoder
step, so `prepare` computes it once per source sentence and every step reuses it.
"""
from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn


class RNNAttention(nn.Module):
    def __init__(self, decoder_dim: int, encoder_dim: int, kind: Literal["bahdanau", "luong"] = "bahdanau",
                 attention_dim: int | None = None):
        super().__init__()
        if kind not in ("bahdanau", "luong"):
            raise ValueError(f"attention kind must be 'bahdanau' or 'luong', got {kind!r}")
        self.kind = kind
        if kind == "bahdanau":
            a = attention_dim or decoder_dim
            self.W_h = nn.Linear(encoder_dim, a, bias=False)
            self.W_s = nn.Linear(decoder_dim, a, bias=True)
            self.v = nn.Linear(a, 1, bias=False)
        else:
            self.W = nn.Linear(encoder_dim, decoder_dim, bias=False)

    def prepare(self, memory: Tensor) -> Tensor:
        """memory (B, S, E) -> keys (B, S, A): the step-independent half of the score."""
        return self.W_h(memory) if self.kind == "bahdanau" else self.W(memory)

    def forward(self, s: Tensor, keys: Tensor, memory: Tensor, src_padding_mask: Tensor | None
                ) -> tuple[Tensor, Tensor]:
        """s (B, H) -> context (B, E), weights (B, S)."""
        if self.kind == "bahdanau":
            scores = self.v(torch.tanh(keys + self.W_s(s)[:, None, :])).squeeze(-1)   # (B, S)
        else:
            scores = torch.bmm(keys, s[:, :, None]).squeeze(-1)                      # (B, S)
        if src_padding_mask is not None:
            scores = scores.masked_fill(src_padding_mask, float("-inf"))
        weights = torch.softmax(scores, dim=-1)                                       # (B, S)
        context = torch.bmm(weights[:, None, :], memory).squeeze(1)                   # (B, E)
        return context, weights
