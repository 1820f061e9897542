"""Position-wise feed-forward networks.

GELU MLP (GPT-2, BERT):   FFN(x) = W2 act(W1 x + b1) + b2
SwiGLU (Shazeer 2020):    FFN(x) = W_down (silu(W_gate x) * W_up x)     (Llama family)
ReLU MLP is the 2017 Transformer's: act = max(0, .).
"""
from __future__ import annotations

import math

from torch import Tensor, nn

from llmos.nn.hooks import HookPoint, fire
from llmos.nn.linear import Linear

ACTIVATIONS = {
    "relu": nn.functional.relu,
    "gelu": nn.functional.gelu,                                   # exact, erf form (BERT)
    "gelu_tanh": lambda x: nn.functional.gelu(x, approximate="tanh"),  # GPT-2's "gelu_new"
    "silu": nn.functional.silu,
}


def activation(name: str):
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}") from None


class MLP(nn.Module):
    """Two linear layers with an activation between them."""

    def __init__(self, d_model: int, d_ff: int, act: str = "gelu", bias: bool = True,
                 dropout: float = 0.0):
        super().__init__()
        self.fc_in = Linear(d_model, d_ff, bias=bias)
        self.fc_out = Linear(d_ff, d_model, bias=bias)
        self.act = activation(act)
        self.dropout = nn.Dropout(dropout)
        self.hook_points: dict[str, HookPoint] = {}               # see nn/hooks.py; empty = no cost

    HOOK_SITES = ("hook_pre", "hook_post")

    def forward(self, x: Tensor) -> Tensor:                    # (B, T, C) -> (B, T, C)
        if not self.hook_points:
            return self.fc_out(self.dropout(self.act(self.fc_in(x))))
        pre = fire(self.hook_points, "hook_pre", self.fc_in(x))                # (B, T, F)
        post = fire(self.hook_points, "hook_post", self.act(pre))              # (B, T, F)
        return self.fc_out(self.dropout(post))


class SwiGLU(nn.Module):
    """Gated feed-forward: down(silu(gate(x)) * up(x))."""

    def __init__(self, d_model: int, d_ff: int, bias: bool = False, act: str = "silu"):
        super().__init__()
        self.gate_proj = Linear(d_model, d_ff, bias=bias)
        self.up_proj = Linear(d_model, d_ff, bias=bias)
        self.down_proj = Linear(d_ff, d_model, bias=bias)
        self.act = activation(act)
        self.hook_points: dict[str, HookPoint] = {}               # see nn/hooks.py; empty = no cost

    HOOK_SITES = ("hook_pre", "hook_pre_linear", "hook_post")

    def forward(self, x: Tensor) -> Tensor:                    # (..., C) -> (..., C)
        if not self.hook_points:
            return self.down_proj(self.act(self.gate_proj(x)) * self.up_proj(x))
        hooked = self.hook_points
        gate = fire(hooked, "hook_pre", self.gate_proj(x))                      # (..., F)
        up = fire(hooked, "hook_pre_linear", self.up_proj(x))                   # (..., F)
        return self.down_proj(fire(hooked, "hook_post", self.act(gate) * up))


def swiglu_hidden(d_model: int, multiple_of: int = 64) -> int:
    """Llama's sizing: 2/3 of 4d, rounded up, so SwiGLU costs what a 4d GELU MLP costs."""
    hidden = int(2 * 4 * d_model / 3)
    return multiple_of * math.ceil(hidden / multiple_of)

