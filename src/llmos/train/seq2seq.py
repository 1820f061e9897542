"""Training the encoder-decoder Transformer on a synthetic task, as the 2017 paper trained it.

- Teacher forcing: the decoder reads the true target shifted right
  (`<bos> y_1 ... y_{n-1}`) and predicts every next token (`y_1 ... y_n <eos>`)
  in one parallel pass.
- Label smoothing (sec. 5.4, eps = 0.1): the target distribution puts 1 - eps
  on the right token and spreads eps over the vocabulary, so the model is
  not pushed to infinite confidence.
- Adam with beta2 = 0.98, eps = 1e-9 and the paper's schedule (eq. 3):
  lr = factor * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5).
- Checkpoint averaging (sec. 6.1): the final model is the mean of the
  weights at the last `average_last` snapshots, `average_every` steps apart,
  which smooths out the noise of the last updates.

Evaluation decodes the held-out sources greedily and with beam search and
counts exact matches: an output is right only if every character is.

    result = train_seq2seq(Seq2SeqRunConfig(task="dates"), "runs/dates")
    result.greedy_exact_match, result.beam_exact_match
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from rich.console import Console

from llmos.config import require, require_at_least, require_choice, save_config
from llmos.infer.beam import beam_search
from llmos.nn.seq2seq import Seq2SeqConfig, Seq2SeqTransformer
from llmos.text.synthetic import IGNORE_INDEX, VOCAB, Seq2SeqTask, batches, collate, exact_match, make_task
from llmos.train.metrics import MetricsLog
from llmos.train.plots import plot_loss
from llmos.train.progress import TrainProgress
from llmos.train.schedule import inverse_sqrt


@dataclass
class Seq2SeqRunConfig:
    task: Literal["dates", "reverse"] = "dates"
    n_train: int = 20_000
    n_test: int = 1_000
    task_args: dict = field(default_factory=dict)   # more settings for the task, e.g. {"max_len": 8}
    model: Seq2SeqConfig = field(default_factory=lambda: Seq2SeqConfig(
        src_vocab_size=VOCAB.size, tgt_vocab_size=VOCAB.size, d_model=128, n_heads=4, d_ff=512,
        n_encoder_layers=2, n_decoder_layers=2, dropout=0.1, max_len=64, share_embeddings=True,
        pad_id=VOCAB.pad_id, bos_id=VOCAB.bos_id, eos_id=VOCAB.eos_id))
    max_steps: int = 3000
    batch_size: int = 64
    warmup_steps: int = 400
    lr_factor: float = 1.0          # the paper's schedule times this
    label_smoothing: float = 0.1
    average_last: int = 5           # snapshots averaged into the final model (1 = the last weights)
    average_every: int = 100        # steps between snapshots
    beam_size: int = 4
    length_penalty: float = 1.0
    eval_every: int = 500
    eval_examples: int = 200        # held-out examples decoded (greedy) at each periodic evaluation
    seed: int = 0
    threads: int = 0

    def __post_init__(self) -> None:
        require_choice(self, "task")
        require_at_least(self, 1, "n_train", "n_test", "max_steps", "batch_size", "average_last", "average_every",
                         "beam_size", "eval_every", "eval_examples")
        require_at_least(self, 0, "warmup_steps", "threads")
        require(self.lr_factor > 0, "lr_factor", "> 0", self.lr_factor)
        require(0 <= self.label_smoothing < 1, "label_smoothing", "in [0, 1)", self.label_smoothing)


@dataclass
class Seq2SeqResult:
    model: Seq2SeqTransformer
    task: Seq2SeqTask
    greedy_exact_match: float
    beam_exact_match: float
    final_loss: float
    seconds: float
    examples: list[tuple[str, str, str]]      # (source, reference, greedy output)


def loss_fn(logits: torch.Tensor, tgt_out: torch.Tensor, smoothing: float) -> torch.Tensor:
    """Label-smoothed cross-entropy over real target tokens. logits (B, T, V), tgt_out (B, T)."""
    return F.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), ignore_index=IGNORE_INDEX,
                           label_smoothing=smoothing)


@torch.no_grad()
def decode(model: Seq2SeqTransformer, sources: list[str], method: str = "greedy", beam_size: int = 4,
           length_penalty: float = 1.0, batch_size: int = 256, max_new_tokens: int = 32) -> list[str]:
    """Outputs for `sources`, greedily or by beam search."""
    model.eval()
    out: list[str] = []
    for i in range(0, len(sources), batch_size):
        b = collate([(s, "") for s in sources[i:i + batch_size]])
        pad = ~b.src_mask                                                       # (B, S) True at padding
        if method == "greedy":
            ids = model.greedy(b.src, pad, max_new_tokens)[:, 1:].tolist()      # drop BOS
        else:
            ids = beam_search(model, b.src, pad, beam_size, max_new_tokens, length_penalty)
        out.extend(VOCAB.decode(row) for row in ids)
    return out


def train_seq2seq(cfg: Seq2SeqRunConfig, run_dir: str | Path | None = None, *,
                  console: Console | None = None, progress: bool = True) -> Seq2SeqResult:
    """Train on `cfg.task`; report held-out exact match with greedy and beam decoding."""
    console = console or Console(soft_wrap=True)
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    task = make_task(cfg.task, n_train=cfg.n_train, n_test=cfg.n_test, seed=cfg.seed, **cfg.task_args)
    torch.manual_seed(cfg.seed)
    model = Seq2SeqTransformer(cfg.model)
    opt = torch.optim.Adam(model.parameters(), lr=0.0, betas=(0.9, 0.98), eps=1e-9)
    run_dir = Path(run_dir) if run_dir else None
    metrics = MetricsLog(run_dir / "metrics.jsonl", enabled=run_dir is not None) if run_dir else None
    if run_dir:
        save_config(cfg, run_dir / "seq2seq_config.json")
    sources = [s for s, _ in task.test]
    references = [t for _, t in task.test]
    step, epoch, loss = 0, 0, float("nan")
    snapshot_steps = {s for i in range(cfg.average_last) if (s := cfg.max_steps - i * cfg.average_every) > 0}
    averaged: dict[str, torch.Tensor] = {}
    t0 = time.perf_counter()
    model.train()
    with TrainProgress(cfg.max_steps, enabled=progress, console=console, description=cfg.task) as bar:
        while step < cfg.max_steps:
            for batch in batches(task.train, cfg.batch_size, seed=cfg.seed + epoch, drop_last=True):
                lr = cfg.lr_factor * inverse_sqrt(step, cfg.model.d_model, cfg.warmup_steps)
                for g in opt.param_groups:
                    g["lr"] = lr
                tgt_pad = batch.tgt_in == VOCAB.pad_id
                logits = model(batch.src, batch.tgt_in, ~batch.src_mask, tgt_pad)       # (B, T, V)
                loss_t = loss_fn(logits, batch.tgt_out, cfg.label_smoothing)
                opt.zero_grad(set_to_none=True)
                loss_t.backward()
                opt.step()
                step += 1
                loss = loss_t.item()
                tokens = int((batch.tgt_out != IGNORE_INDEX).sum())
                bar.update(1, tokens, loss)
                if step in snapshot_steps:
                    for name, p in model.state_dict().items():
                        averaged[name] = averaged.get(name, 0) + p.detach().float() / len(snapshot_steps)
                if metrics and step % 10 == 0:
                    metrics.log("train", step, loss=loss, lr=lr)
                if step % cfg.eval_every == 0 or step == cfg.max_steps:
                    n = cfg.eval_examples
                    em = exact_match(decode(model, sources[:n]), references[:n])
                    model.train()
                    bar.print(f"step {step:>5}  loss {loss:.4f}  greedy exact match {em:.1%} "
                              f"(first {n} held-out)")
                    if metrics:
                        metrics.log("eval", step, greedy_exact_match=em, train_loss=loss)
                if step >= cfg.max_steps:
                    break
            epoch += 1
    seconds = time.perf_counter() - t0
    if len(snapshot_steps) > 1:
        model.load_state_dict({k: v.to(model.state_dict()[k].dtype) for k, v in averaged.items()})
    greedy = decode(model, sources)
    beam = decode(model, sources, "beam", cfg.beam_size, cfg.length_penalty)
    result = Seq2SeqResult(model, task, exact_match(greedy, references), exact_match(beam, references),
                           loss, seconds, list(zip(sources, references, greedy)))
    if run_dir:
        metrics.log("final", step, greedy_exact_match=result.greedy_exact_match,
                    beam_exact_match=result.beam_exact_match, seconds=seconds)
        torch.save(model.state_dict(), run_dir / "model.pt")
        plot_loss(run_dir / "metrics.jsonl", run_dir / "loss.png", title=f"encoder-decoder on {cfg.task}")
    return result


def with_model(cfg: Seq2SeqRunConfig, **changes) -> Seq2SeqRunConfig:
    """`cfg` with its model config changed."""
    return dataclasses.replace(cfg, model=cfg.model.replace(**changes))
