"""Activation patching: which activations carry the difference between a clean and a corrupted run.

Run the model on a clean prompt and cache its activations; run it on a
corrupted prompt (same length, one detail changed) with one activation
replaced by its clean value; a metric of the output (e.g. the logit
difference between the clean and the corrupted answer) says how much of the
clean behaviour that one activation restores:

    restored(site, l, t) = (m(patched) - m(corrupt)) / (m(clean) - m(corrupt))     1 = all of it, 0 = none

Sites: the residual stream ("resid_pre", "resid_post"), the attention and
MLP outputs ("attn_out", "mlp_out"), by layer x position; and each head's
output ("z"), by layer x head, over every position at once. The positions of
one layer run as one batch: row i of the batch has position i patched.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from llmos.nn.activation_cache import SHORT_NAMES

Metric = Callable[[Tensor], Tensor]          # logits (N, T, V) -> (N,)
POSITION_SITES = ("resid_pre", "resid_post", "resid_mid", "attn_out", "mlp_out")


def logit_diff(correct: int, wrong: int, position: int = -1) -> Metric:
    """logit[correct] - logit[wrong] at `position` (default the last): the usual patching metric."""
    return lambda logits: logits[:, position, correct] - logits[:, position, wrong]


def answer_prob(answer: int, position: int = -1) -> Metric:
    return lambda logits: torch.softmax(logits[:, position].float(), -1)[:, answer]


def _check(model, clean: Tensor, corrupt: Tensor) -> tuple[Tensor, Tensor]:
    clean = torch.as_tensor(clean, dtype=torch.long).reshape(1, -1)
    corrupt = torch.as_tensor(corrupt, dtype=torch.long).reshape(1, -1)
    if clean.shape != corrupt.shape:
        raise ValueError(f"clean ({clean.shape[1]} tokens) and corrupted ({corrupt.shape[1]} tokens) prompts "
                         "must have the same length; change one word for another of the same token length")
    device = next(model.parameters()).device
    return clean.to(device), corrupt.to(device)


@torch.no_grad()
def patch_by_position(model, clean: Tensor, corrupt: Tensor, metric: Metric,
                      site: str = "resid_pre", normalize: bool = True) -> Tensor:
    """(L, T): the metric with `site` at (layer, position) taken from the clean run."""
    if site not in POSITION_SITES:
        raise ValueError(f"unknown site {site!r}; choose from {', '.join(POSITION_SITES)}")
    clean, corrupt = _check(model, clean, corrupt)
    model.eval()
    names = [f"blocks.{l}.{SHORT_NAMES[site]}" for l in range(model.config.n_layers)]
    clean_logits, cache = model.run_with_cache(clean, names_filter=names)
    t = clean.shape[1]
    rows = torch.arange(t)
    out = torch.zeros(model.config.n_layers, t)
    for layer, name in enumerate(names):
        src = cache[name][0]                                              # (T, C)

        def put(x, hook, src=src):
            x = x.clone()
            x[rows, rows] = src[rows]                                     # batch row i: position i patched
            return x

        out[layer] = metric(model.run_with_hooks(corrupt.expand(t, -1), [(name, put)])).float().cpu()
    return _normalized(model, out, metric, clean_logits, corrupt) if normalize else out


@torch.no_grad()
def patch_heads(model, clean: Tensor, corrupt: Tensor, metric: Metric, normalize: bool = True) -> Tensor:
    """(L, H): the metric with one head's output (hook_z, every position) taken from the clean run."""
    clean, corrupt = _check(model, clean, corrupt)
    model.eval()
    n_layers, n_heads = model.config.n_layers, model.config.n_heads
    names = [f"blocks.{l}.attn.hook_z" for l in range(n_layers)]
    clean_logits, cache = model.run_with_cache(clean, names_filter=names)
    heads = torch.arange(n_heads)
    out = torch.zeros(n_layers, n_heads)
    for layer, name in enumerate(names):
        src = cache[name][0]                                              # (T, H, D)

        def put(z, hook, src=src):
            z = z.clone()                                                 # (H, T, H, D): row h patches head h
            z[heads, :, heads] = src.transpose(0, 1)[heads]
            return z

        out[layer] = metric(model.run_with_hooks(corrupt.expand(n_heads, -1), [(name, put)])).float().cpu()
    return _normalized(model, out, metric, clean_logits, corrupt) if normalize else out


def _normalized(model, raw: Tensor, metric: Metric, clean_logits: Tensor, corrupt: Tensor) -> Tensor:
    m_clean = float(metric(clean_logits))
    m_corrupt = float(metric(model(corrupt).logits))
    span = m_clean - m_corrupt
    if abs(span) < 1e-6:
        raise ValueError("the clean and corrupted prompts give the same metric, so nothing can be restored; "
                         "pick a corruption that changes the answer")
    return (raw - m_corrupt) / span
