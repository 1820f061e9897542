"""Train word2vec on tokenized sentences: the loop, the schedule, the progress bar.

Throughput comes from three choices, each visible below:
- examples are made a chunk at a time in numpy (`windows.make_windows`), on a
  background thread, so the next chunk is ready when the current one is done;
- each step updates a batch of ~1000 windows with batched matrix products;
- updates are sparse (`index_add_` on the rows in the batch), never a sweep of
  the whole table;
- `threads` workers update the shared tables at once without locks (Hogwild,
  as word2vec.c and gensim do), so with threads > 1 runs are not bit-for-bit
  repeatable; with threads=1 they are.

The learning rate falls linearly from `lr` to `min_lr` over all epochs, as in
word2vec.c: lr(p) = lr - (lr - min_lr) * p, with p the fraction of the corpus
words processed so far.
"""
from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from llmos.classic.word2vec.model import Word2Vec, Word2VecConfig
from llmos.classic.word2vec.vectors import WordVectors
from llmos.classic.word2vec.vocab import Vocab, keep_probability, noise_distribution
from llmos.classic.word2vec.windows import make_windows, noise_table, sentence_chunks


@dataclasses.dataclass
class TrainStats:
    corpus_words: int      # tokens in the corpus, out-of-vocabulary ones included
    vocab_size: int
    epochs: int
    seconds: float         # training time (vocabulary building excluded, as gensim reports it)
    words_per_second: float  # corpus_words * epochs / seconds
    loss: float            # mean negative-sampling loss per pair over the last stretch of training


def learning_rate(lr: float, min_lr: float, progress: float) -> float:
    """Linear decay: lr at progress 0, min_lr at progress 1 (and after)."""
    return lr - (lr - min_lr) * min(max(progress, 0.0), 1.0)


@contextlib.contextmanager
def _torch_threads(n: int):
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]word2vec[/] epoch {task.fields[epoch]}"), BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[wps]:>9,.0f} words/s"),
        TextColumn("loss {task.fields[loss]:.3f}  lr {task.fields[lr]:.5f}"),
        TimeElapsedColumn(), TimeRemainingColumn(), disable=not enabled, transient=False)


def train_word2vec(sentences: Sequence[Sequence[str]], cfg: Word2VecConfig | None = None,
                   progress: bool = True, vocab: Vocab | None = None) -> tuple[WordVectors, TrainStats]:
    """Train skip-gram or CBOW (cfg.mode) on `sentences`; returns the input vectors and stats."""
    cfg = cfg or Word2VecConfig()
    vocab = vocab or Vocab.build(sentences, cfg.min_count, cfg.max_vocab)
    ids, sent = vocab.encode(sentences)                      # (L,), (L,) in-vocabulary words only
    corpus_words = sum(len(s) for s in sentences)
    if len(ids) < 2:
        raise ValueError("train_word2vec: fewer than two in-vocabulary words to learn from")
    keep = keep_probability(vocab.counts, cfg.sample).astype(np.float32)  # (V,)
    table = noise_table(noise_distribution(vocab.counts))   # draws from P_n ~ count^0.75
    model = Word2Vec(len(vocab), cfg.dim, cfg.seed)
    step = model.skipgram_step if cfg.mode == "skipgram" else model.cbow_step
    rng = np.random.default_rng(cfg.seed)              # windows (used on the worker thread only)
    rng_order = np.random.default_rng(cfg.seed + 1)    # batch order (used on this thread only)
    chunks = list(sentence_chunks(sent, cfg.chunk_words))
    total = cfg.epochs * len(ids)

    def windows_for(lo: int, hi: int):
        return make_windows(ids[lo:hi], sent[lo:hi], keep, table, cfg.window, cfg.negative, rng)

    losses: list[float] = []
    start = time.perf_counter()

    def run(win, starts, epoch: int, lo: int, hi: int, worker: int, bar, task) -> None:
        """Train on batches `starts` of one chunk; worker 0 also reports progress."""
        for b, first in enumerate(starts):
            batch = win.slice(first, first + cfg.batch_size)
            done = epoch * len(ids) + lo + (hi - lo) * (b + 1) // len(starts)
            lr = learning_rate(cfg.lr, cfg.min_lr, done / total)
            loss = step(batch, lr, want_loss=worker == 0 and b % 50 == 0)
            if loss is not None:                             # every 50 batches: record and redraw
                losses.append(loss)
                elapsed = time.perf_counter() - start
                bar.update(task, completed=done, epoch=epoch + 1, lr=lr,
                           wps=done / len(ids) * corpus_words / max(elapsed, 1e-9),
                           loss=float(np.mean(losses[-20:])))

    # Each worker thread runs torch single-threaded on its own batches (Hogwild, as in
    # word2vec.c): no barrier inside an operation, so a busy machine slows it gently.
    with _torch_threads(1), ThreadPoolExecutor(1) as maker, ThreadPoolExecutor(cfg.threads) as workers, \
            _progress(progress) as bar:
        task = bar.add_task("train", total=total, epoch=1, wps=0.0, loss=float("nan"), lr=cfg.lr)
        jobs = [(epoch, lo, hi) for epoch in range(cfg.epochs) for lo, hi in chunks]
        future = maker.submit(windows_for, *jobs[0][1:])
        for j, (epoch, lo, hi) in enumerate(jobs):
            win = future.result()
            if j + 1 < len(jobs):                            # make the next chunk while training this one
                future = maker.submit(windows_for, *jobs[j + 1][1:])
            starts = rng_order.permutation(np.arange(0, len(win), cfg.batch_size))
            shares = [workers.submit(run, win, starts[w::cfg.threads], epoch, lo, hi, w, bar, task)
                      for w in range(cfg.threads)]
            for share in shares:
                share.result()
        bar.update(task, completed=total)
    seconds = time.perf_counter() - start
    vectors = WordVectors(vocab.words, model.W_in.numpy().copy())
    stats = TrainStats(corpus_words, len(vocab), cfg.epochs, seconds, corpus_words * cfg.epochs / seconds,
                       float(np.mean(losses[-20:])) if losses else float("nan"))
    return vectors, stats
