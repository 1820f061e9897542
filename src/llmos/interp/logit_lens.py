"""Logit lens (nostalgebraist 2020): decode the residual stream after every layer.

    logits_l = Norm_f(x_l) W_U        x_l = residual stream entering block l (x_L = the last one's output)

Norm_f is the model's own final norm, applied with x_l's own statistics, and
W_U its unembedding; the last row is the model's real output. Reading down
the layers shows when the answer appears.

    lens = logit_lens(model, ids, answer=answer_id, k=5)
    lens.top_ids[l, t]        # the k likeliest next tokens at layer l, position t
    lens.answer_prob[l, t]    # P(answer) there
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch
from torch import Tensor

from llmos.nn.activation_cache import ActivationCache
from llmos.train.plots import save_figure


def lens_logits(model, cache: ActivationCache) -> Tensor:
    """(L + 1, B, T, V): every layer's residual stream through the final norm and the unembedding."""
    return model.lm_head(cache.accumulated_resid(apply_ln=True))


@dataclass
class LensResult:
    probs: Tensor            # (L + 1, T, V) next-token probabilities read at each layer
    top_ids: Tensor          # (L + 1, T, k)
    top_probs: Tensor        # (L + 1, T, k)
    answer_prob: Tensor | None   # (L + 1, T) P(answer), when an answer was given
    labels: list[str]        # row names: "0_pre" .. "final_post"


@torch.no_grad()
def logit_lens(model, ids: Sequence[int] | Tensor, answer: int | None = None, k: int = 5) -> LensResult:
    """The lens of one prompt (token ids): top-k per layer and position, and P(answer)."""
    ids = torch.as_tensor(ids, dtype=torch.long).reshape(1, -1).to(next(model.parameters()).device)
    was = model.training
    model.eval()
    try:
        names = lambda n: n.endswith(("hook_resid_pre", "hook_resid_post"))  # noqa: E731
        _, cache = model.run_with_cache(ids, names_filter=names)
        stack, labels = cache.accumulated_resid(apply_ln=True, return_labels=True)
        probs = torch.softmax(model.lm_head(stack)[:, 0].float(), dim=-1).cpu()   # (L+1, T, V)
    finally:
        model.train(was)
    top = probs.topk(min(k, probs.shape[-1]), dim=-1)
    answer_prob = probs[..., answer] if answer is not None else None
    return LensResult(probs, top.indices, top.values, answer_prob, labels)


def plot_logit_lens(lens: LensResult, tokens: Sequence[str], decode, out: str | Path,
                    title: str = "logit lens") -> Path:
    """Heatmap of layers x positions: colour = P(answer) (or the top-1 probability), text = the top-1 token."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = lens.answer_prob if lens.answer_prob is not None else lens.top_probs[..., 0]
    n_rows, t = values.shape
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * t, 0.9 + 0.45 * n_rows))
    im = ax.imshow(values.numpy(), cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto", origin="lower")
    for r in range(n_rows):
        for c in range(t):
            word = decode(int(lens.top_ids[r, c, 0]))[:8]
            ax.text(c, r, word, ha="center", va="center", fontsize=7,
                    color="white" if values[r, c] > 0.6 else "black")
    ax.set_xticks(range(t), list(tokens), rotation=60, fontsize=7)
    ax.set_yticks(range(n_rows), lens.labels, fontsize=7)
    ax.set_xlabel("input position (the lens predicts the next token)")
    ax.set_ylabel("residual stream")
    fig.colorbar(im, ax=ax, label="P(answer)" if lens.answer_prob is not None else "P(top-1)")
    ax.set_title(title, fontsize=9)
    return save_figure(fig, out)
