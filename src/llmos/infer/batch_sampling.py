"""Choosing the next token for every row of a batch, each row with its own settings.

Rows that share settings (temperature, top-k, top-p, repetition penalty) go
through `process_logits` together, so a batch of requests with the usual
settings costs one call. Greedy rows take the argmax. Sampled rows draw with
their own request's seeded generator, so a request's output depends on its
seed only, never on which other requests share the batch: each row draws one
uniform number u from its generator and takes the token where the cumulative
distribution first passes it (inverse transform sampling)

    token = min{ i : sum_{j <= i} p_j > u * sum_j p_j }

which batches as one `searchsorted` over the rows.

OpenAI's frequency and presence penalties lower the logit of each token
already generated, by how often and by whether it appeared:

    logit[t] -= frequency_penalty * count[t] + presence_penalty * (count[t] > 0)
"""
from __future__ import annotations

import dataclasses
from collections import defaultdict

import torch
from torch import Tensor

from llmos.infer.request import Request
from llmos.infer.sampling import process_logits


def apply_count_penalties(logits: Tensor, counts: Tensor, frequency: Tensor, presence: Tensor) -> Tensor:
    """logits (B, V); counts (B, V) times each token was generated; penalties (B, 1)."""
    return logits - frequency * counts - presence * (counts > 0).to(logits.dtype)


def inverse_cdf(probs: Tensor, u: Tensor) -> Tensor:
    """Token ids (B,) from probabilities (B, V) and uniform numbers u (B,) in [0, 1)."""
    cdf = probs.cumsum(-1)                                           # (B, V)
    target = (u.to(cdf) * cdf[:, -1])[:, None]                       # (B, 1)
    # right=True skips tokens of zero probability (their cdf equals the one before)
    return torch.searchsorted(cdf, target, right=True).squeeze(-1).clamp(max=probs.shape[-1] - 1)


def _padded_histories(requests: list[Request], device: torch.device) -> Tensor:
    """(B, T) prompt + generated ids, short rows padded with their own first id
    (a token repeated in the history changes no repetition penalty)."""
    histories = [r.history for r in requests]
    width = max(len(h) for h in histories)
    return torch.tensor([h + [h[0]] * (width - len(h)) for h in histories], device=device)


def sample_batch(logits: Tensor, requests: list[Request], counts: Tensor | None = None) -> Tensor:
    """Next token ids (B,) for logits (B, V), row i following requests[i]'s settings.

    counts (B, V): generated-token counts per row, needed only when some request
    has a frequency or presence penalty.
    """
    logits = logits.float()
    if counts is not None:
        freq = torch.tensor([[r.frequency_penalty] for r in requests], device=logits.device)
        pres = torch.tensor([[r.presence_penalty] for r in requests], device=logits.device)
        logits = apply_count_penalties(logits, counts, freq, pres)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, r in enumerate(requests):
        groups[r.sampling_key].append(i)
    if len(groups) == 1:
        return _sample_group(logits, requests)
    out = torch.empty(len(requests), dtype=torch.long, device=logits.device)
    for rows in groups.values():
        idx = torch.tensor(rows, device=logits.device)
        out[idx] = _sample_group(logits[idx], [requests[i] for i in rows])
    return out


def _sample_group(logits: Tensor, requests: list[Request]) -> Tensor:
    """Rows that share one set of settings: logits (b, V) -> ids (b,)."""
    gen = requests[0].gen
    history = _padded_histories(requests, logits.device) if gen.repetition_penalty != 1.0 else None
    processed = process_logits(logits, history, gen)
    if gen.greedy:
        return processed.argmax(-1)
    u = torch.tensor([torch.rand((), generator=r.generator).item() for r in requests])
    probs = processed.softmax(-1)
    tokens = inverse_cdf(probs, u.to(logits.device))
    # a temperature so small that logits / T overflows leaves no distribution: its limit is greedy
    overflow = ~probs.isfinite().all(-1)
    if overflow.any():
        greedy = process_logits(logits, history, dataclasses.replace(gen, temperature=0.0)).argmax(-1)
        tokens = torch.where(overflow, greedy, tokens)
    return tokens
