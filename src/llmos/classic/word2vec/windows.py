"""Training examples for word2vec, made a chunk at a time with array operations.

The reference C code walks the corpus word by word. Here a whole chunk of the
corpus (hundreds of thousands of words) becomes training examples in a few
numpy calls, laid out for batched tensor maths:

    center    (N,)      the word at each kept position
    context   (N, 2W)   the words at offsets -W..-1, +1..+W (0 where masked)
    mask      (N, 2W)   1.0 where that offset is inside this position's window
    negatives (N, K)    noise words drawn from P_n(w) ~ count^0.75 (a unigram table)

Three word2vec details are kept exactly:
- subsampling drops words *before* windowing, so windows reach further past
  frequent words;
- each position draws its own window size b uniformly in 1..W (the "dynamic
  window", which weights near words more than far ones);
- windows stop at sentence boundaries.
One is changed for speed: the K negatives are drawn once per center position
and shared by all its context pairs (word2vec.c draws K per pair). Each pair
still sees K independent negatives from the right distribution; the pairs of
one window just see the same ones. That lets one batched matrix product score
a whole window at once.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import torch


@dataclasses.dataclass
class Windows:
    center: torch.Tensor     # (N,) int32
    context: torch.Tensor    # (N, 2W) int32, each row's window words first, then 0s
    count: torch.Tensor      # (N,) int32, how many of each row's context slots are real
    negatives: torch.Tensor  # (N, K) int32

    def __len__(self) -> int:
        return len(self.center)

    def slice(self, lo: int, hi: int) -> Windows:
        """Rows lo..hi, trimmed to the widest window among them."""
        width = int(self.count[lo:hi].max())
        return Windows(self.center[lo:hi], self.context[lo:hi, :width], self.count[lo:hi],
                       self.negatives[lo:hi])

    @property
    def mask(self) -> torch.Tensor:
        """(N, C) float: 1.0 on real context slots."""
        return (torch.arange(self.context.shape[1]) < self.count[:, None]).float()


def noise_table(probabilities: np.ndarray, size: int = 10_000_000) -> np.ndarray:
    """word2vec.c's unigram table: word i fills a share p_i of `size` slots.

    A uniform slot index then draws from P_n with one array lookup, much faster
    than inverse-CDF search; at 10M slots the rounding error per word is < 1e-7.
    """
    cuts = np.round(np.cumsum(probabilities) * size).astype(np.int64)
    return np.repeat(np.arange(len(probabilities), dtype=np.int32), np.diff(cuts, prepend=0))


def make_windows(ids: np.ndarray, sentence: np.ndarray, keep: np.ndarray, table: np.ndarray,
                 window: int, negative: int, rng: np.random.Generator) -> Windows:
    """Turn one chunk of the corpus into windows (see the module docstring).

    ids, sentence: (L,) word ids and sentence numbers; keep: (V,) keep probability per
    word; table: the unigram table from `noise_table`.

    Rows come back sorted by window size, widest first, with each row's context
    words packed to the front. Batches of neighbouring rows then carry little
    padding: on short sentences most windows hold 3 or 4 words of a possible 2W.
    Callers should visit the batches in a shuffled order.
    """
    # Frequent-word subsampling: position i survives with probability keep[ids[i]].
    kept = rng.random(len(ids), dtype=np.float32) < keep[ids]
    w, s = ids[kept].astype(np.int32), sentence[kept]                 # (N,)
    n = len(w)
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)]).astype(np.int32)
    b = rng.integers(1, window + 1, size=n, dtype=np.int32)           # dynamic window per position
    pos = np.arange(n, dtype=np.int32)[:, None] + offsets[None, :]    # (N, 2W)
    inside = (pos >= 0) & (pos < n) & (np.abs(offsets)[None, :] <= b[:, None])
    np.clip(pos, 0, max(n - 1, 0), out=pos)
    inside &= s[pos] == s[:, None]                                    # same sentence only
    count = inside.sum(axis=1, dtype=np.int32)                        # (N,)
    # Pack each row's real slots to the front: slot (r, c) moves to column rank-within-row.
    r, c = np.nonzero(inside)
    rank = np.cumsum(inside, axis=1, dtype=np.int32)[r, c] - 1
    context = np.zeros(inside.shape, dtype=np.int32)
    context[r, rank] = w[pos[r, c]]
    # Widest windows first; windows with no context (one-word sentences) teach nothing.
    rows = np.argsort(-count, kind="stable")[: int(np.count_nonzero(count))]
    negatives = table[rng.integers(0, len(table), size=(len(rows), negative), dtype=np.int64)]
    return Windows(center=torch.from_numpy(w[rows]), context=torch.from_numpy(context[rows]),
                   count=torch.from_numpy(count[rows]), negatives=torch.from_numpy(negatives))


def sentence_chunks(sentence: np.ndarray, chunk_words: int) -> Iterator[tuple[int, int]]:
    """Split [0, L) into spans of about `chunk_words` that end on sentence boundaries."""
    n, lo = len(sentence), 0
    while lo < n:
        hi = min(lo + chunk_words, n)
        if hi < n:
            start = int(np.searchsorted(sentence, sentence[hi], side="left"))  # first word of that sentence
            hi = start if start > lo else hi  # a sentence longer than a chunk is cut
        yield lo, hi
        lo = hi
