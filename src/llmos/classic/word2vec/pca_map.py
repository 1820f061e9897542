"""A 2-D map of chosen words: their vectors projected on the first two principal components.

PCA finds the two orthogonal directions along which the chosen vectors vary
most: centre the rows, take the SVD X = U S V^T, and keep X V[:, :2]. Words
that the model treats alike land near each other, and regular relations
(king -> queen, man -> woman) tend to show up as parallel arrows.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from llmos.classic.word2vec.vectors import WordVectors


def pca_2d(x: np.ndarray) -> np.ndarray:
    """(n, D) -> (n, 2): coordinates on the top two principal components."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"pca_2d: need at least two row vectors, got shape {x.shape}")
    centred = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)   # rows of vt: principal directions
    coords = centred @ vt[:2].T                               # (n, <=2)
    if coords.shape[1] < 2:
        coords = np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
    return coords


def plot_words(vectors: WordVectors, words: Sequence[str], path: str | Path,
               title: str = "word vectors, first two principal components") -> Path:
    """Save a labelled scatter plot (PNG) of `words`; unknown words are named in the error."""
    missing = [w for w in words if w not in vectors]
    if missing:
        raise KeyError(f"not in the vocabulary: {', '.join(missing)}; choose other words or lower min_count")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xy = pca_2d(np.stack([vectors[w] for w in words]))
    fig, ax = plt.subplots(figsize=(7, 6), dpi=120)
    ax.scatter(xy[:, 0], xy[:, 1], s=18, color="tab:blue")
    for (x, y), word in zip(xy, words):
        ax.annotate(word, (x, y), xytext=(4, 3), textcoords="offset points", fontsize=10)
    ax.set_title(title)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
