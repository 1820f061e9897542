"""Pictures of where a model looks: attention maps of one prompt, layers x heads.

Panel (l, h) is head h of layer l: row i is query token i, column j is key
token j, and the colour is the attention weight softmax(q_i k_j / sqrt(d))
(each row sums to 1; a causal model leaves the upper triangle empty). Patterns
worth looking for: a diagonal (attend to self), a sub-diagonal (the previous
token), a bright first column (an "attention sink" on the first token), and
stripes that follow repeated words (induction heads).

    pic = save_attention_maps(model, "The cat sat on the mat", tokenizer, "maps.png")
    pic.weights      # (L, H, T, T) exactly the numbers drawn

Each panel has its own colour scale (0 to that panel's largest weight), so a
head whose weights are spread thin still shows its pattern.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from llmos.nn.eval_mode import eval_mode


@dataclass
class AttentionPicture:
    path: Path
    weights: np.ndarray          # (rows, cols, T, T): the maps drawn, in grid order
    tokens: list[str]            # axis labels
    layers: list[int]            # the layer of each grid row
    heads: list[int]             # the head of each grid column
    grid: tuple[int, int]        # (rows, cols) of panels in the saved figure


@torch.no_grad()
def attention_weights(model: torch.nn.Module, ids: Sequence[int] | torch.Tensor) -> torch.Tensor:
    """One prompt's attention weights in every layer: (L, H, T, T), float32 on the CPU."""
    ids = torch.as_tensor(ids, dtype=torch.long).reshape(1, -1)
    device = next(model.parameters()).device
    with eval_mode(model):
        out = model(ids.to(device), need_weights=True)
    return torch.stack([w[0] for w in out.attentions]).float().cpu()     # (L, H, T, T)


def token_labels(ids: Sequence[int], tokenizer: Any = None, max_chars: int = 12) -> list[str]:
    """Readable labels: each token decoded alone, spaces and newlines made visible."""
    labels = []
    for i in ids:
        text = tokenizer.decode([int(i)]) if tokenizer is not None else str(int(i))
        text = text.replace("\n", "\u21b5").replace("\t", "\u21e5").replace(" ", "\u2423") or "\u2205"
        labels.append(text if len(text) <= max_chars else text[: max_chars - 1] + "\u2026")
    return labels


def _pick(chosen: Sequence[int] | None, n: int, what: str) -> list[int]:
    if not chosen:
        return list(range(n))
    bad = [c for c in chosen if not 0 <= c < n]
    if bad:
        raise ValueError(f"{what} {bad} out of range: the model has {n} {what}s (0..{n - 1})")
    return list(chosen)


def plot_attention_maps(weights: torch.Tensor | np.ndarray, tokens: Sequence[str], out: str | Path,
                        layers: Sequence[int] | None = None, heads: Sequence[int] | None = None,
                        title: str | None = None, dpi: int = 100) -> AttentionPicture:
    """Save a grid of attention maps (rows = layers, columns = heads) as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = np.asarray(weights, dtype=np.float32)
    if w.ndim != 4 or w.shape[2] != w.shape[3]:
        raise ValueError(f"weights must be (layers, heads, T, T), got shape {w.shape}")
    n_layers, n_heads, t, _ = w.shape
    if len(tokens) != t:
        raise ValueError(f"{len(tokens)} token labels for {t} positions; give one label per token")
    layers, heads = _pick(layers, n_layers, "layer"), _pick(heads, n_heads, "head")
    drawn = w[np.ix_(layers, heads)]                                          # (rows, cols, T, T)

    # Sizes in inches. Every panel shares the same tokens, so only the left column and
    # the bottom row carry labels.
    panel, gap_x, gap_y, top, right = 0.6 + 0.09 * t, 0.15, 0.3, 0.6, 0.15
    label = 0.2 + 0.065 * max(len(s) for s in tokens)
    rows, cols = len(layers), len(heads)
    width = label + cols * panel + (cols - 1) * gap_x + right
    height = top + rows * panel + (rows - 1) * gap_y + label
    fig = plt.figure(figsize=(width, height))
    axes = fig.subplots(rows, cols, squeeze=False, gridspec_kw=dict(
        left=label / width, right=1 - right / width, bottom=label / height, top=1 - top / height,
        wspace=gap_x / panel, hspace=gap_y / panel))
    step = max(1, math.ceil(t / 40))                        # past ~40 tokens, label every step-th
    ticks = list(range(0, t, step))
    names = [tokens[i] for i in ticks]
    for r, layer in enumerate(layers):
        for c, head in enumerate(heads):
            ax = axes[r, c]
            m = drawn[r, c]
            ax.imshow(m, cmap="viridis", vmin=0.0, vmax=max(float(m.max()), 1e-9), interpolation="nearest")
            ax.set_title(f"layer {layer}  head {head}", fontsize=7, pad=3)
            ax.set_axis_off()                                # plain text labels draw far faster than ticks
            if r == rows - 1:
                for i, name in zip(ticks, names):
                    ax.text(i, t - 0.3, name, rotation=90, ha="center", va="top", fontsize=6)
            if c == 0:
                for i, name in zip(ticks, names):
                    ax.text(-0.7, i, name, ha="right", va="center", fontsize=6)
    fig.suptitle(title or "attention weights (rows: query tokens, columns: key tokens)", fontsize=10,
                 y=1 - 0.15 / height, va="top")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    grid = axes.shape
    plt.close(fig)
    return AttentionPicture(out, drawn, list(tokens), layers, heads, (int(grid[0]), int(grid[1])))


def save_attention_maps(model: torch.nn.Module, prompt: str | Sequence[int], tokenizer: Any = None,
                        out: str | Path = "attention.png", layers: Sequence[int] | None = None,
                        heads: Sequence[int] | None = None, tokens: Sequence[str] | None = None) -> AttentionPicture:
    """Run `prompt` (text, with a tokenizer, or token ids) through a CausalLM and save its maps.

    Labels come from `tokens` when given, else from the tokenizer, else the ids.
    """
    if isinstance(prompt, str):
        if tokenizer is None:
            raise ValueError("a text prompt needs a tokenizer; pass one, or pass token ids")
        ids = list(tokenizer.encode(prompt))
    else:
        ids = [int(i) for i in prompt]
    if not ids:
        raise ValueError("the prompt is empty; give at least one token")
    weights = attention_weights(model, ids)
    labels = list(tokens) if tokens is not None else token_labels(ids, tokenizer)
    return plot_attention_maps(weights, labels, out, layers, heads,
                               title=f"attention maps of {len(ids)} tokens")
