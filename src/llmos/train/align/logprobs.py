"""Log-probabilities of responses under a causal LM.

The position t's logits predict token t+1, so for a sequence x_0..x_{T-1}

    log p(x_t | x_<t) = log_softmax(logits[t-1])[x_t]              t = 1..T-1
    log pi(y | x)     = sum over response positions t of log p(x_t | x_<t)

DPO, PPO's KL penalty and the frontier's KL estimate all use these sums over
the response tokens only (prompt and padding masked out).

Right padding needs no attention mask: with causal attention a real token never
sees the padding after it, and its position id is its index either way, so the
fused causal kernel runs unmasked.
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from llmos.train.align.data import Batch


def token_logprobs(logits: Tensor, labels: Tensor) -> Tensor:
    """log softmax(logits)[labels]: logits (B, T, V), labels (B, T) -> (B, T), in fp32."""
    b, t, v = logits.shape
    return -F.cross_entropy(logits.float().reshape(b * t, v), labels.reshape(b * t),
                            reduction="none").view(b, t)


def response_token_logprobs(logits: Tensor, batch: Batch) -> tuple[Tensor, Tensor]:
    """Per-token log-probs of each next token and the mask of response tokens, both (B, T-1)."""
    labels = batch.input_ids[:, 1:]                                          # (B, T-1)
    logps = token_logprobs(logits[:, :-1], labels)                           # (B, T-1)
    mask = batch.response_mask[:, 1:].to(logps.dtype)
    return logps * mask, mask


def sequence_logprobs(model, batch: Batch, average: bool = False) -> Tensor:
    """sum_t log pi(y_t | x, y_<t) over each row's response tokens -> (B,).

    `average` divides by the number of response tokens (a per-token mean).
    """
    logits = model(batch.input_ids).logits                                   # (B, T, V)
    logps, mask = response_token_logprobs(logits, batch)
    total = logps.sum(-1)
    return total / mask.sum(-1).clamp(min=1) if average else total


def split_pairs(values: Tensor) -> tuple[Tensor, Tensor]:
    """(2n, ...) values of a concatenated pair batch -> (chosen (n, ...), rejected (n, ...))."""
    n = values.shape[0] // 2
    return values[:n], values[n:]
