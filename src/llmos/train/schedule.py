"""Learning-rate schedules, as functions of the optimizer step.

Warmup + cosine (GPT-3, nanoGPT): rise linearly to `lr`, then follow half a
cosine down to `min_lr` at `decay_steps`, and stay there:

    lr(s) = lr * (s + 1) / warmup                                     s < warmup
    lr(s) = min_lr + (lr - min_lr) * (1 + cos(pi * p)) / 2            p = (s - warmup) / (decay - warmup)

The Transformer paper's schedule (Vaswani et al. 2017, eq. 3) warms up
linearly and then decays with the inverse square root of the step:

    lr(s) = factor * d_model^-0.5 * min(s^-0.5, s * warmup^-1.5)      s counted from 1
"""
from __future__ import annotations

import math


def warmup_cosine(step: int, lr: float, min_lr: float, warmup: int, decay_steps: int) -> float:
    """The learning rate for optimizer step `step` (0-based)."""
    if step < warmup:
        return lr * (step + 1) / warmup
    if step >= decay_steps:
        return min_lr
    progress = (step - warmup) / max(1, decay_steps - warmup)
    return min_lr + (lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


def inverse_sqrt(step: int, d_model: int, warmup: int, factor: float = 1.0) -> float:
    """The 2017 paper's schedule for optimizer step `step` (0-based; the paper counts from 1)."""
    s = step + 1
    return factor * d_model ** -0.5 * min(s ** -0.5, s * warmup ** -1.5)
