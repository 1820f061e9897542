"""The run folder and training loop shared by SFT, reward modelling, PPO and DPO.

A run folder has the layout of a pretraining run (`llmos train`), and is
written by the same pieces (atomic, checksummed checkpoints; metrics.jsonl;
the progress bar):

    RUN/train_config.json      the method's settings (what `--resume` reads back)
    RUN/checkpoints/step_*.pt  trainable weights, optimizer, step, RNG
    RUN/metrics.jsonl          one row per logged step: kind "train" or "eval"
    RUN/metrics.png            every logged metric against the step
    RUN/model/                 the final model as an HF folder (llmos generate/serve read it)

Resume is exact for the data order: batch k of a run is a function of (seed, k)
alone (a fresh permutation per epoch), so a resumed run reads the same batches
it would have read without the interruption, and sampling in PPO is seeded by
(seed, step) for the same reason.
"""
from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

import torch
from torch import nn

from llmos.config import ConfigError, require, require_at_least, require_choice, save_config
from llmos.train import checkpoint as ckpt
from llmos.train.metrics import MetricsLog, read_metrics
from llmos.train.optim import param_groups
from llmos.train.progress import TrainProgress
from llmos.train.run_folder import CHECKPOINTS, METRICS, MODEL, RUN_CONFIG, has_final_model
from llmos.train.schedule import warmup_cosine


@dataclass
class AlignConfig:
    """Settings every alignment method shares."""
    steps: int = 200                # optimizer steps (PPO: rollout batches)
    batch_size: int = 8             # examples (pairs, prompts) per step
    lr: float = 1e-5
    weight_decay: float = 0.0       # AdamW, on matrices only (as in pretraining)
    warmup_steps: int = 0
    schedule: Literal["constant", "cosine"] = "constant"   # after warmup; cosine decays to 10% of lr
    grad_clip: float = 1.0          # max global gradient norm; 0 = off
    max_len: int = 256              # prompt + response tokens
    max_prompt_len: int = 128
    eval_fraction: float = 0.0      # held-out share of the data, evaluated every eval_every steps
    eval_every: int = 50
    log_every: int = 1
    save_every: int = 50
    keep_checkpoints: int = 2       # newest checkpoints kept on disk
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        require_at_least(self, 1, "steps", "batch_size", "max_len", "max_prompt_len", "log_every", "save_every",
                         "eval_every", "keep_checkpoints")
        require_at_least(self, 0, "warmup_steps", "weight_decay", "grad_clip")
        require(self.lr > 0, "lr", "> 0", self.lr)
        require(self.max_prompt_len < self.max_len, "max_prompt_len", f"below max_len={self.max_len}",
                self.max_prompt_len)
        require_choice(self, "schedule")
        require(0 <= self.eval_fraction < 1, "eval_fraction", "in [0, 1)", self.eval_fraction)


def lr_at(cfg: AlignConfig, step: int) -> float:
    """Linear warmup, then constant or a cosine decay to 10% of lr."""
    min_lr = cfg.lr if cfg.schedule == "constant" else 0.1 * cfg.lr
    return warmup_cosine(step, cfg.lr, min_lr, cfg.warmup_steps, cfg.steps)


def batch_indices(n: int, batch_size: int, step: int, seed: int) -> list[int]:
    """Indices of batch `step`: a stream over per-epoch permutations of range(n)."""
    perms: dict[int, list[int]] = {}
    out = []
    for pos in range(step * batch_size, (step + 1) * batch_size):
        epoch, i = divmod(pos, n)
        if epoch not in perms:
            g = torch.Generator().manual_seed(seed * 100_003 + epoch)
            perms[epoch] = torch.randperm(n, generator=g).tolist()
        out.append(perms[epoch][i])
    return out


GROUP = 32  # batches per length-sorted chunk


def length_grouped_indices(lengths: tuple[int, ...], batch_size: int, step: int, seed: int) -> list[int]:
    """Indices of batch `step` when batches hold examples of similar length.

    Each epoch takes the same seeded permutation as `batch_indices`, cuts it into
    chunks of GROUP batches, sorts each chunk by length, cuts it into batches and
    shuffles the batches (seeded): every example is seen once an epoch, and a
    batch pads to a length near its own examples' instead of the longest of a
    random draw. Batch k is still a function of (seed, k), so resume is exact.
    An epoch's batches are built once and kept (`_epoch_batches`), not per step.
    """
    per_epoch = max(1, len(lengths) // batch_size)
    epoch, k = divmod(step, per_epoch)
    return _epoch_batches(tuple(lengths), batch_size, epoch, seed)[k]


@functools.lru_cache(maxsize=2)
def _epoch_batches(lengths: tuple[int, ...], batch_size: int, epoch: int, seed: int) -> list[list[int]]:
    """The batches of one epoch in the order they are read (see length_grouped_indices)."""
    n = len(lengths)
    per_epoch = max(1, n // batch_size)
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    perm = torch.randperm(n, generator=g).tolist()
    batches = []
    chunk = GROUP * batch_size
    for start in range(0, per_epoch * batch_size, chunk):
        part = sorted(perm[start:min(start + chunk, per_epoch * batch_size)], key=lambda i: lengths[i])
        batches += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
    order = torch.randperm(len(batches), generator=g).tolist()
    return [batches[i] for i in order]


def split_eval(items: list, fraction: float, seed: int) -> tuple[list, list]:
    """(train, eval) with a seeded shuffle; eval gets round(fraction * n) items."""
    if fraction <= 0:
        return items, []
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    k = max(1, round(fraction * len(items)))
    return [items[i] for i in order[k:]], [items[i] for i in order[:k]]


class Run:
    """A run folder: config, checkpoints, metrics log, plot, progress bar."""

    def __init__(self, out: str | Path, cfg: AlignConfig, modules: dict[str, nn.Module],
                 resume: bool = False, progress: bool = True, title: str = "train"):
        self.dir, self.cfg, self.title = Path(out), cfg, title
        self.modules = nn.ModuleDict(modules)
        self.progress_enabled = progress
        self.optimizer = torch.optim.AdamW(param_groups(self.modules, cfg.weight_decay), lr=cfg.lr)
        self.params = [p for group in self.optimizer.param_groups for p in group["params"]]
        self.metrics = MetricsLog(self.metrics_path)
        self.ckpt_dir = self.dir / CHECKPOINTS
        self.step = 0
        if ckpt.list_checkpoints(self.ckpt_dir):
            if not resume:
                raise ConfigError(f"{self.dir} already holds a {title} run; pass --resume to continue it "
                                  "or choose a new output folder")
            self._load()
        elif has_final_model(self.dir):
            raise ConfigError(f"{self.dir} already holds a finished model; choose a new output folder")
        self.dir.mkdir(parents=True, exist_ok=True)
        save_config(cfg, self.dir / RUN_CONFIG)

    @property
    def metrics_path(self) -> Path:
        return self.dir / METRICS

    # ------------------------------------------------------------------ checkpoints
    def _signature(self) -> dict:
        """What a checkpoint must agree on to be resumed: the method and the batch order."""
        return {"method": self.title, "batch_size": self.cfg.batch_size, "seed": self.cfg.seed}

    def save(self) -> None:
        state = {"step": self.step, "optimizer": self.optimizer.state_dict(),
                 "modules": self.modules.state_dict(), "rng": ckpt.rng_state(), "run": self._signature()}
        ckpt.save_checkpoint(state, ckpt.checkpoint_path(self.ckpt_dir, self.step))
        ckpt.prune(self.ckpt_dir, self.cfg.keep_checkpoints)

    def _load(self) -> None:
        ckpt.clean_temporaries(self.ckpt_dir)
        path = ckpt.latest_checkpoint(self.ckpt_dir)
        state = ckpt.load_checkpoint(path)
        ckpt.check_matches(state.get("run", {}), self._signature(), "method or batch order", path)
        self.modules.load_state_dict(state["modules"])
        self.optimizer.load_state_dict(state["optimizer"])
        ckpt.set_rng_state(state["rng"])
        self.step = int(state["step"])
        self.metrics.truncate_after(self.step)

    # ------------------------------------------------------------------ stepping
    def optimizer_step(self) -> float:
        """Clip, set the scheduled lr, step, zero; returns the gradient norm before clipping."""
        clip = self.cfg.grad_clip if self.cfg.grad_clip > 0 else math.inf
        norm = torch.nn.utils.clip_grad_norm_(self.params, clip)
        for group in self.optimizer.param_groups:
            group["lr"] = lr_at(self.cfg, self.step)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(norm)

    def loop(self, train_step: Callable[[int], dict[str, float]],
             evaluate: Callable[[], dict[str, float]] | None = None,
             show: tuple[str, ...] = ("loss",), callback: Callable[[int], None] | None = None) -> None:
        """Call `train_step(step)` until cfg.steps, logging, evaluating and checkpointing.

        `train_step` returns the step's metrics; "loss" feeds the progress bar and
        "tokens" (the tokens it processed) its speed. `callback(steps_done)` runs
        after each step (e.g. to measure the model mid-run).
        """
        cfg = self.cfg
        with TrainProgress(cfg.steps, self.step, enabled=self.progress_enabled, description=self.title,
                           log=self.progress_enabled) as bar:
            while self.step < cfg.steps:
                metrics = train_step(self.step)
                metrics["lr"] = lr_at(cfg, self.step)
                self.step += 1
                bar.update(1, int(metrics.pop("tokens", 0)), metrics.get("loss"))
                last = self.step == cfg.steps
                if self.step % cfg.log_every == 0 or last:
                    self.metrics.log("train", self.step, **metrics)
                if self.step % cfg.eval_every == 0 or last:
                    held_out = evaluate() if evaluate is not None else {}
                    if held_out:
                        self.metrics.log("eval", self.step, **held_out)
                    seen = {**metrics, **{f"eval/{k}": v for k, v in held_out.items()}}
                    bar.print(f"step {self.step:>6,}  " + "  ".join(f"{k} {seen[k]:.4g}" for k in show if k in seen))
                if self.step % cfg.save_every == 0 or last:
                    self.save()
                if callback is not None:
                    callback(self.step)
        self.plot()

    def finish(self, model: nn.Module, tokenizer) -> Path:
        """Write the final model as an HF folder at RUN/model."""
        from llmos.hub import save_pretrained
        return save_pretrained(model, self.dir / MODEL, tokenizer=tokenizer)

    def plot(self) -> Path | None:
        return plot_metrics(read_metrics(self.metrics_path), self.dir / "metrics.png",
                            f"{self.title}: {self.dir.name}")


def plot_metrics(rows: list[dict], path: Path, title: str) -> Path | None:
    """One small panel per metric against the step (PNG); held-out values as dots."""
    train = [r for r in rows if r.get("kind") == "train"]
    evals = [r for r in rows if r.get("kind") == "eval"]
    keys = sorted({k for r in rows for k, v in r.items() if k not in ("kind", "step") and isinstance(v, (int, float))})
    if not keys:
        return None
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    cols = min(4, len(keys))
    nrows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 2.4 * nrows), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        for series, style, label in ((train, "-", "train"), (evals, "o", "held out")):
            pts = [(r["step"], r[key]) for r in series if isinstance(r.get(key), (int, float))]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], style, ms=3, lw=1, label=label)
        ax.set_title(key, fontsize=9)
        ax.tick_params(labelsize=7)
        if evals and any(key in r for r in evals) and any(key in r for r in train):
            ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
