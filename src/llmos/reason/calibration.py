"""How far to trust a confidence: expected calibration error and the reliability diagram.

    ECE = sum over bins b of (n_b / N) * | accuracy_b - mean confidence_b |

with equal-width confidence bins (Guo et al. 2017). A calibrated model's
answers given with confidence 0.7 are right 70% of the time; the reliability
diagram plots accuracy against confidence per bin, on the diagonal when
calibrated. `selective` gives the accuracy and coverage of answering only
above each threshold (the rest: "I don't know").
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Bin:
    lo: float
    hi: float
    count: int
    confidence: float            # mean confidence in the bin
    accuracy: float


def reliability(confidences: list[float], correct: list[bool], n_bins: int = 10) -> list[Bin]:
    if len(confidences) != len(correct):
        raise ValueError(f"{len(confidences)} confidences for {len(correct)} outcomes")
    bins = []
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        idx = [i for i, c in enumerate(confidences) if lo <= c < hi or (b == n_bins - 1 and c == 1.0)]
        if idx:
            bins.append(Bin(lo, hi, len(idx), sum(confidences[i] for i in idx) / len(idx),
                            sum(correct[i] for i in idx) / len(idx)))
    return bins


def ece(confidences: list[float], correct: list[bool], n_bins: int = 10) -> float:
    n = len(confidences)
    if n == 0:
        raise ValueError("ECE of nothing: give at least one prediction")
    return sum(b.count / n * abs(b.accuracy - b.confidence) for b in reliability(confidences, correct, n_bins))


def selective(confidences: list[float], correct: list[bool], thresholds: list[float]) -> list[dict]:
    """For each threshold: the share answered (coverage) and the accuracy on those answered."""
    out = []
    for t in thresholds:
        kept = [ok for c, ok in zip(confidences, correct) if c >= t]
        out.append({"threshold": t, "coverage": len(kept) / max(len(correct), 1),
                    "accuracy": sum(kept) / len(kept) if kept else None})
    return out


def plot_reliability(confidences: list[float], correct: list[bool], path: str | Path, title: str = "",
                     n_bins: int = 10) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = reliability(confidences, correct, n_bins)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], "--", color="grey", label="calibrated")
    ax.bar([(b.lo + b.hi) / 2 for b in bins], [b.accuracy for b in bins], width=1 / n_bins, alpha=0.6,
           edgecolor="black", label="accuracy per bin")
    ax.plot([b.confidence for b in bins], [b.accuracy for b in bins], "o-", color="C3", label="(confidence, accuracy)")
    ax.set_xlabel("confidence (vote share)")
    ax.set_ylabel("accuracy")
    ax.set_title(title or f"reliability, ECE {ece(confidences, correct, n_bins):.3f}")
    ax.legend(fontsize=8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
