"""Ways to tell a transformer where each token is.

Sinusoidal (Vaswani et al. 2017, sec. 3.5):
    PE(pos, 2i) = sin(pos / 10000^(2i/d)),  PE(pos, 2i+1) = cos(pos / 10000^(2i/d))
Learned: a trained table of vectors, one per position (GPT-2, BERT).
Rotary (RoPE, Su et al. 2021): rotate each pair of query/key features by an
angle pos * theta^(-2i/d), so q.k depends only on the distance between them.

Rotary comes in two layouts. The Hugging Face layout (Llama, Mistral, Qwen2,
Mixtral checkpoints) pairs feature i with feature i + d/2 ("rotate half");
the original layout pairs neighbours (2i, 2i+1). Llama 3 adds a frequency
rescaling for long contexts (`rope_scaling={"rope_type": "llama3", ...}`).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def sinusoidal_table(max_len: int, dim: int) -> Tensor:
    """(max_len, dim) table of sin/cos position codes."""
    pos = torch.arange(max_len, dtype=torch.float32)[:, None]                  # (T, 1)
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(max_len, dim)
    table[:, 0::2] = torch.sin(pos * div)
    table[:, 1::2] = torch.cos(pos * div[: dim // 2])
    return table


class SinusoidalPositions(nn.Module):
    def __init__(self, max_len: int, dim: int):
        super().__init__()
        self.register_buffer("table", sinusoidal_table(max_len, dim), persistent=False)

    def forward(self, positions: Tensor) -> Tensor:           # (B, T) -> (B, T, C)
        return self.table[positions]


class LearnedPositions(nn.Module):
    def __init__(self, max_len: int, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(max_len, dim))
        nn.init.normal_(self.weight, std=0.01)

    def forward(self, positions: Tensor) -> Tensor:           # (B, T) -> (B, T, C)
        return nn.functional.embedding(positions, self.weight)


def rope_frequencies(head_dim: int, theta: float = 10000.0, scaling: dict | None = None) -> Tensor:
    """Inverse frequencies theta^(-2i/d), i = 0 .. d/2 - 1, optionally rescaled."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    if not scaling:
        return inv_freq
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind == "default":
        return inv_freq
    if kind == "linear":                                      # positions / factor
        return inv_freq / scaling["factor"]
    if kind == "llama3":
        factor = scaling["factor"]
        low, high = scaling.get("low_freq_factor", 1.0), scaling.get("high_freq_factor", 4.0)
        old_len = scaling["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv_freq
        scaled = torch.where(wavelen > old_len / low, inv_freq / factor, inv_freq)
        smooth = (old_len / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelen >= old_len / high) & (wavelen <= old_len / low)
        return torch.where(medium, smoothed, scaled)
    raise ValueError(f"unsupported rope_scaling type {kind!r}; supported: default, linear, llama3")


class RotaryEmbedding(nn.Module):
    """Produces cos/sin for given positions and rotates queries and keys."""

    def __init__(self, head_dim: int, theta: float = 10000.0, scaling: dict | None = None,
                 interleaved: bool = False):
        super().__init__()
        self.interleaved = interleaved
        self.register_buffer("inv_freq", rope_frequencies(head_dim, theta, scaling), persistent=False)

    def cos_sin(self, positions: Tensor) -> tuple[Tensor, Tensor]:
        """positions (B, T) -> cos, sin each (B, 1, T, head_dim), in fp32."""
        freqs = positions.float()[..., None] * self.inv_freq   # (B, T, D/2)
        if self.interleaved:
            emb = freqs.repeat_interleave(2, dim=-1)           # (B, T, D): f0 f0 f1 f1 ...
        else:
            emb = torch.cat([freqs, freqs], dim=-1)            # (B, T, D): f0 f1 ... f0 f1 ...
        return emb.cos()[:, None], emb.sin()[:, None]

    def rotate(self, x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
        """x (B, H, T, D): x * cos + rot(x) * sin, where rot turns each pair by 90 degrees."""
        if self.interleaved:
            x1, x2 = x[..., 0::2], x[..., 1::2]
            rot = torch.stack([-x2, x1], dim=-1).flatten(-2)
        else:
            x1, x2 = x.chunk(2, dim=-1)
            rot = torch.cat([-x2, x1], dim=-1)
        return (x.float() * cos + rot.float() * sin).to(x.dtype)
