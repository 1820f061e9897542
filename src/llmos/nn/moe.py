"""Mixture-of-experts feed-forward (Shazeer et al. 2017; Switch, Fedus et al. 2021; Mixtral 2024).

A router (gating network) scores each token against E experts; the token goes
to its top-k experts and their outputs are mixed by the renormalized router
probabilities:

    p = softmax(W_r x)                       (E,)
    S = top-k indices of p;   w_i = p_i / sum_{j in S} p_j
    y = sum_{i in S} w_i * Expert_i(x)

Two auxiliary losses keep routing healthy:
    load balance (Switch eq. 4-6):  L_aux = E * sum_i f_i * P_i
        f_i = fraction of routed (token, slot) assignments that chose expert i,
              counted over all k slots (so sum_i f_i = k)
        P_i = mean router probability for expert i over tokens
    router z-loss (ST-MoE, Zoph et al. 2022): L_z = mean_tokens (logsumexp(W_r x))^2

With a capacity factor c, each expert takes at most ceil(c * N * k / E)
assignments per batch of N tokens; the rest are dropped (first choices are
served before second choices, then by token order). A token whose every
assignment was dropped gets a zero update and rides the residual connection.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from llmos.nn.hooks import HookPoint
from llmos.nn.mlp import SwiGLU


@dataclass
class RouterStats:
    """What one MoE layer did with one batch."""
    logits: Tensor             # (N, E) router logits, for the auxiliary losses
    load: Tensor               # (E,) fraction of routed assignments per expert (sums to 1)
    dropped: int               # assignments dropped by the capacity limit
    dropped_tokens: int        # tokens with every assignment dropped (pure residual)
    capacity: int | None       # per-expert capacity, None when unlimited


def load_balancing_loss(router_logits: Tensor | list[Tensor] | tuple[Tensor, ...], n_experts: int,
                        top_k: int, attention_mask: Tensor | None = None) -> Tensor:
    """Switch-style balance loss E * sum_i f_i * P_i, pooled over layers.

    router_logits: one (N, E) tensor per layer (N = B * T tokens) or one stacked tensor.
    attention_mask: optional (B, T) with 0 at padding, which is left out of f and P.
    """
    layers = [router_logits] if isinstance(router_logits, Tensor) else list(router_logits)
    counts = torch.zeros(n_experts, device=layers[0].device)
    prob_sum = torch.zeros(n_experts, device=layers[0].device)
    rows = torch.zeros((), device=layers[0].device)
    for logits in layers:
        probs = torch.softmax(logits.float(), dim=-1)                      # (N, E)
        chosen = probs.topk(top_k, dim=-1).indices                         # (N, k)
        weight = (torch.ones(probs.shape[0], device=probs.device) if attention_mask is None
                  else attention_mask.reshape(-1).float())                 # (N,)
        counts = counts.scatter_add(0, chosen.reshape(-1), weight.repeat_interleave(top_k))
        prob_sum = prob_sum + (probs * weight[:, None]).sum(0)
        rows = rows + weight.sum()
    f, p = counts / rows, prob_sum / rows                                  # (E,), (E,)
    return n_experts * (f * p).sum()


def router_z_loss(router_logits: Tensor | list[Tensor] | tuple[Tensor, ...]) -> Tensor:
    """Mean squared log-partition of the router, pooled over layers (ST-MoE eq. 5)."""
    layers = [router_logits] if isinstance(router_logits, Tensor) else list(router_logits)
    z = torch.cat([torch.logsumexp(x.float(), dim=-1) for x in layers])
    return (z ** 2).mean()


class MoE(nn.Module):
    """Top-k routed SwiGLU experts. forward: (B, T, C) -> ((B, T, C), RouterStats)."""

    def __init__(self, d_model: int, d_ff: int, n_experts: int, top_k: int = 2,
                 capacity_factor: float | None = None, normalize_top_k: bool = True,
                 act: str = "silu", bias: bool = False):
        super().__init__()
        if not 1 <= top_k <= n_experts:
            raise ValueError(f"experts_per_token={top_k} must be between 1 and n_experts={n_experts}")
        self.n_experts, self.top_k = n_experts, top_k
        self.capacity_factor = capacity_factor
        self.normalize_top_k = normalize_top_k
        self.router = nn.Linear(d_model, n_experts, bias=False)
        self.experts = nn.ModuleList(SwiGLU(d_model, d_ff, bias=bias, act=act) for _ in range(n_experts))
        self.hook_points: dict[str, HookPoint] = {}               # see nn/hooks.py; empty = no cost

    HOOK_SITES = ("hook_router_logits",)

    def route(self, x: Tensor, lead: tuple[int, ...] | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """x (N, C) -> logits (N, E), weights (N, k), expert indices (N, k).

        lead: the (B, T) the N tokens came from, so a router-logits hook sees (B, T, E).
        """
        logits = self.router(x)
        point = self.hook_points.get("hook_router_logits") if self.hook_points else None
        if point is not None:
            logits = point(logits.view(*(lead or logits.shape[:1]), -1)).reshape(logits.shape)
        probs = torch.softmax(logits.float(), dim=-1)
        weights, index = probs.topk(self.top_k, dim=-1)
        if self.normalize_top_k:
            weights = weights / weights.sum(-1, keepdim=True)
        return logits, weights.to(x.dtype), index

    def capacity(self, n_tokens: int) -> int | None:
        if self.capacity_factor is None:
            return None
        return max(1, math.ceil(self.capacity_factor * n_tokens * self.top_k / self.n_experts))

    def keep_mask(self, index: Tensor, capacity: int | None) -> Tensor:
        """(N, k) bool: which assignments fit under each expert's capacity.

        Priority: all first choices (slot 0) in token order, then slot 1, ...
        """
        if capacity is None:
            return torch.ones_like(index, dtype=torch.bool)
        order = index.t().reshape(-1)                                          # (k*N,) slot-major
        onehot = nn.functional.one_hot(order, self.n_experts)                  # (k*N, E)
        rank = (onehot.cumsum(0) * onehot).sum(-1) - 1                         # position in its expert's queue
        return (rank < capacity).reshape(self.top_k, -1).t()                   # (N, k)

    def forward(self, x: Tensor) -> tuple[Tensor, RouterStats]:
        shape = x.shape
        flat = x.reshape(-1, shape[-1])                                        # (N, C)
        logits, weights, index = self.route(flat, tuple(shape[:-1]))
        capacity = self.capacity(flat.shape[0])
        keep = self.keep_mask(index, capacity)                                 # (N, k)
        out = torch.zeros_like(flat)
        for e, expert in enumerate(self.experts):
            token, slot = torch.where((index == e) & keep)
            if token.numel() == 0:
                continue
            y = expert(flat[token]) * weights[token, slot, None]              # (n_e, C)
            out.index_add_(0, token, y.to(out.dtype))
        with torch.no_grad():
            counts = torch.bincount(index.reshape(-1), minlength=self.n_experts).float()
            stats = RouterStats(
                logits=logits,
                load=counts / counts.sum(),
                dropped=int((~keep).sum()),
                dropped_tokens=int((~keep).all(-1).sum()),
                capacity=capacity,
            )
        return out.reshape(shape), stats
