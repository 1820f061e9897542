"""Reward modelling: learn a scalar score from preference pairs.

Under the Bradley-Terry model a person prefers y_w to y_l with probability
sigmoid(r(x, y_w) - r(x, y_l)); maximising the likelihood of the observed
preferences gives the loss (Ouyang et al. 2022, eq. 1)

    L = -log sigmoid(r(x, y_w) - r(x, y_l))

The model is the LM backbone with a scalar head read at the last token
(`heads.RewardModel`); chosen and rejected go through it in one forward pass.
Only differences of rewards are learned, so the scale's zero is arbitrary.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from llmos.config import ConfigError
from llmos.nn import CausalLM
from llmos.train.align.data import PreferencePair, SFTExample, pair_batch, sft_batch
from llmos.train.align.heads import RewardModel
from llmos.train.align.logprobs import split_pairs
from llmos.train.align.loop import AlignConfig, Run, batch_indices, split_eval


@dataclass
class RewardConfig(AlignConfig):
    lr: float = 5e-5


def reward_loss(chosen: Tensor, rejected: Tensor) -> Tensor:
    """-log sigmoid(r_w - r_l), averaged over pairs: chosen, rejected (B,) -> scalar."""
    return -F.logsigmoid(chosen - rejected).mean()


def pair_rewards(model: RewardModel, tokenizer, pairs: list[PreferencePair],
                 cfg: AlignConfig) -> tuple[Tensor, Tensor]:
    """(r(x, y_w), r(x, y_l)), each (B,)."""
    batch = pair_batch(tokenizer, pairs, cfg.max_len, cfg.max_prompt_len).to(cfg.device)
    return split_pairs(model(batch.input_ids, batch.attention_mask))


def pair_metrics(chosen: Tensor, rejected: Tensor) -> dict[str, float]:
    return {"loss": float(reward_loss(chosen, rejected)),
            "accuracy": float((chosen > rejected).float().mean()),
            "rewards/chosen": float(chosen.mean()), "rewards/rejected": float(rejected.mean()),
            "rewards/margins": float((chosen - rejected).mean())}


def ranking_accuracy(model: RewardModel, tokenizer, pairs: list[PreferencePair], cfg: AlignConfig) -> float:
    """Share of pairs where the model scores the chosen response above the rejected one."""
    hits = 0
    with torch.no_grad():
        for i in range(0, len(pairs), cfg.batch_size):
            c, r = pair_rewards(model, tokenizer, pairs[i:i + cfg.batch_size], cfg)
            hits += int((c > r).sum())
    return hits / len(pairs)


def reward_function(model: RewardModel, tokenizer, max_len: int = 256, max_prompt_len: int = 128,
                    batch_size: int = 32) -> Callable[[list[str], list[str]], list[float]]:
    """The reward model as a `reward_fn(prompts, completions) -> scores` for PPO."""
    device = next(model.parameters()).device

    @torch.no_grad()
    def score(prompts: list[str], completions: list[str]) -> list[float]:
        out: list[float] = []
        for i in range(0, len(prompts), batch_size):
            examples = [SFTExample(p, c) for p, c in zip(prompts[i:i + batch_size], completions[i:i + batch_size])]
            batch = sft_batch(tokenizer, examples, max_len, max_prompt_len).to(device)
            out += model(batch.input_ids, batch.attention_mask).tolist()
        return out
    return score


def train_reward(backbone: CausalLM, tokenizer, pairs: list[PreferencePair], out: str | Path, cfg: RewardConfig,
                 resume: bool = False, progress: bool = True,
                 callback: Callable[[int], None] | None = None) -> tuple[Path, RewardModel]:
    """Train a reward model from preference pairs; writes RUN/model + RUN/reward_head.safetensors."""
    if not pairs:
        raise ConfigError("a reward model needs at least one preference pair")
    model = RewardModel(backbone, seed=cfg.seed).to(cfg.device).train()
    train, held_out = split_eval(pairs, cfg.eval_fraction, cfg.seed)
    run = Run(out, cfg, {"reward_model": model}, resume=resume, progress=progress, title="reward")

    def step(k: int) -> dict[str, float]:
        pairs_k = [train[i] for i in batch_indices(len(train), cfg.batch_size, k, cfg.seed)]
        batch = pair_batch(tokenizer, pairs_k, cfg.max_len, cfg.max_prompt_len).to(cfg.device)
        chosen, rejected = split_pairs(model(batch.input_ids, batch.attention_mask))
        loss = reward_loss(chosen, rejected)
        loss.backward()
        metrics = pair_metrics(chosen.detach(), rejected.detach())
        metrics["grad_norm"] = run.optimizer_step()
        metrics["tokens"] = int(batch.attention_mask.sum())
        return metrics

    def evaluate() -> dict[str, float]:
        model.eval()
        acc = ranking_accuracy(model, tokenizer, held_out, cfg)
        model.train()
        return {"accuracy": acc}

    run.loop(step, evaluate if held_out else None, show=("loss", "accuracy", "eval/accuracy"), callback=callback)
    model.eval().save(run.dir, tokenizer)
    return run.dir, model
