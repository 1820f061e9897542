"""Causal tracing (Meng et al. 2022, ROME, sec. 2 and fig. 1): where a model recalls a fact.

Three runs of one prompt, e.g. "Kalo Ramive plays the sport of" -> tennis:

    clean      as is:                               p* = P(tennis)
    corrupted  the subject's token embeddings get Gaussian noise, nu ~ N(0, (3 sigma)^2),
               sigma = the standard deviation of the model's token embeddings:   p_c
    restored   corrupted, but one internal state put back to its clean value:    p_r

The indirect effect of that state is p_r - p_c. Restored states are:
    * the hidden state (residual stream after block l) at token t, every (t, l);
    * the MLP outputs of blocks l - w/2 .. l + w/2 - 1 at token t (a window of w layers);
    * the attention outputs over the same window.
Each effect is averaged over several noise samples (they run as one batch).
ROME finds the MLP effect peaking at the last subject token in middle layers,
and the attention effect at the last token in late layers.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch
from torch import Tensor

from llmos.train.plots import save_figure

KINDS = ("hidden", "mlp", "attn")
SITE = {"hidden": "hook_resid_post", "mlp": "hook_mlp_out", "attn": "hook_attn_out"}


@dataclass
class Trace:
    effects: dict[str, Tensor]       # kind -> (T, L) p_r - p_c, averaged over noise samples
    clean_prob: float                # p*
    corrupt_prob: float              # p_c
    subject: tuple[int, int]         # [start, end) token span of the subject
    tokens: list[str]
    window: int


def embedding_std(model) -> float:
    """sigma: the standard deviation of the token embedding entries."""
    return float(model.tok_emb.weight.detach().float().std())


@torch.no_grad()
def causal_trace(model, ids: Sequence[int], subject: tuple[int, int], answer: int, *, samples: int = 10,
                 noise: float = 3.0, window: int = 3, seed: int = 0,
                 tokens: Sequence[str] | None = None, kinds: Sequence[str] = KINDS) -> Trace:
    """Trace one prompt (ids) whose subject spans tokens [start, end) and whose answer is `answer`."""
    start, end = subject
    ids = torch.as_tensor(list(ids), dtype=torch.long)[None]
    t, n_layers = ids.shape[1], model.config.n_layers
    if not 0 <= start < end <= t:
        raise ValueError(f"subject span [{start}, {end}) is outside the prompt's {t} tokens")
    if window < 1 or window > n_layers:
        raise ValueError(f"window={window} must be between 1 and the model's {n_layers} layers")
    model.eval()
    device = next(model.parameters()).device
    ids = ids.to(device)
    names = [f"blocks.{l}.{SITE[k]}" for k in kinds for l in range(n_layers)]
    clean_logits, clean = model.run_with_cache(ids, names_filter=names)
    clean_prob = float(torch.softmax(clean_logits[0, -1].float(), -1)[answer])
    gen = torch.Generator().manual_seed(seed)
    nu = torch.randn(samples, end - start, model.config.d_model, generator=gen).to(device)
    nu = nu * noise * embedding_std(model)                                   # (S, n_subj, C)

    def corrupt(x, hook):                                                   # x (R * S, T, C)
        x = x.clone()
        x[:, start:end] += nu.repeat(x.shape[0] // samples, 1, 1).to(x.dtype)
        return x

    def probs(rows: int, extra=()) -> Tensor:
        """(rows,) P(answer), each row averaged over the S noise samples."""
        logits = model.run_with_hooks(ids.expand(rows * samples, -1), [("hook_embed", corrupt), *extra],
                                      last_only=True)
        return torch.softmax(logits[:, -1].float(), -1)[:, answer].reshape(rows, samples).mean(1).cpu()

    corrupt_prob = float(probs(1)[0])
    effects = {}
    for kind in kinds:
        grid = torch.zeros(t, n_layers)
        for layer in range(n_layers):
            if kind == "hidden":
                layers = [layer]
            else:                                                            # a window centred on layer
                lo = max(0, min(layer - window // 2, n_layers - window))
                layers = list(range(lo, lo + window))
            # one batch for all positions: rows p*S .. (p+1)*S - 1 restore position p
            hooks = [(f"blocks.{l}.{SITE[kind]}", _restore(clean[f"blocks.{l}.{SITE[kind]}"], samples))
                     for l in layers]
            grid[:, layer] = probs(t, hooks) - corrupt_prob
        effects[kind] = grid
    return Trace(effects, clean_prob, corrupt_prob, subject, list(tokens or map(str, ids[0].tolist())), window)


def _restore(clean: Tensor, samples: int):
    """Hook: batch rows p*S .. (p+1)*S - 1 get position p's clean value."""
    t = clean.shape[1]
    rows = torch.arange(t * samples, device=clean.device)
    pos = rows // samples

    def put(x, hook):
        x = x.clone()
        x[rows, pos] = clean[0, pos]
        return x
    return put


def average_by_role(traces: Sequence[Trace]) -> dict[str, Tensor]:
    """ROME's averaged figure: kind -> (6, L) effects at the token roles

    first subject token, middle subject tokens, last subject token, first subsequent
    token, further tokens, last token (rows with no such token in a prompt are skipped).
    """
    roles = ROLES
    out = {}
    for kind in traces[0].effects:
        total = torch.zeros(len(roles), traces[0].effects[kind].shape[1])
        count = torch.zeros(len(roles), 1)
        for tr in traces:
            for r, rows in enumerate(role_rows(tr)):
                if rows:
                    total[r] += tr.effects[kind][rows].mean(0)
                    count[r] += 1
        out[kind] = total / count.clamp(min=1)
    return out


ROLES = ["first subject token", "middle subject tokens", "last subject token",
         "first subsequent token", "further tokens", "last token"]


def role_rows(tr: Trace) -> list[list[int]]:
    start, end = tr.subject
    t = len(tr.tokens)
    after = list(range(end, t - 1))
    return [[start], list(range(start + 1, end - 1)), [end - 1], after[:1], after[1:], [t - 1]]


def plot_trace(effects: dict[str, Tensor], row_labels: Sequence[str], out: str | Path, title: str,
               window: int) -> Path:
    """Three heatmaps side by side: hidden state, MLP (window), attention (window)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = {"hidden": ("single restored layer", "Purples"), "mlp": (f"MLP, window of {window}", "Greens"),
             "attn": (f"attention, window of {window}", "Reds")}
    kinds = [k for k in KINDS if k in effects]
    rows = len(row_labels)
    fig, axes = plt.subplots(1, len(kinds), figsize=(4.2 * len(kinds), 1.2 + 0.32 * rows), squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        v = effects[kind].numpy()
        im = ax.imshow(v, cmap=names[kind][1], aspect="auto", vmin=min(0.0, float(v.min())))
        ax.set_yticks(range(rows), list(row_labels), fontsize=7)
        ax.set_xlabel("layer")
        ax.set_title(f"restoring {names[kind][0]}", fontsize=9)
        fig.colorbar(im, ax=ax, label="p(answer) restored - corrupted")
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, out)
