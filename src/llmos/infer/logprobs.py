"""Log-probabilities of tokens, and logit bias.

The log-probability reported for a token is the model's own: the log-softmax
of its raw logits at that position,

    logprob(t | x_<i) = z_t - log sum_j exp(z_j),     z = logits at position i - 1

before temperature, penalties, bias or a grammar's mask reshape the sampling
distribution (as vLLM reports them), so evaluation harnesses that score a
text by its logprobs get the model's likelihood whatever the sampling settings.
The top alternatives are the k most likely tokens at that position.

Logit bias (OpenAI's `logit_bias`) adds a number to chosen tokens' logits
before sampling: -100 in practice bans a token, +100 forces it.
"""
from __future__ import annotations

import torch
from torch import Tensor

from llmos.infer.request import TokenLogprob


def token_logprobs(logits: Tensor, tokens: Tensor, top: list[int | None]) -> list[TokenLogprob | None]:
    """For row i: tokens[i]'s logprob under logits[i] (B, V) and the top[i] most likely alternatives;
    None where top[i] is None (that row did not ask)."""
    rows = [i for i, k in enumerate(top) if k is not None]
    out: list[TokenLogprob | None] = [None] * len(top)
    if not rows:
        return out
    idx = torch.tensor(rows, device=logits.device)
    lp = torch.log_softmax(logits[idx].float(), dim=-1)                       # (b, V)
    chosen = lp.gather(-1, tokens[idx].view(-1, 1)).squeeze(-1).tolist()
    k_max = max(top[i] for i in rows)
    best = lp.topk(k_max, dim=-1) if k_max > 0 else None
    for j, i in enumerate(rows):
        alts = []
        if best is not None and top[i] > 0:
            alts = list(zip(best.indices[j, :top[i]].tolist(), best.values[j, :top[i]].tolist()))
        out[i] = TokenLogprob(int(tokens[i]), chosen[j], alts)
    return out


def sequence_logprobs(logits: Tensor, ids: list[int], top: int) -> list[TokenLogprob | None]:
    """Each token of a sequence scored by the logits (T, V) of the positions before it:
    logprob of ids[i] is read at row i - 1; the first token has none (None)."""
    if len(ids) < 2:
        return [None] * len(ids)
    targets = torch.tensor(ids[1:], device=logits.device)
    scored = token_logprobs(logits[:-1], targets, [top] * (len(ids) - 1))
    return [None, *scored]


def bias_tensor(bias: dict[int, float], vocab_size: int, device) -> Tensor:
    """A dense (V,) vector of a sparse {token id: bias} map."""
    dense = torch.zeros(vocab_size, device=device)
    if bias:
        dense[torch.tensor(list(bias), device=device)] = torch.tensor(list(bias.values()), device=device)
    return dense


def apply_logit_bias(logits: Tensor, biases: list[dict[int, float] | None]) -> Tensor:
    """logits (B, V) with row i's bias added (rows with None untouched)."""
    if not any(biases):
        return logits
    add = torch.stack([bias_tensor(b or {}, logits.shape[-1], logits.device) for b in biases])   # (B, V)
    return logits.float() + add
