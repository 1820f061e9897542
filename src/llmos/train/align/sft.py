"""Supervised fine-tuning: next-token loss on the response, given the prompt.

    L = -(1/N) sum over response tokens t of log pi(y_t | x, y_<t)

Prompt tokens (and padding) get the target -100, so the model is taught what
to answer, not to reproduce the question. The response ends with eos, so the
tuned model also learns to stop.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

import torch
from torch import Tensor

from llmos.config import ConfigError, require_choice
from llmos.nn import CausalLM
from llmos.train.align.data import Batch, SFTExample, sft_batch
from llmos.train.align.loop import AlignConfig, Run, batch_indices, length_grouped_indices, split_eval
from llmos.train.precision import autocast


@dataclass
class SFTConfig(AlignConfig):
    lr: float = 3e-5
    precision: Literal["fp32", "bf16"] = "fp32"   # bf16: the forward under autocast; weights and AdamW stay fp32
    group_by_length: bool = False   # batches of similar lengths (less padding); still a function of (seed, step)

    def __post_init__(self) -> None:
        super().__post_init__()
        require_choice(self, "precision")


def sft_targets(batch: Batch) -> Tensor:
    """Targets (B, T) for `model(input_ids, targets=...)`: the next token where it is a response token, else -100."""
    targets = torch.full_like(batch.input_ids, -100)
    nxt = batch.input_ids[:, 1:]
    targets[:, :-1] = torch.where(batch.response_mask[:, 1:].bool(), nxt, torch.full_like(nxt, -100))
    return targets


def sft_loss(model: CausalLM, batch: Batch) -> Tensor:
    """Mean cross-entropy over response tokens (plus MoE router losses)."""
    return model(batch.input_ids, targets=sft_targets(batch)).loss


def train_sft(model: CausalLM, tokenizer, examples: list[SFTExample], out: str | Path, cfg: SFTConfig,
              resume: bool = False, progress: bool = True,
              callback: Callable[[int], None] | None = None) -> Path:
    """Fine-tune `model` on prompt/response examples; returns the run folder (model at RUN/model)."""
    if not examples:
        raise ConfigError("SFT needs at least one example")
    model.to(cfg.device).train()
    train, held_out = split_eval(examples, cfg.eval_fraction, cfg.seed)
    run = Run(out, cfg, {"model": model}, resume=resume, progress=progress, title="sft")

    lengths = tuple(len(e.prompt) + len(e.response) for e in train) if cfg.group_by_length else None

    def step(k: int) -> dict[str, float]:
        rows = (length_grouped_indices(lengths, cfg.batch_size, k, cfg.seed) if lengths
                else batch_indices(len(train), cfg.batch_size, k, cfg.seed))
        tokens = sft_batch(tokenizer, [train[i] for i in rows], cfg.max_len, cfg.max_prompt_len).to(cfg.device)
        with autocast(tokens.input_ids.device, cfg.precision):
            loss = sft_loss(model, tokens)
        loss.backward()
        return {"loss": float(loss.detach()), "grad_norm": run.optimizer_step(),
                "tokens": int(tokens.attention_mask.sum())}

    def evaluate() -> dict[str, float]:
        model.eval()
        with torch.no_grad():
            losses = [float(sft_loss(model, sft_batch(tokenizer, held_out[i:i + cfg.batch_size], cfg.max_len,
                                                      cfg.max_prompt_len).to(cfg.device)))
                      for i in range(0, len(held_out), cfg.batch_size)]
        model.train()
        return {"loss": sum(losses) / len(losses)}

    run.loop(step, evaluate if held_out else None, show=("loss", "eval/loss"), callback=callback)
    run.finish(model, tokenizer)
    return run.dir
