"""Train and score an encoder-decoder on a synthetic task (`llmos.text.synthetic`).

Any model with the encoder-decoder interface works: `forward(src, tgt_in,
src_padding_mask) -> logits (B, T, V)` and `greedy(src, src_padding_mask,
max_new_tokens) -> ids`. That is both `RNNSeq2Seq` and llmos's Transformer,
so a comparison gives them the same data, steps, batch size and optimiser.

Training is teacher forcing: the decoder reads the true previous token (`tgt_in`,
BOS + target) and is scored by cross-entropy on the next one (`tgt_out`,
target + EOS), padding ignored. Success is held-out exact match under greedy
decoding: the whole output string must be right.
"""
from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from torch import nn

from llmos.text.synthetic import IGNORE_INDEX, CharVocab, Pair, Seq2SeqTask, batches, collate, exact_match


@dataclasses.dataclass
class Seq2SeqTrainConfig:
    steps: int = 2000
    batch_size: int = 64
    lr: float = 3e-3
    warmup: int = 100          # linear warmup steps, then cosine decay to lr / 10
    clip: float = 1.0          # gradient-norm clip (RNNs need it)
    max_seconds: float | None = None  # stop early when this much wall time has passed
    eval_pairs: int = 1000     # held-out pairs scored at the end
    seed: int = 0


@dataclasses.dataclass
class Seq2SeqResult:
    exact_match: float
    steps: int
    seconds: float             # training wall time (scoring excluded)
    final_loss: float
    losses: list[float]


def predict(model: nn.Module, sources: Sequence[str], vocab: CharVocab, max_new_tokens: int,
            batch_size: int = 256) -> list[str]:
    """Greedy outputs for `sources`, as strings."""
    model.eval()
    outputs: list[str] = []
    for i in range(0, len(sources), batch_size):
        batch = collate([(s, "") for s in sources[i:i + batch_size]], vocab)
        ids = model.greedy(batch.src, ~batch.src_mask, max_new_tokens=max_new_tokens)  # (B, 1 + n)
        outputs += [vocab.decode(row[1:]) for row in ids.tolist()]
    return outputs


def evaluate(model: nn.Module, pairs: Sequence[Pair], vocab: CharVocab, max_new_tokens: int) -> float:
    """Held-out exact match of greedy decoding."""
    predictions = predict(model, [s for s, _ in pairs], vocab, max_new_tokens)
    return exact_match(predictions, [t for _, t in pairs])


def _schedule(step: int, cfg: Seq2SeqTrainConfig) -> float:
    if step < cfg.warmup:
        return (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(cfg.steps - cfg.warmup, 1)
    return 0.1 + 0.9 * 0.5 * (1 + torch.cos(torch.tensor(progress * torch.pi)).item())


def train_seq2seq(model: nn.Module, task: Seq2SeqTask, cfg: Seq2SeqTrainConfig | None = None,
                  progress: bool = True, name: str = "seq2seq") -> Seq2SeqResult:
    """Train `model` on `task.train` for cfg.steps (or cfg.max_seconds), then score `task.test`."""
    cfg = cfg or Seq2SeqTrainConfig()
    torch.manual_seed(cfg.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _schedule(s, cfg))
    epochs = (batches(task.train, cfg.batch_size, task.vocab, seed=cfg.seed + e, drop_last=True)
              for e in itertools.count())
    stream = itertools.chain.from_iterable(epochs)
    losses: list[float] = []
    start = time.perf_counter()
    columns = (TextColumn(f"[bold]{name}[/] step {{task.completed}}/{{task.total}}"), BarColumn(),
               TextColumn("loss {task.fields[loss]:.3f}"), TimeElapsedColumn(), TimeRemainingColumn())
    model.train()
    with Progress(*columns, disable=not progress) as bar:
        job = bar.add_task("train", total=cfg.steps, loss=float("nan"))
        for step in range(cfg.steps):
            batch = next(stream)
            logits = model(batch.src, batch.tgt_in, ~batch.src_mask)                  # (B, T, V)
            loss = F.cross_entropy(logits.flatten(0, 1), batch.tgt_out.flatten(), ignore_index=IGNORE_INDEX)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            if step % 20 == 0 or step == cfg.steps - 1:
                bar.update(job, completed=step + 1, loss=sum(losses[-20:]) / len(losses[-20:]))
            if cfg.max_seconds is not None and time.perf_counter() - start > cfg.max_seconds:
                break
    seconds = time.perf_counter() - start
    held_out = task.test[: cfg.eval_pairs]
    score = evaluate(model, held_out, task.vocab, max_new_tokens=task.max_tgt_len + 1)
    return Seq2SeqResult(score, len(losses), seconds, sum(losses[-20:]) / len(losses[-20:]), losses)
