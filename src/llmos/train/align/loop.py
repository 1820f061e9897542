"""The run folder and training loop shared by SFT, reward modelling, PPO and DPO.

A run folder holds everything one alignment run makes:

    RUN/train_config.json  the method's settings (what `--resume` reads back; not
                           config.json, which would make RUN look like an HF folder)
    RUN/checkpoint.pt      trainable weights, optimizer, step, RNG: written atomically
    RUN/metrics.jsonl      one JSON object per logged step
    RUN/metrics.png        every logged metric against the step
    RUN/model/             the final model as an HF folder (llmos generate/serve read it)

Resume is exact for the data order: batch k of a run is a function of (seed, k)
alone (a fresh permutation per epoch), so a resumed run reads the same batches
it would have read without the interruption, and sampling in PPO is seeded by
(seed, step) for the same reason.
"""
from __future__ import annotations

import json
import math
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from llmos.config import ConfigError, save_config

CONFIG_FILE = "train_config.json"


@dataclass
class AlignConfig:
    """Settings every alignment method shares."""
    steps: int = 200                # optimizer steps
    batch_size: int = 8             # examples (pairs, prompts) per step
    lr: float = 1e-5
    weight_decay: float = 0.0
    warmup_steps: int = 0
    schedule: str = "constant"      # "constant" or "cosine" after warmup
    grad_clip: float = 1.0
    max_len: int = 256              # prompt + response tokens
    max_prompt_len: int = 128
    eval_fraction: float = 0.0      # held-out share of the data, evaluated every eval_every steps
    eval_every: int = 50
    log_every: int = 1
    save_every: int = 50
    seed: int = 0
    device: str = "cpu"

    def validate(self) -> None:
        for name in ("steps", "batch_size", "max_len", "max_prompt_len", "log_every", "save_every", "eval_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_prompt_len >= self.max_len:
            raise ConfigError(f"max_prompt_len={self.max_prompt_len} must be below max_len={self.max_len}")
        if self.schedule not in ("constant", "cosine"):
            raise ConfigError(f"schedule must be 'constant' or 'cosine', got {self.schedule!r}")
        if not 0 <= self.eval_fraction < 1:
            raise ConfigError(f"eval_fraction must be in [0, 1), got {self.eval_fraction}")


def lr_at(cfg: AlignConfig, step: int) -> float:
    """Linear warmup, then constant or cosine decay to 10% of lr."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    if cfg.schedule == "constant":
        return cfg.lr
    progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


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


def split_eval(items: list, fraction: float, seed: int) -> tuple[list, list]:
    """(train, eval) with a seeded shuffle; eval gets round(fraction * n) items."""
    if fraction <= 0:
        return items, []
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    k = max(1, round(fraction * len(items)))
    return [items[i] for i in order[k:]], [items[i] for i in order[:k]]


class Run:
    """A run folder: config, atomic checkpoints, metrics log, plot, progress bar."""

    def __init__(self, out: str | Path, cfg: AlignConfig, modules: dict[str, nn.Module],
                 resume: bool = False, progress: bool = True, title: str = "train"):
        cfg.validate()
        self.dir, self.cfg, self.modules, self.title = Path(out), cfg, modules, title
        self.progress_enabled = progress
        params = [p for m in modules.values() for p in m.parameters() if p.requires_grad]
        self.params = params
        self.optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.step = 0
        if self.checkpoint_path.exists():
            if not resume:
                raise ConfigError(f"{self.dir} already holds a run; pass --resume to continue it "
                                  "or choose a new output folder")
            self._load()
        elif (self.dir / "model" / "config.json").exists() and not resume:
            raise ConfigError(f"{self.dir} already holds a finished model; choose a new output folder")
        self.dir.mkdir(parents=True, exist_ok=True)
        save_config(cfg, self.dir / CONFIG_FILE)

    @property
    def checkpoint_path(self) -> Path:
        return self.dir / "checkpoint.pt"

    @property
    def metrics_path(self) -> Path:
        return self.dir / "metrics.jsonl"

    # ------------------------------------------------------------------ checkpoints
    def save(self, extra: dict[str, Any] | None = None) -> None:
        """Write checkpoint.pt atomically: readers see the old checkpoint or the new, never half."""
        state = {"step": self.step, "optimizer": self.optimizer.state_dict(),
                 "modules": {k: m.state_dict() for k, m in self.modules.items()},
                 "torch_rng": torch.get_rng_state(), "extra": extra or {}}
        tmp = self.checkpoint_path.with_name(f".checkpoint.pt.tmp{os.getpid()}")
        torch.save(state, tmp)
        os.replace(tmp, self.checkpoint_path)

    def _load(self) -> None:
        try:
            state = torch.load(self.checkpoint_path, map_location=self.cfg.device, weights_only=False)
        except Exception as e:
            raise ConfigError(f"{self.checkpoint_path} cannot be read ({e}); it is corrupt. "
                              "Delete it to start over.") from None
        for k, m in self.modules.items():
            if k not in state["modules"]:
                raise ConfigError(f"{self.checkpoint_path} has no weights for {k!r}; it is from another method")
            m.load_state_dict(state["modules"][k])
        self.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        self.step = int(state["step"])
        self.extra = state.get("extra", {})
        self._truncate_metrics(self.step)

    def _truncate_metrics(self, step: int) -> None:
        """Drop log lines written after the checkpoint (they will be written again)."""
        if not self.metrics_path.exists():
            return
        keep = [line for line in self.metrics_path.read_text().splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= step]
        self.metrics_path.write_text("".join(line + "\n" for line in keep))

    # ------------------------------------------------------------------ stepping
    def optimizer_step(self) -> float:
        """Clip, set the scheduled lr, step, zero; returns the gradient norm before clipping."""
        norm = torch.nn.utils.clip_grad_norm_(self.params, self.cfg.grad_clip if self.cfg.grad_clip > 0 else 1e9)
        for group in self.optimizer.param_groups:
            group["lr"] = lr_at(self.cfg, self.step)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(norm)

    def log(self, metrics: dict[str, float]) -> None:
        record = {"step": self.step, **{k: round(float(v), 6) for k, v in metrics.items()}}
        with open(self.metrics_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def loop(self, train_step: Callable[[int], dict[str, float]],
             evaluate: Callable[[], dict[str, float]] | None = None,
             show: tuple[str, ...] = ("loss",), callback: Callable[[int], None] | None = None) -> None:
        """Call `train_step(step)` until cfg.steps, logging, evaluating and checkpointing.

        `callback(steps_done)` runs after each step (e.g. to measure the model mid-run).
        """
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
        cfg = self.cfg
        columns = (TextColumn(f"[bold]{self.title}"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), TextColumn("{task.fields[info]}"))
        with Progress(*columns, disable=not self.progress_enabled, transient=False) as bar:
            task = bar.add_task(self.title, total=cfg.steps, completed=self.step, info="")
            while self.step < cfg.steps:
                metrics = train_step(self.step)
                metrics["lr"] = lr_at(cfg, self.step)
                self.step += 1
                if evaluate is not None and (self.step % cfg.eval_every == 0 or self.step == cfg.steps):
                    metrics.update({f"eval/{k}": v for k, v in evaluate().items()})
                if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                    self.log(metrics)
                if self.step % cfg.save_every == 0 or self.step == cfg.steps:
                    self.save()
                info = "  ".join(f"{k.split('/')[-1] if k.count('/') else k} {metrics[k]:.3g}"
                                 for k in show if k in metrics)
                bar.update(task, completed=self.step, info=info)
                if callback is not None:
                    callback(self.step)
        self.plot()

    def finish(self, model: nn.Module, tokenizer) -> Path:
        """Write the final model as an HF folder at RUN/model."""
        from llmos.hub import save_pretrained
        return save_pretrained(model, self.dir / "model", tokenizer=tokenizer)

    # ------------------------------------------------------------------ pictures
    def read_metrics(self) -> list[dict[str, float]]:
        if not self.metrics_path.exists():
            return []
        return [json.loads(line) for line in self.metrics_path.read_text().splitlines() if line.strip()]

    def plot(self) -> Path | None:
        return plot_metrics(self.read_metrics(), self.dir / "metrics.png", self.title)


def plot_metrics(records: list[dict[str, float]], path: Path, title: str) -> Path | None:
    """One small panel per metric against the step (PNG)."""
    if not records:
        return None
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    keys = sorted({k for r in records for k in r if k != "step"})
    cols = min(4, len(keys))
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        pts = [(r["step"], r[key]) for r in records if key in r]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="." if len(pts) < 30 else None)
        ax.set_title(key, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
