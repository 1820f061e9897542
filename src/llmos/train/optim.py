"""AdamW with weight decay only where it regularises.

Decay pulls weights toward zero. That suits the matrices of linear layers,
whose scale is free; it does not suit gains and biases (norm weights,
`Linear` biases: they set a scale or an offset) nor embedding rows (each is
updated only when its token occurs, so decay would shrink rare tokens' rows
most; learned position tables are embeddings too). So: parameters with two
or more dimensions that are not embeddings decay; everything else does not.
A weight tied to an embedding counts as an embedding.
"""
from __future__ import annotations

import torch
from torch import nn


def param_groups(model: nn.Module, weight_decay: float, decay_embeddings: bool = False) -> list[dict]:
    """Two AdamW groups: matrices that decay, and the rest.

    `decay_embeddings` decays embedding tables too, as nanoGPT does (every
    parameter with two or more dimensions)."""
    embedding_params = set() if decay_embeddings else {
        id(p) for m in model.modules() if _is_embedding(m) for p in m.parameters()}
    decay, no_decay, seen = [], [], set()
    for _, p in model.named_parameters():
        if not p.requires_grad or id(p) in seen:
            continue
        seen.add(id(p))
        (decay if p.ndim >= 2 and id(p) not in embedding_params else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


def _is_embedding(module: nn.Module) -> bool:
    """A lookup table: nn.Embedding, or a learned position table (`LearnedPositions`)."""
    return isinstance(module, nn.Embedding) or type(module).__name__.endswith(("Embedding", "Positions"))


def make_adamw(model: nn.Module, lr: float, weight_decay: float, betas: tuple[float, float],
               device_type: str = "cpu", decay_embeddings: bool = False) -> torch.optim.AdamW:
    """AdamW over `param_groups`, with the fused kernel (one pass over each tensor for all of Adam's
    updates) on CUDA and on the CPU, where the per-tensor loop costs a small model
    such as the `char` preset's about a third of its step (see BENCHMARKS.md)."""
    fused = device_type in ("cuda", "cpu")
    return torch.optim.AdamW(param_groups(model, weight_decay, decay_embeddings), lr=lr, betas=betas,
                             fused=fused)
