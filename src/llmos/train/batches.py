"""Which token windows make up each batch: a pure function of (seed, step).

A training batch for optimizer step `s` is `global_batch` windows of
`seq_len + 1` tokens whose start positions are drawn by a generator seeded
with `(seed, s)`. Because the batch depends on nothing but the step, the
"data position" a checkpoint must restore is just the step, and resuming
replays exactly the batches an uninterrupted run would have seen.

The same global batch is split the same way however many processes share it:
row `r` of the global batch goes to process `(r // batch) % world` and
micro-step `r // (batch * world)`. One process with accumulation 2 and two
processes without see the same rows, so they compute the same mean gradient.

    rows:  [ micro 0: rank 0 | rank 1 ][ micro 1: rank 0 | rank 1 ] ...
"""
from __future__ import annotations

import numpy as np
import torch

from llmos.text.shards import TokenShards

TRAIN_STREAM, VAL_STREAM = 0, 1


class BatchSampler:
    """Deterministic (x, y) batches from a token split: y is x shifted left by one."""

    def __init__(self, data: TokenShards, seq_len: int, batch_size: int, seed: int,
                 grad_accum: int = 1, world: int = 1, rank: int = 0) -> None:
        data.check_fits(seq_len)
        self.data, self.seq_len, self.batch_size, self.seed = data, seq_len, batch_size, seed
        self.grad_accum, self.world, self.rank = grad_accum, world, rank

    @property
    def global_batch(self) -> int:
        return self.batch_size * self.grad_accum * self.world

    def starts(self, step: int, stream: int = TRAIN_STREAM) -> np.ndarray:
        """Start offsets of every window of the global batch for `step`."""
        rng = np.random.default_rng([self.seed, stream, step])
        return rng.integers(0, self.data.n_windows(self.seq_len + 1), size=self.global_batch)

    def rows(self, starts: np.ndarray, micro: int) -> tuple[torch.Tensor, torch.Tensor]:
        """This process's share of micro-step `micro`: x, y of shape (batch, seq_len)."""
        first = (micro * self.world + self.rank) * self.batch_size
        windows = np.stack([self.data.window(int(s), self.seq_len + 1)
                            for s in starts[first:first + self.batch_size]])       # (B, T+1)
        t = torch.from_numpy(windows)
        return t[:, :-1], t[:, 1:]

    def batch(self, step: int, micro: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """Training batch of `step`, micro-step `micro`, for this process."""
        return self.rows(self.starts(step), micro)

    def eval_batch(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Fixed evaluation batch `index` (the same at every evaluation): (batch, seq_len)."""
        rng = np.random.default_rng([self.seed, VAL_STREAM, index])
        starts = rng.integers(0, self.data.n_windows(self.seq_len + 1), size=self.batch_size)
        windows = np.stack([self.data.window(int(s), self.seq_len + 1) for s in starts])
        t = torch.from_numpy(windows)
        return t[:, :-1], t[:, 1:]
