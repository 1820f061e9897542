"""Next-token pretraining: the training loop of a decoder-only language model.

One optimizer step, as in nanoGPT:

    for each of grad_accum micro-batches (x, y), y = x shifted by one token:
        loss = CE(model(x), y) [+ MoE router losses]  / grad_accum     # mixed precision if asked
        loss.backward()                                  # DDP/FSDP average gradients across processes
    clip the global gradient norm to grad_clip
    AdamW step with lr = warmup_cosine(step)

around which the run evaluates on fixed validation batches, logs
`metrics.jsonl`, redraws `loss.png`, writes atomic checkpoints, shows a
progress bar, and at the end saves the model as a Hugging Face folder
`RUN/model/` (with its tokenizer) that `llmos generate RUN` and
`transformers` open.

Resuming is exact: everything the next step depends on is in the checkpoint
(see `checkpoint.py`) and each batch is a function of the step alone (see
`batches.py`), so on the CPU a run stopped at step k and resumed ends with
weights bitwise equal to a run that never stopped.

    RUN/train_config.json   the resolved PretrainConfig      RUN/metrics.jsonl, RUN/loss.png
    RUN/tokenizer/, data/   tokenizer and token shards       RUN/checkpoints/step_*.pt
    RUN/model/              the final model, HF format
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from rich.console import Console

from llmos.config import ConfigError, save_config, to_dict
from llmos.nn import CausalLM
from llmos.nn.config import ModelConfig
from llmos.text.shards import TokenShards
from llmos.text.tokenizer import Tokenizer
from llmos.train import checkpoint as ckpt
from llmos.train import distributed as dist_
from llmos.train.batches import BatchSampler
from llmos.train.config import PretrainConfig
from llmos.train.metrics import MetricsLog
from llmos.train.optim import make_adamw
from llmos.train.plots import plot_loss
from llmos.train.precision import autocast, resolve_precision
from llmos.train.prepare import PreparedData, load_prepared, prepare_data
from llmos.train.progress import TrainProgress
from llmos.train.run_folder import CHECKPOINTS, METRICS, MODEL, RUN_CONFIG
from llmos.train.schedule import warmup_cosine


@dataclass
class RunResult:
    run_dir: Path
    step: int
    train_loss: float | None
    val_loss: float | None
    unigram_entropy: float
    tokens_per_s: float           # over the whole run, evaluations and checkpoints included
    train_tokens_per_s: float     # over the training steps alone
    seconds: float
    model: CausalLM
    tokenizer: Tokenizer


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def model_config_for(cfg: PretrainConfig, tokenizer: Tokenizer) -> ModelConfig:
    """The preset's model with the tokenizer's vocabulary and special tokens (PretrainConfig has checked
    that train.seq_len fits model.max_seq_len)."""
    return cfg.model.replace(vocab_size=tokenizer.vocab_size, bos_token_id=tokenizer.bos_id,
                             eos_token_id=tokenizer.eos_id)


class Pretrainer:
    """Holds the pieces of one run; `run()` trains. Most callers use `pretrain()`."""

    def __init__(self, cfg: PretrainConfig, run_dir: str | Path, *, console: Console | None = None,
                 progress: bool = True) -> None:
        t = cfg.train
        self.run_dir = Path(run_dir)
        self.console = console or Console(soft_wrap=True)
        self.device = resolve_device(t.device)
        if t.threads > 0:
            torch.set_num_threads(t.threads)
        self.dist = dist_.init_distributed(self.device.type)
        if self.dist.enabled and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
        self.precision = resolve_precision(t.precision, self.device)
        self.show = progress and self.dist.main
        self.data = self._prepare(cfg)
        self.model_cfg = model_config_for(cfg, self.data.tokenizer)
        self.cfg = cfg = PretrainConfig(model=self.model_cfg, data=cfg.data, train=t, preset=cfg.preset)
        if self.dist.main:
            save_config(cfg, self.run_dir / RUN_CONFIG)
        torch.manual_seed(t.seed)
        self.raw = CausalLM(self.model_cfg).to(self.device)
        self.model = None   # wrapped for DDP/FSDP and compiled, by _wrap()
        if self._fsdp:
            self._wrap()    # FSDP swaps parameters for sharded ones: the optimizer must see those
        self.optimizer = make_adamw(self.raw, t.lr, t.weight_decay, (t.beta1, t.beta2), self.device.type,
                                    t.decay_embeddings)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.precision == "fp16")
        self.train_batches = BatchSampler(TokenShards(self.data.folder, "train"), cfg.seq_len, t.batch_size,
                                          t.seed, t.grad_accum, self.dist.world, self.dist.rank)
        self.val_batches = BatchSampler(TokenShards(self.data.folder, "val"), cfg.seq_len, t.batch_size,
                                        t.seed, 1, self.dist.world, self.dist.rank)
        self.ckpt_dir = self.run_dir / CHECKPOINTS
        self.metrics = MetricsLog(self.run_dir / METRICS, enabled=self.dist.main)
        self.step, self.tokens_seen, self.elapsed_before = 0, 0, 0.0

    # ------------------------------------------------------------------ set-up
    def _prepare(self, cfg: PretrainConfig) -> PreparedData:
        if self.dist.main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            data = prepare_data(cfg.data, self.run_dir, log=self.log)
        dist_.barrier(self.dist)
        return data if self.dist.main else load_prepared(self.run_dir)

    def log(self, message: str) -> None:
        if self.dist.main:
            self.console.print(message)

    def _batch_signature(self) -> dict:
        t = self.cfg.train
        return {"global_batch": self.train_batches.global_batch, "seq_len": self.cfg.seq_len, "seed": t.seed}

    def _data_signature(self) -> dict:
        m = self.data.meta
        return {"n_tokens": m.n_tokens, "split": m.split, "vocab_size": m.vocab_size}

    def resume(self, path: str | Path | None = None) -> bool:
        """Load the given checkpoint, or the newest in the run; False when there is none."""
        if self.dist.main:
            for p in ckpt.clean_temporaries(self.ckpt_dir):
                self.log(f"[yellow]removed {p.name}, left by a checkpoint write that did not finish")
        dist_.barrier(self.dist)
        path = Path(path) if path else ckpt.latest_checkpoint(self.ckpt_dir)
        if path is None:
            return False
        state = ckpt.load_checkpoint(path)
        ckpt.check_matches(state["model_config"], to_dict(self.model_cfg), "model", path)
        ckpt.check_matches(state["batch"], self._batch_signature(), "batch layout", path)
        ckpt.check_matches(state["data"], self._data_signature(), "dataset", path)
        if state["optimizer_layout"] != ("fqn" if self._fsdp else "ids"):
            was = "train.parallel=fsdp" if state["optimizer_layout"] == "fqn" else "one process or DDP"
            raise ckpt.CheckpointFileError(f"checkpoint {path} was written by {was}; resume it the same way")
        if self._fsdp:
            from torch.distributed.checkpoint.state_dict import StateDictOptions, set_state_dict
            set_state_dict(self.raw, self.optimizer, model_state_dict=state["model"],
                           optim_state_dict=state["optimizer"],
                           options=StateDictOptions(full_state_dict=True))
        else:
            self.raw.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        ckpt.set_rng_state(state["rng"])
        self.step, self.tokens_seen = state["step"], state["tokens_seen"]
        self.elapsed_before = state.get("elapsed", 0.0)
        self.metrics.truncate_after(self.step)
        self.log(f"resumed from {path} at step {self.step:,}")
        return True

    @property
    def _fsdp(self) -> bool:
        return self.dist.enabled and self.cfg.train.parallel == "fsdp"

    def _wrap(self) -> None:
        if self.model is None:
            self.model = dist_.wrap(self.raw, self.dist, self.cfg.train.parallel, self.device,
                                    find_unused=self.model_cfg.n_experts > 0)
            if self.cfg.train.compile:
                self.model = torch.compile(self.model)

    def save(self) -> None:
        """Write a checkpoint of the current step (every process takes part; rank 0 writes)."""
        if self._fsdp:
            from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict
            msd, osd = get_state_dict(self.raw, self.optimizer,
                                      options=StateDictOptions(full_state_dict=True, cpu_offload=True))
        else:
            msd, osd = self.raw.state_dict(), self.optimizer.state_dict()
        if self.dist.main:
            state = {"step": self.step, "tokens_seen": self.tokens_seen, "model": msd, "optimizer": osd,
                     "optimizer_layout": "fqn" if self._fsdp else "ids",
                     "scaler": self.scaler.state_dict(), "rng": ckpt.rng_state(),
                     "config": to_dict(self.cfg), "model_config": to_dict(self.model_cfg),
                     "batch": self._batch_signature(), "data": self._data_signature(),
                     "world": self.dist.world, "elapsed": self.elapsed_before + self._clock()}
            ckpt.save_checkpoint(state, ckpt.checkpoint_path(self.ckpt_dir, self.step))
            ckpt.prune(self.ckpt_dir, self.cfg.train.keep_checkpoints)
        dist_.barrier(self.dist)

    def _clock(self) -> float:
        return time.perf_counter() - self._t0 if hasattr(self, "_t0") else 0.0

    # ------------------------------------------------------------------ steps
    def train_step(self) -> dict:
        """One optimizer update; returns the (process-averaged) numbers to log."""
        t = self.cfg.train
        lr = warmup_cosine(self.step, t.lr, t.min_lr, t.warmup_steps, t.decay_steps or t.max_steps)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        starts = self.train_batches.starts(self.step)
        lm = torch.zeros((), device=self.device)
        aux, loads = None, None
        for micro in range(t.grad_accum):
            x, y = (v.to(self.device, non_blocking=True) for v in self.train_batches.rows(starts, micro))
            with dist_.no_sync(self.model, micro == t.grad_accum - 1):
                with autocast(self.device, self.precision):
                    out = self.model(x, targets=y)                      # logits (B, T, V), loss ()
                self.scaler.scale(out.loss / t.grad_accum).backward()
            lm += out.lm_loss.detach() / t.grad_accum
            if out.aux_loss is not None:
                aux = (0.0 if aux is None else aux) + out.aux_loss.detach() / t.grad_accum
                layer_loads = torch.stack([s.load.detach().float() for s in out.router_stats])   # (L, E)
                loads = layer_loads / t.grad_accum + (0 if loads is None else loads)
        grad_norm = None
        if t.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            grad_norm = torch.nn.utils.clip_grad_norm_(self.raw.parameters(), t.grad_clip)
            grad_norm = grad_norm.full_tensor() if hasattr(grad_norm, "full_tensor") else grad_norm
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        self.tokens_seen += self.train_batches.global_batch * self.cfg.seq_len
        row = {"loss": dist_.mean_across(self.dist, lm).item(), "lr": lr}
        if grad_norm is not None:
            row["grad_norm"] = float(grad_norm)
        if aux is not None:
            row["aux_loss"] = dist_.mean_across(self.dist, aux).item()
            row["expert_load"] = [[round(v, 4) for v in layer] for layer in
                                  dist_.mean_across(self.dist, loads).tolist()]
        return row

    @torch.no_grad()
    def evaluate(self) -> float:
        """Mean validation loss over the fixed evaluation batches (shared out across processes)."""
        t, d = self.cfg.train, self.dist
        self.model.eval()
        per_rank = math.ceil(t.eval_batches / d.world)
        total = torch.zeros((), device=self.device)
        for i in range(per_rank):
            x, y = (v.to(self.device) for v in self.val_batches.eval_batch(i * d.world + d.rank))
            with autocast(self.device, self.precision):
                total += self.model(x, targets=y).lm_loss.float()
        self.model.train()
        return (dist_.sum_across(d, total) / (per_rank * d.world)).item()

    # ------------------------------------------------------------------ the loop
    def run(self, stop_at: int | None = None) -> RunResult:
        """Train to `train.max_steps` (or stop after `stop_at`, checkpointing there)."""
        t = self.cfg.train
        self._wrap()
        self.raw.train()
        end = min(t.max_steps, stop_at) if stop_at is not None else t.max_steps
        meta = self.data.meta
        self.log(f"model: {self.model_cfg.family}, {self.raw.num_parameters() / 1e6:.2f} M parameters; "
                 f"{self.dist.world} process{'es' if self.dist.world > 1 else ''} on {self.device} "
                 f"({self.precision}); global batch {self.train_batches.global_batch} x {self.cfg.seq_len} tokens")
        train_loss = val_loss = None
        speed, step_seconds, steps_run = 0.0, 0.0, 0
        self._t0 = time.perf_counter()
        tokens_per_step = self.train_batches.global_batch * self.cfg.seq_len
        with TrainProgress(t.max_steps, self.step, enabled=self.show, console=self.console,
                           log=self.dist.main) as bar:
            while self.step < end:
                t_step = time.perf_counter()
                row = self.train_step()
                step_seconds += time.perf_counter() - t_step
                steps_run += 1
                train_loss = row["loss"]
                if not math.isfinite(train_loss):
                    raise FloatingPointError(f"the training loss became {train_loss} at step {self.step}; "
                                             "lower train.lr or raise train.warmup_steps")
                speed = bar.update(1, tokens_per_step, train_loss)
                if self.step % t.log_every == 0 or self.step == end:
                    self.metrics.log("train", self.step, **row, tokens=self.tokens_seen, tokens_per_s=speed,
                                     elapsed=self.elapsed_before + self._clock())
                if self.step % t.eval_every == 0 or self.step == t.max_steps:
                    val_loss = self.evaluate()
                    self.metrics.log("eval", self.step, val_loss=val_loss, train_loss=train_loss)
                    bar.print(f"step {self.step:>6,}  train loss {train_loss:.4f}  val loss {val_loss:.4f}"
                              f"  ({speed:,.0f} tok/s)")
                    if self.dist.main:
                        plot_loss(self.run_dir / "metrics.jsonl", self.run_dir / "loss.png",
                                  title=f"{self.cfg.preset or 'run'}: {self.run_dir.name}",
                                  baseline=meta.unigram_entropy)
                if self.step % t.checkpoint_every == 0 or self.step == end:
                    self.save()
        if val_loss is None:             # nothing left to train (a finished run, resumed): still report
            val_loss = self.evaluate()
        if self.step >= t.max_steps:
            self.finish()
        train_speed = steps_run * tokens_per_step / step_seconds if step_seconds else 0.0
        return RunResult(self.run_dir, self.step, train_loss, val_loss, meta.unigram_entropy, speed,
                         train_speed, self.elapsed_before + self._clock(), self.raw, self.data.tokenizer)

    def finish(self) -> None:
        """Save the trained model as an HF folder at RUN/model and redraw the loss curve."""
        from llmos.hub import save_pretrained
        model = self.raw
        if self._fsdp:
            from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
            sd = get_model_state_dict(self.raw, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
            model = CausalLM(self.model_cfg)
            if self.dist.main:
                model.load_state_dict(sd)
        if self.dist.main:
            save_pretrained(model, self.run_dir / MODEL, tokenizer=self.data.tokenizer)
            plot_loss(self.run_dir / "metrics.jsonl", self.run_dir / "loss.png",
                      title=f"{self.cfg.preset or 'run'}: {self.run_dir.name}",
                      baseline=self.data.meta.unigram_entropy)
        dist_.barrier(self.dist)

    def close(self) -> None:
        dist_.shutdown(self.dist)


def pretrain(cfg: PretrainConfig, run_dir: str | Path, *, resume: bool = True,
             resume_from: str | Path | None = None, stop_at: int | None = None,
             console: Console | None = None, progress: bool = True) -> RunResult:
    """Train `cfg` in `run_dir`, resuming from its newest checkpoint when there is one."""
    trainer = Pretrainer(cfg, run_dir, console=console, progress=progress)
    try:
        if resume_from is not None:
            trainer.resume(resume_from)
        elif resume:
            trainer.resume()
        return trainer.run(stop_at=stop_at)
    finally:
        trainer.close()
