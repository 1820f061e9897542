"""One heatmap drawer for the analyses (patching, tracing): rows x columns, labelled, saved as PNG."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from llmos.train.plots import save_figure


def save_heatmap(values, out: str | Path, *, row_labels: Sequence[str], col_labels: Sequence[str],
                 title: str, xlabel: str, ylabel: str, cbar: str, cmap: str = "RdBu_r",
                 centre: bool = True, mark: tuple[int, int] | None = None) -> Path:
    """values (rows, cols). centre: a colour scale symmetric about 0 (for signed effects)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    v = np.asarray(values, dtype=np.float32)
    rows, cols = v.shape
    fig, ax = plt.subplots(figsize=(1.6 + 0.45 * cols, 1.2 + 0.35 * rows))
    lim = float(np.abs(v).max()) or 1.0
    im = ax.imshow(v, cmap=cmap, aspect="auto", vmin=-lim if centre else float(v.min()),
                   vmax=lim if centre else float(v.max()))
    ax.set_xticks(range(cols), list(col_labels), rotation=60, fontsize=7)
    ax.set_yticks(range(rows), list(row_labels), fontsize=7)
    if mark is not None:
        ax.add_patch(matplotlib.patches.Rectangle((mark[1] - 0.5, mark[0] - 0.5), 1, 1, fill=False,
                                                  edgecolor="black", linewidth=1.5))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, label=cbar)
    return save_figure(fig, out)
