"""word2vec's two tables and its two update rules, skip-gram and CBOW.

Both models score a (word, context) pair by a dot product of an *input* vector
(rows of `W_in`, the word vectors people keep) and an *output* vector (rows of
`W_out`), and learn by negative sampling (Mikolov et al., 2013, eq. 4):

    log sigma(u_o . v_i) + sum_{k=1..K} log sigma(-u_nk . v_i),   n_k ~ P_n(w)

The gradient is written out by hand rather than left to autograd, as in
word2vec.c: with g = lr * (label - sigma(score)),

    v_i += sum_o g_o u_o        u_o += g_o v_i

and applied with `index_add_`, a sparse update that touches only the rows in
the batch (a dense optimizer would sweep the whole table every step). Rows
repeated in a batch receive the sum of their updates, which is what Hogwild
threads in the C code do too, only without the races.

Skip-gram follows word2vec.c's orientation: each context word's input vector
predicts the center word's output vector (the pairs are symmetric, so this is
the paper's "center predicts context" read backwards). CBOW averages the
context's input vectors into one hidden vector h that predicts the center, and
gives every context word the full gradient of h (word2vec.c with cbow_mean).
"""
from __future__ import annotations

import dataclasses
from typing import Literal

import torch

from llmos.classic.word2vec.windows import Windows


@dataclasses.dataclass
class Word2VecConfig:
    """Hyperparameters, named and defaulted as in word2vec.c / gensim."""

    mode: Literal["skipgram", "cbow"] = "skipgram"
    dim: int = 100            # vector size
    window: int = 5           # largest context offset W (each position draws 1..W)
    negative: int = 5         # negative samples K per window
    min_count: int = 5        # drop words seen fewer times
    max_vocab: int | None = None
    sample: float = 1e-3      # subsampling threshold t (0 = off)
    epochs: int = 5
    lr: float = 0.025         # starting learning rate, decayed linearly ...
    min_lr: float = 1e-4      # ... to this at the end of the last epoch
    batch_size: int = 512     # windows per update
    chunk_words: int = 400_000  # corpus words turned into windows at once
    threads: int = 2          # torch intra-op threads while training
    seed: int = 1

    def __post_init__(self):
        for name in ("dim", "window", "negative", "min_count", "epochs", "batch_size", "chunk_words", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"Word2VecConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.mode not in ("skipgram", "cbow"):
            raise ValueError(f"Word2VecConfig.mode must be 'skipgram' or 'cbow', got {self.mode!r}")
        if not 0 < self.lr or self.min_lr < 0:
            raise ValueError("Word2VecConfig: lr must be > 0 and min_lr >= 0")


class Word2Vec:
    """The input table (the word vectors) and output table, updated by plain SGD."""

    max_score = 6.0  # |score| past this: no update (gensim's MAX_EXP rule); 0 = never skip

    def __init__(self, vocab_size: int, dim: int, seed: int = 1):
        g = torch.Generator().manual_seed(seed)
        # word2vec.c's initialisation: inputs uniform in [-0.5/dim, 0.5/dim), outputs zero.
        self.W_in = (torch.rand(vocab_size, dim, generator=g) - 0.5) / dim   # (V, D)
        self.W_out = torch.zeros(vocab_size, dim)                             # (V, D)

    def _outputs(self, win: Windows) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Output rows (center, then negatives) and their labels/validity."""
        out = torch.cat([win.center[:, None], win.negatives], dim=1)          # (N, 1+K)
        label = torch.zeros(out.shape, dtype=torch.float32)
        label[:, 0] = 1.0
        # A negative that happens to be the center itself is skipped (word2vec.c does the same).
        valid = torch.ones(out.shape, dtype=torch.float32)
        valid[:, 1:] = (win.negatives != win.center[:, None]).float()
        return out, label, valid

    def skipgram_step(self, win: Windows, lr: float, want_loss: bool = False) -> float | None:
        """One SGD step on a batch of windows; returns the mean pair loss if asked."""
        N, C = win.context.shape
        D = self.W_in.shape[1]
        out, label, valid = self._outputs(win)
        mask = win.mask                                                      # (N, C)
        x = self.W_in.index_select(0, win.context.reshape(-1)).view(N, C, D)  # (N, C, D) inputs
        u = self.W_out.index_select(0, out.reshape(-1)).view(N, -1, D)       # (N, 1+K, D) outputs
        score = torch.bmm(x, u.transpose(1, 2))                              # (N, C, 1+K)
        weight = mask[:, :, None] * valid[:, None, :]                    # (N, C, 1+K)
        if self.max_score:                                                   # skip saturated pairs
            weight = weight * (score.abs() < self.max_score)
        g = (label[:, None, :] - torch.sigmoid(score)) * (weight * lr)       # g = lr (label - sigma)
        grad_x = torch.bmm(g, u)                                             # (N, C, D)   sum_o g u_o
        grad_u = torch.bmm(g.transpose(1, 2), x)                             # (N, 1+K, D) sum_i g v_i
        self.W_in.index_add_(0, win.context.reshape(-1), grad_x.view(-1, D))
        self.W_out.index_add_(0, out.reshape(-1), grad_u.view(-1, D))
        if not want_loss:
            return None
        signed = torch.where(label[:, None, :] > 0, score, -score)
        loss = -(torch.nn.functional.logsigmoid(signed) * weight).sum() / mask.sum().clamp(min=1)
        return float(loss)

    def cbow_step(self, win: Windows, lr: float, want_loss: bool = False) -> float | None:
        N, C = win.context.shape
        D = self.W_in.shape[1]
        out, label, valid = self._outputs(win)
        mask = win.mask                                                      # (N, C)
        count = win.count[:, None].float()                                   # (N, 1), >= 1
        x = self.W_in.index_select(0, win.context.reshape(-1)).view(N, C, D)  # (N, C, D)
        h = torch.bmm(mask[:, None, :], x).squeeze(1) / count            # (N, D) mean of the window
        u = self.W_out.index_select(0, out.reshape(-1)).view(N, -1, D)       # (N, 1+K, D)
        score = torch.bmm(u, h[:, :, None]).squeeze(2)                       # (N, 1+K)
        if self.max_score:
            valid = valid * (score.abs() < self.max_score)
        g = (label - torch.sigmoid(score)) * (valid * lr)                    # (N, 1+K)
        grad_h = torch.bmm(g[:, None, :], u).squeeze(1)                      # (N, D)
        grad_u = g[:, :, None] * h[:, None, :]                               # (N, 1+K, D)
        grad_x = mask[:, :, None] * grad_h[:, None, :]                   # (N, C, D) full grad to each
        self.W_in.index_add_(0, win.context.reshape(-1), grad_x.view(-1, D))
        self.W_out.index_add_(0, out.reshape(-1), grad_u.view(-1, D))
        if not want_loss:
            return None
        signed = torch.where(label > 0, score, -score)
        return float(-(torch.nn.functional.logsigmoid(signed) * valid).sum() / N)
