"""The settings of a pretraining run: model, data, and the training loop.

    cfg = override(PRESETS["char"], ["model.n_layers=6", "train.lr=3e-4"])

`PretrainConfig` nests three typed dataclasses, so every setting has one
dotted name on the command line (`model.*` is `llmos.nn.ModelConfig`). Each
checks its values when it is built, so a bad setting (`train.eval_every=0`)
is refused by name before a run starts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from llmos.config import ConfigError, require, require_at_least, require_choice
from llmos.nn.config import ModelConfig


@dataclass
class DataConfig:
    corpus: str = "default"          # "default" (the embedded corpus), a text file, or a folder
    tokenizer: str = "char"          # "char", "bpe" (trained on the corpus), or a tokenizer.json / HF folder
    vocab_size: int = 4096           # for tokenizer=bpe
    val_fraction: float = 0.1        # the last 10% of the (document-shuffled) token stream validates
    seed: int = 0                    # document shuffle before packing

    def __post_init__(self) -> None:
        require_at_least(self, 2, "vocab_size")
        require(0 < self.val_fraction < 1, "val_fraction", "in (0, 1)", self.val_fraction)


@dataclass
class TrainConfig:
    max_steps: int = 2000            # optimizer updates
    batch_size: int = 12             # sequences per micro-batch per process
    grad_accum: int = 1              # micro-batches per update; global batch = batch * accum * processes
    seq_len: int | None = None       # tokens per sequence; None = model.max_seq_len
    lr: float = 1e-3                 # peak learning rate
    min_lr: float = 1e-4             # floor of the cosine decay
    warmup_steps: int = 100          # linear warmup from 0
    decay_steps: int | None = None   # cosine decay ends here; None = max_steps
    weight_decay: float = 0.1        # AdamW, on matrices only (not norms, biases, embeddings)
    decay_embeddings: bool = False   # also decay embedding tables (nanoGPT does)
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0           # max global gradient norm; 0 = off
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"   # auto: bf16 on CUDA that has it, else fp32
    compile: bool = False            # torch.compile the model
    eval_every: int = 250
    eval_batches: int = 20           # fixed validation batches per evaluation
    checkpoint_every: int = 500
    keep_checkpoints: int = 2        # newest checkpoints kept on disk
    log_every: int = 10              # metrics.jsonl rows of training loss
    seed: int = 1337                 # weights, dropout and batch positions
    device: str = "auto"             # auto: cuda when available, else cpu
    threads: int = 0                 # CPU threads for torch; 0 = torch's default
    parallel: Literal["ddp", "fsdp"] = "ddp"   # how torchrun processes share the model

    def __post_init__(self) -> None:
        require_at_least(self, 1, "max_steps", "batch_size", "grad_accum", "seq_len", "decay_steps",
                         "eval_every", "eval_batches", "checkpoint_every", "keep_checkpoints", "log_every")
        require_at_least(self, 0, "warmup_steps", "weight_decay", "grad_clip", "threads", "min_lr")
        require(self.lr > 0, "lr", "> 0", self.lr)
        require(self.min_lr <= self.lr, "min_lr", f"<= lr={self.lr}", self.min_lr)
        for name in ("beta1", "beta2"):
            require(0 <= getattr(self, name) < 1, name, "in [0, 1)", getattr(self, name))
        require_choice(self, "precision")
        require_choice(self, "parallel")


@dataclass
class PretrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    preset: str = ""

    def __post_init__(self) -> None:
        if self.train.seq_len is not None and self.train.seq_len > self.model.max_seq_len:
            raise ConfigError(f"train.seq_len={self.train.seq_len} is longer than model.max_seq_len="
                              f"{self.model.max_seq_len}; lower one or raise the other")

    @property
    def seq_len(self) -> int:
        return self.train.seq_len or self.model.max_seq_len
