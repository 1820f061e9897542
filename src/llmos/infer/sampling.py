"""Choosing the next token from a model's logits.

In order, as `transformers` applies them:
  repetition penalty (Keskar et al. 2019, CTRL): a logit of a token already
      seen is divided by p if positive, multiplied by p if negative
  temperature:  logits / T           (T = 0 means greedy: take the argmax)
  top-k:        keep the k largest logits
  top-p:        keep the smallest set of tokens whose probability sums to >= p
                (nucleus sampling, Holtzman et al. 2020)
then sample from softmax(logits) with a seeded generator, so the same seed
gives the same sample.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor


@dataclass
class GenerationConfig:
    max_new_tokens: int = 100
    temperature: float = 1.0            # 0: greedy
    top_k: int | None = None
    top_p: float | None = None
    repetition_penalty: float = 1.0
    stop: list[str] = field(default_factory=list)        # stop strings (need a tokenizer)
    stop_token_ids: list[int] | None = None              # None: the model's eos token
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be >= 0, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0 (0 = greedy), got {self.temperature}")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {self.top_k}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.repetition_penalty <= 0:
            raise ValueError(f"repetition_penalty must be > 0, got {self.repetition_penalty}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0 or self.top_k == 1


def apply_repetition_penalty(logits: Tensor, history: Tensor, penalty: float) -> Tensor:
    """logits (B, V); history (B, T) token ids already in the sequence."""
    if penalty == 1.0 or history.numel() == 0:
        return logits
    seen = logits.gather(-1, history)
    seen = torch.where(seen > 0, seen / penalty, seen * penalty)
    return logits.scatter(-1, history, seen)


def apply_top_k(logits: Tensor, k: int) -> Tensor:
    k = min(k, logits.shape[-1])
    kth = logits.topk(k, dim=-1).values[..., -1:]                    # (B, 1)
    return logits.masked_fill(logits < kth, float("-inf"))


def apply_top_p(logits: Tensor, p: float) -> Tensor:
    if p >= 1.0:
        return logits
    sorted_logits, order = logits.sort(dim=-1, descending=False)
    cum = sorted_logits.softmax(-1).cumsum(-1)                      # ascending
    drop = cum <= 1 - p                                             # the low tail summing to <= 1 - p
    drop[..., -1] = False                                           # always keep the most likely
    return logits.masked_fill(drop.scatter(-1, order, drop), float("-inf"))


def process_logits(logits: Tensor, history: Tensor | None, cfg: GenerationConfig) -> Tensor:
    """Penalty, temperature, top-k, top-p applied to logits (B, V) in fp32."""
    logits = logits.float()
    if history is not None:
        logits = apply_repetition_penalty(logits, history, cfg.repetition_penalty)
    if cfg.greedy:
        return logits
    logits = logits / cfg.temperature
    if cfg.top_k is not None:
        logits = apply_top_k(logits, cfg.top_k)
    if cfg.top_p is not None:
        logits = apply_top_p(logits, cfg.top_p)
    return logits


def sample(logits: Tensor, history: Tensor | None, cfg: GenerationConfig,
           generator: torch.Generator | None = None) -> Tensor:
    """Next token ids (B,) from logits (B, V)."""
    processed = process_logits(logits, history, cfg)
    if cfg.greedy:
        return processed.argmax(-1)
    probs = processed.softmax(-1)
    broken = ~torch.isfinite(probs).all(-1)          # a vanishing temperature overflowed: that is greedy
    if broken.any():
        greedy = process_logits(logits[broken], None if history is None else history[broken],
                                GenerationConfig(temperature=0, repetition_penalty=cfg.repetition_penalty))
        probs[broken] = torch.nn.functional.one_hot(greedy.argmax(-1), probs.shape[-1]).to(probs.dtype)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def make_generator(seed: int | None, device: torch.device | str = "cpu") -> torch.Generator:
    g = torch.Generator(device=device)
    if seed is None:
        g.seed()
    else:
        g.manual_seed(seed)
    return g
