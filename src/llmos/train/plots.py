"""The loss-curve picture of a run, drawn from its `metrics.jsonl`."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from llmos.train.metrics import read_metrics  # noqa: E402


def plot_loss(metrics_path: str | Path, png_path: str | Path, title: str = "",
              baseline: float | None = None, baseline_label: str = "unigram entropy") -> Path:
    """Training and validation loss against step (and, for MoE, the router's aux loss)."""
    rows = read_metrics(metrics_path)
    train = [r for r in rows if r["kind"] == "train"]
    evals = [r for r in rows if r["kind"] == "eval" and "val_loss" in r]
    moe = [r for r in train if r.get("aux_loss") is not None]
    fig, axes = plt.subplots(1, 2 if moe else 1, figsize=(11 if moe else 7, 4.2), squeeze=False)
    ax = axes[0][0]
    if train:
        ax.plot([r["step"] for r in train], [r["loss"] for r in train], lw=1, alpha=0.8, label="train loss")
    if evals:
        ax.plot([r["step"] for r in evals], [r["val_loss"] for r in evals], "o-", ms=4, label="val loss")
    if baseline is not None:
        ax.axhline(baseline, color="grey", ls="--", lw=1, label=f"{baseline_label} ({baseline:.2f})")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats / token)")
    ax.set_title(title or "loss")
    ax.grid(alpha=0.3)
    ax.legend()
    if moe:
        ax2 = axes[0][1]
        ax2.plot([r["step"] for r in moe], [r["aux_loss"] for r in moe], lw=1)
        ax2.set_xlabel("step")
        ax2.set_ylabel("router aux loss (weighted)")
        ax2.set_title("mixture of experts: load-balancing + z loss")
        ax2.grid(alpha=0.3)
    return save_figure(fig, png_path)


def save_figure(fig, out: str | Path) -> Path:
    """Lay out `fig`, write it to `out` as a PNG (making the folder), close it, and return the path."""
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
