"""Train a small llmos model on a synthetic reasoning task, in minutes on a CPU.

    result = train_task(TrainTaskConfig(task="word", format="calc"), "runs/reason-word-calc")

The loop is supervised next-token training on (prompt, target) pairs drawn
fresh every step from the task's training side (no pair from the held-out
side is ever drawn):

    x = [eos] + prompt + target + [eos]          loss = CE on the target and the final eos only

with AdamW and warmup + cosine decay; `precision="bf16"` runs the forward under
autocast (weights and AdamW stay fp32), about 1.8x faster on a CPU with AVX-512
BF16, and "auto" picks it where the CPU has it. The run folder ends up holding the model
in Hugging Face format with its character tokenizer (`llmos reason cot ...
--model RUN`, `llmos serve RUN` and `transformers` open it), `reason.json`
(the task, format and prompt template, which `llmos reason` reads), and
`metrics.json` with the held-out accuracy.
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Literal

import torch

from llmos.config import atomic_write_text
from llmos.hub import save_pretrained
from llmos.infer.calculator import sample_rows
from llmos.infer.sampling import GenerationConfig
from llmos.nn import CausalLM, ModelConfig
from llmos.reason.local_backend import REASON_CONFIG, read_reason_config  # noqa: F401  (re-exported)
from llmos.reason.tasks import ALPHABET, get_task
from llmos.text import Tokenizer
from llmos.train.optim import make_adamw
from llmos.train.precision import autocast, cpu_precision
from llmos.train.schedule import warmup_cosine



@dataclass
class TrainTaskConfig:
    task: str = "word"
    format: Literal["direct", "cot", "calc"] = "calc"
    sizes: list[int] = field(default_factory=list)       # operations / digits trained; [] = the task's default
    d_model: int = 64
    n_layers: int = 3
    n_heads: int = 4
    d_ff: int = 192
    max_seq_len: int = 256
    steps: int = 1500
    batch_size: int = 32
    lr: float = 3e-3
    min_lr: float = 3e-4
    warmup_steps: int = 100
    weight_decay: float = 0.0
    seed: int = 0
    threads: int = 0
    eval_n: int = 200                                    # held-out problems per size at the end
    eval_tokens: int = 120                               # most tokens generated per held-out problem
    init: str = ""                                       # start from this run's weights (train longer)
    precision: Literal["fp32", "bf16", "auto"] = "fp32"  # the forward's dtype; "auto": bf16 where native

    def __post_init__(self) -> None:
        get_task(self.task)
        if self.format not in ("direct", "cot", "calc"):
            raise ValueError(f"format must be direct, cot or calc, got {self.format!r}")
        if self.precision not in ("fp32", "bf16", "auto"):
            raise ValueError(f"precision must be fp32, bf16 or auto, got {self.precision!r}")
        for name in ("d_model", "n_layers", "n_heads", "steps", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")

    @property
    def train_sizes(self) -> tuple[int, ...]:
        return tuple(self.sizes) or get_task(self.task).default_sizes


def make_model(cfg: TrainTaskConfig, tokenizer: Tokenizer) -> CausalLM:
    torch.manual_seed(cfg.seed)
    return CausalLM(ModelConfig.for_family(
        "llama", vocab_size=tokenizer.vocab_size, d_model=cfg.d_model, n_layers=cfg.n_layers, n_heads=cfg.n_heads,
        d_ff=cfg.d_ff, max_seq_len=cfg.max_seq_len, eos_token_id=tokenizer.eos_id, bos_token_id=tokenizer.eos_id))


def encode_batch(tokenizer: Tokenizer, pairs: list[tuple[str, str]]) -> tuple[torch.Tensor, torch.Tensor]:
    """input ids (B, T) and targets (B, T): -100 on the prompt and the padding."""
    eos = tokenizer.eos_id
    rows = [([eos] + tokenizer.encode(p), tokenizer.encode(t) + [eos]) for p, t in pairs]
    width = max(len(p) + len(t) for p, t in rows) - 1
    ids = torch.full((len(rows), width), eos, dtype=torch.long)
    targets = torch.full((len(rows), width), -100, dtype=torch.long)
    for i, (p, t) in enumerate(rows):
        seq = p + t
        ids[i, :len(seq) - 1] = torch.tensor(seq[:-1])
        targets[i, len(p) - 1:len(seq) - 1] = torch.tensor(t)          # predict each target token
    return ids, targets


def evaluate(model, tokenizer, task_name: str, items: list, calculator: bool, batch: int = 100,
             max_new_tokens: int = 120) -> tuple[float, list[str]]:
    """Greedy held-out accuracy and the generated texts."""
    task = get_task(task_name)
    texts: list[str] = []
    cfg = GenerationConfig(max_new_tokens=max_new_tokens, temperature=0, stop=list(task.stop))
    for i in range(0, len(items), batch):
        prompts = [[tokenizer.eos_id] + tokenizer.encode(task.prompt(it)) for it in items[i:i + batch]]
        texts += [r.text for r in sample_rows(model, tokenizer, prompts, cfg, calculator=calculator)]
    return sum(task.grade(it, t) for it, t in zip(items, texts)) / max(len(items), 1), texts


@dataclass
class TrainTaskResult:
    run_dir: Path
    accuracy: dict[int, float]                     # size -> held-out accuracy
    seconds: float
    params: int
    final_loss: float


def train_task(cfg: TrainTaskConfig, run_dir: str | Path, progress: Callable[[int, float], None] | None = None,
               eval_sizes: list[int] | None = None) -> TrainTaskResult:
    run_dir = Path(run_dir)
    task = get_task(cfg.task)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    tokenizer = Tokenizer.char(ALPHABET)
    model = make_model(cfg, tokenizer)
    if cfg.init:
        from llmos.hub import load_model
        model.load_state_dict(load_model(cfg.init).state_dict())
    opt = make_adamw(model, cfg.lr, cfg.weight_decay, (0.9, 0.99))
    rng = random.Random(cfg.seed)
    start, loss_value = time.time(), float("nan")
    precision, device = cpu_precision(cfg.precision), next(model.parameters()).device
    model.train()
    for step in range(cfg.steps):
        lr = warmup_cosine(step, cfg.lr, cfg.min_lr, cfg.warmup_steps, cfg.steps)
        for group in opt.param_groups:
            group["lr"] = lr
        ids, targets = encode_batch(tokenizer, [task.example(rng, cfg.format, cfg.train_sizes)
                                                for _ in range(cfg.batch_size)])
        with autocast(device, precision):
            loss = model(ids, targets=targets).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss_value = 0.9 * loss_value + 0.1 * loss.item() if step else loss.item()
        if progress:
            progress(step + 1, loss_value)
    model.eval()
    calculator = cfg.format == "calc"
    accuracy = {}
    for size in eval_sizes or list(cfg.train_sizes):
        accuracy[size], _ = evaluate(model, tokenizer, cfg.task, task.held_out(cfg.eval_n, size=size), calculator,
                                     max_new_tokens=cfg.eval_tokens)
    seconds = time.time() - start
    save_pretrained(model, run_dir / "model", tokenizer=tokenizer)
    reason = {"task": cfg.task, "format": cfg.format, "calculator": calculator, "template": task.template,
              "trigger": "", "stop": list(task.stop), "numeric": True}
    atomic_write_text(run_dir / "model" / REASON_CONFIG, json.dumps(reason, indent=2) + "\n")
    atomic_write_text(run_dir / "metrics.json", json.dumps(
        {"config": asdict(cfg), "accuracy": {str(k): v for k, v in accuracy.items()}, "seconds": round(seconds, 1),
         "params": model.num_parameters(), "final_loss": loss_value}, indent=2) + "\n")
    return TrainTaskResult(run_dir, accuracy, seconds, model.num_parameters(), loss_value)
