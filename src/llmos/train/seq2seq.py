"""Training an encoder-decoder on a synthetic task: the Transformer as the 2017 paper trained it, or any
other encoder-decoder (the RNN of `llmos.classic.seq2seq`) through the same loop.

- Teacher forcing: the decoder reads the true target shifted right
  (`<bos> y_1 ... y_{n-1}`) and predicts every next token (`y_1 ... y_n <eos>`);
  the Transformer does it in one parallel pass, an RNN one position at a time.
- Label smoothing (sec. 5.4, eps = 0.1): the target distribution puts 1 - eps
  on the right token and spreads eps over the vocabulary, so the model is
  not pushed to infinite confidence.
- Adam with beta2 = 0.98, eps = 1e-9 and the paper's schedule (eq. 3):
  lr = factor * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5),
  or (`schedule=cosine`, as RNNs are usually trained) a linear warmup to `lr`
  and a cosine decay to lr / 10, with gradient clipping.
- Checkpoint averaging (sec. 6.1): the final model is the mean of the
  weights at the last `average_last` snapshots, `average_every` steps apart,
  which smooths out the noise of the last updates.

Evaluation decodes the held-out sources greedily (and, for a model with the
beam-search interface, with beam search) and counts exact matches: an output
is right only if every character is.

    result = run_seq2seq(Seq2SeqRunConfig(task="dates"), "runs/dates")    # builds the Transformer
    result = train_seq2seq(RNNSeq2Seq(...), task, Seq2SeqTrainConfig(schedule="cosine", lr=3e-3, ...))
"""
from __future__ import annotations

import dataclasses
import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import torch
import torch.nn.functional as F
from rich.console import Console
from torch import Tensor, nn

from llmos.config import require, require_at_least, require_choice, save_config
from llmos.infer.beam import beam_search
from llmos.nn.eval_mode import eval_mode
from llmos.nn.seq2seq import Seq2SeqConfig, Seq2SeqTransformer
from llmos.text.synthetic import (IGNORE_INDEX, VOCAB, CharVocab, Seq2SeqTask, batches, collate, exact_match,
                                  make_task)
from llmos.train.metrics import MetricsLog
from llmos.train.plots import plot_loss
from llmos.train.progress import TrainProgress
from llmos.train.run_folder import METRICS
from llmos.train.schedule import inverse_sqrt, warmup_cosine


class Seq2SeqModel(Protocol):
    """What the trainer needs of an encoder-decoder (the Transformer and the RNN both have it)."""

    def __call__(self, src: Tensor, tgt_in: Tensor, src_padding_mask: Tensor | None = None,
                 tgt_padding_mask: Tensor | None = None) -> Tensor:
        """Teacher forcing: src (B, S), tgt_in (B, T) -> logits (B, T, V)."""

    def greedy(self, src: Tensor, src_padding_mask: Tensor | None = None,
               max_new_tokens: int | None = None) -> Tensor:
        """(B, 1 + n) ids starting with BOS."""

    def parameters(self): ...


@dataclass
class Seq2SeqTrainConfig:
    """How to train an encoder-decoder; the defaults are the paper's."""
    max_steps: int = 3000
    batch_size: int = 64
    schedule: Literal["inverse_sqrt", "cosine"] = "inverse_sqrt"
    warmup_steps: int = 400
    lr_factor: float = 1.0          # inverse_sqrt: the paper's rate times this (it needs model.config.d_model)
    lr: float = 3e-3                # cosine: the peak rate, decayed to lr / 10
    adam_beta2: float = 0.98
    adam_eps: float = 1e-9
    label_smoothing: float = 0.1
    grad_clip: float = 0.0          # max global gradient norm; 0 = off (RNNs need it)
    average_last: int = 5           # snapshots averaged into the final model (1 = the last weights)
    average_every: int = 100        # steps between snapshots
    max_seconds: float | None = None    # stop early when this much training time has passed
    beam_size: int = 4              # 0: greedy only (a model without the beam-search interface)
    length_penalty: float = 1.0
    eval_every: int = 500
    eval_examples: int = 200        # held-out examples decoded (greedy) at each periodic evaluation
    seed: int = 0

    def __post_init__(self) -> None:
        require_choice(self, "schedule")
        require_at_least(self, 1, "max_steps", "batch_size", "average_last", "average_every", "eval_every",
                         "eval_examples")
        require_at_least(self, 0, "warmup_steps", "grad_clip", "beam_size")
        for name in ("lr_factor", "lr", "adam_eps"):
            require(getattr(self, name) > 0, name, "> 0", getattr(self, name))
        require(0 <= self.adam_beta2 < 1, "adam_beta2", "in [0, 1)", self.adam_beta2)
        require(0 <= self.label_smoothing < 1, "label_smoothing", "in [0, 1)", self.label_smoothing)
        require(self.max_seconds is None or self.max_seconds > 0, "max_seconds", "> 0 or none", self.max_seconds)


@dataclass
class Seq2SeqRunConfig(Seq2SeqTrainConfig):
    """`llmos seq2seq`: a task made on the spot, the Transformer, and how to train it."""
    task: Literal["dates", "reverse"] = "dates"
    n_train: int = 20_000
    n_test: int = 1_000
    task_args: dict = field(default_factory=dict)   # more settings for the task, e.g. {"max_len": 8}
    model: Seq2SeqConfig = field(default_factory=lambda: Seq2SeqConfig(
        src_vocab_size=VOCAB.size, tgt_vocab_size=VOCAB.size, d_model=128, n_heads=4, d_ff=512,
        n_encoder_layers=2, n_decoder_layers=2, dropout=0.1, max_len=64, share_embeddings=True,
        pad_id=VOCAB.pad_id, bos_id=VOCAB.bos_id, eos_id=VOCAB.eos_id))
    threads: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        require_choice(self, "task")
        require_at_least(self, 1, "n_train", "n_test")
        require_at_least(self, 0, "threads")


@dataclass
class Seq2SeqResult:
    model: nn.Module
    task: Seq2SeqTask
    greedy_exact_match: float
    beam_exact_match: float | None   # None: beam_size=0
    final_loss: float                # mean of the last 20 steps' losses
    seconds: float                   # training time (the final scoring excluded)
    steps: int
    losses: list[float]              # every step's training loss
    examples: list[tuple[str, str, str]]      # (source, reference, greedy output)


def loss_fn(logits: Tensor, tgt_out: Tensor, smoothing: float) -> Tensor:
    """Label-smoothed cross-entropy over real target tokens. logits (B, T, V), tgt_out (B, T)."""
    return F.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), ignore_index=IGNORE_INDEX,
                           label_smoothing=smoothing)


@torch.no_grad()
def decode(model: Seq2SeqModel, sources: list[str], method: Literal["greedy", "beam"] = "greedy",
           beam_size: int = 4, length_penalty: float = 1.0, batch_size: int = 256, max_new_tokens: int = 32,
           vocab: CharVocab = VOCAB) -> list[str]:
    """Outputs for `sources`, greedily or by beam search."""
    out: list[str] = []
    with eval_mode(model):
        for i in range(0, len(sources), batch_size):
            b = collate([(s, "") for s in sources[i:i + batch_size]], vocab)
            pad = ~b.src_mask                                                       # (B, S) True at padding
            if method == "greedy":
                ids = model.greedy(b.src, pad, max_new_tokens)[:, 1:].tolist()      # drop BOS
            else:
                ids = beam_search(model, b.src, pad, beam_size, max_new_tokens, length_penalty)
            out.extend(vocab.decode(row) for row in ids)
    return out


def _learning_rate(cfg: Seq2SeqTrainConfig, model: Seq2SeqModel, step: int) -> float:
    if cfg.schedule == "cosine":
        return warmup_cosine(step, cfg.lr, cfg.lr / 10, cfg.warmup_steps, cfg.max_steps)
    d_model = getattr(getattr(model, "config", None), "d_model", None)
    if d_model is None:
        raise ValueError("schedule=inverse_sqrt scales by model.config.d_model, which this model lacks; "
                         "use schedule=cosine")
    return inverse_sqrt(step, d_model, cfg.warmup_steps, cfg.lr_factor)


def train_seq2seq(model: Seq2SeqModel, task: Seq2SeqTask, cfg: Seq2SeqTrainConfig | None = None,
                  run_dir: str | Path | None = None, *, console: Console | None = None, progress: bool = True,
                  name: str | None = None) -> Seq2SeqResult:
    """Train `model` on `task.train`; report held-out exact match, greedy and (beam_size > 0) beam search.

    With `run_dir`, metrics.jsonl, loss.png and model.pt are written there.
    """
    cfg = cfg or Seq2SeqTrainConfig()
    console = console or Console(soft_wrap=True)
    torch.manual_seed(cfg.seed)
    opt = torch.optim.Adam(model.parameters(), lr=0.0, betas=(0.9, cfg.adam_beta2), eps=cfg.adam_eps)
    run_dir = Path(run_dir) if run_dir else None
    metrics = MetricsLog(run_dir / METRICS) if run_dir else None
    sources, references = [s for s, _ in task.test], [t for _, t in task.test]
    max_new = task.max_tgt_len + 1                                      # the longest target and its EOS
    epochs = (batches(task.train, cfg.batch_size, task.vocab, seed=cfg.seed + e, drop_last=True)
              for e in itertools.count())
    stream = itertools.chain.from_iterable(epochs)
    snapshot_steps = {s for i in range(cfg.average_last) if (s := cfg.max_steps - i * cfg.average_every) > 0}
    averaged: dict[str, Tensor] = {}
    losses: list[float] = []
    t0 = time.perf_counter()
    model.train()
    with TrainProgress(cfg.max_steps, enabled=progress, console=console, description=name or task.name) as bar:
        for step in range(1, cfg.max_steps + 1):
            batch = next(stream)
            lr = _learning_rate(cfg, model, step - 1)
            for g in opt.param_groups:
                g["lr"] = lr
            tgt_pad = batch.tgt_in == task.vocab.pad_id
            logits = model(batch.src, batch.tgt_in, ~batch.src_mask, tgt_pad)         # (B, T, V)
            loss_t = loss_fn(logits, batch.tgt_out, cfg.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss_t.backward()
            if cfg.grad_clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            losses.append(loss := loss_t.item())
            bar.update(1, int((batch.tgt_out != IGNORE_INDEX).sum()), loss)
            if step in snapshot_steps:
                for key, p in model.state_dict().items():
                    averaged[key] = averaged.get(key, 0) + p.detach().float() / len(snapshot_steps)
            if metrics and step % 10 == 0:
                metrics.log("train", step, loss=loss, lr=lr)
            out_of_time = cfg.max_seconds is not None and time.perf_counter() - t0 > cfg.max_seconds
            if step % cfg.eval_every == 0 or step == cfg.max_steps or out_of_time:
                n = cfg.eval_examples
                em = exact_match(decode(model, sources[:n], max_new_tokens=max_new, vocab=task.vocab),
                                 references[:n])
                bar.print(f"step {step:>5}  loss {loss:.4f}  greedy exact match {em:.1%} (first {n} held-out)")
                if metrics:
                    metrics.log("eval", step, greedy_exact_match=em, train_loss=loss)
            if out_of_time:
                break
    seconds = time.perf_counter() - t0
    if len(snapshot_steps) > 1 and len(losses) == cfg.max_steps:
        model.load_state_dict({k: v.to(model.state_dict()[k].dtype) for k, v in averaged.items()})
    greedy = decode(model, sources, max_new_tokens=max_new, vocab=task.vocab)
    beam_em = None
    if cfg.beam_size > 0:
        beam = decode(model, sources, "beam", cfg.beam_size, cfg.length_penalty, max_new_tokens=max_new,
                      vocab=task.vocab)
        beam_em = exact_match(beam, references)
    result = Seq2SeqResult(model, task, exact_match(greedy, references), beam_em,
                           sum(losses[-20:]) / len(losses[-20:]), seconds, len(losses), losses,
                           list(zip(sources, references, greedy)))
    if run_dir:
        metrics.log("final", len(losses), greedy_exact_match=result.greedy_exact_match,
                    beam_exact_match=beam_em, seconds=seconds)
        torch.save(model.state_dict(), run_dir / "model.pt")
        plot_loss(run_dir / METRICS, run_dir / "loss.png", title=f"{name or 'encoder-decoder'} on {task.name}")
    return result


def run_seq2seq(cfg: Seq2SeqRunConfig, run_dir: str | Path | None = None, *,
                console: Console | None = None, progress: bool = True) -> Seq2SeqResult:
    """`llmos seq2seq`: make the task, build the Transformer, train it (settings saved in the run folder)."""
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    task = make_task(cfg.task, n_train=cfg.n_train, n_test=cfg.n_test, seed=cfg.seed, **cfg.task_args)
    torch.manual_seed(cfg.seed)
    model = Seq2SeqTransformer(cfg.model)
    if run_dir:
        save_config(cfg, Path(run_dir) / "seq2seq_config.json")
    return train_seq2seq(model, task, cfg, run_dir, console=console, progress=progress, name="encoder-decoder")


def with_model(cfg: Seq2SeqRunConfig, **changes) -> Seq2SeqRunConfig:
    """`cfg` with its model config changed."""
    return dataclasses.replace(cfg, model=cfg.model.replace(**changes))
