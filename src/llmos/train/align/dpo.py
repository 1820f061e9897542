"""Direct Preference Optimization: the policy is its own reward model.

DPO (Rafailov et al. 2023, eq. 7), with h = the log-ratio margin

    h = (log pi(y_w|x) - log ref(y_w|x)) - (log pi(y_l|x) - log ref(y_l|x))
    sigmoid:      L = -log sigmoid(beta h)
    conservative: L = -(1 - eps) log sigmoid(beta h) - eps log sigmoid(-beta h)
                  (cDPO: the preference label is flipped with probability eps)
    IPO:          L = (h - 1/(2 beta))^2          (Azar et al. 2023, eq. 17)
    reference-free: ref terms are 0, so h = log pi(y_w|x) - log pi(y_l|x)
    with sft_weight a: L + a * (-log pi(y_w|x) / |y_w|)
                  (the chosen response's per-token NLL beside the DPO term, as in
                  RPO / iterative RPO, Pang et al. 2024: on few pairs, plain DPO
                  can push both responses down; this keeps the chosen one likely)

    implicit rewards: r(x, y) = beta (log pi(y|x) - log ref(y|x))

Training (`train_dpo`): the reference is a frozen copy of the starting policy;
chosen and rejected responses go through the policy in one forward pass (and
through the reference in one more, without gradients).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from llmos.config import ConfigError, require, require_choice
from llmos.nn import CausalLM
from llmos.train.align.data import PreferencePair, pair_batch
from llmos.train.align.logprobs import response_token_logprobs, sequence_logprobs, split_pairs
from llmos.train.align.loop import AlignConfig, Run, batch_indices, split_eval

DPOLossType = Literal["sigmoid", "ipo"]


@dataclass
class DPOOutput:
    losses: Tensor            # (B,)
    chosen_rewards: Tensor    # (B,) beta (log pi - log ref) of y_w, detached
    rejected_rewards: Tensor  # (B,)


def dpo_loss(policy_chosen: Tensor, policy_rejected: Tensor, ref_chosen: Tensor | None,
             ref_rejected: Tensor | None, beta: float = 0.1, loss_type: DPOLossType = "sigmoid",
             label_smoothing: float = 0.0, reference_free: bool = False) -> DPOOutput:
    """Per-pair DPO losses from sequence log-probs (each (B,))."""
    if beta <= 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    if not 0 <= label_smoothing < 0.5:
        raise ValueError(f"label_smoothing must be in [0, 0.5), got {label_smoothing}")
    if loss_type == "ipo" and label_smoothing:
        raise ValueError("label_smoothing (conservative DPO) applies to the sigmoid loss, not IPO")
    if reference_free or ref_chosen is None or ref_rejected is None:
        if not reference_free:
            raise ValueError("reference log-probs are missing; pass them, or set reference_free=True")
        ref_chosen = torch.zeros_like(policy_chosen)
        ref_rejected = torch.zeros_like(policy_rejected)
    h = (policy_chosen - ref_chosen) - (policy_rejected - ref_rejected)      # (B,)
    if loss_type == "sigmoid":
        losses = (-(1 - label_smoothing) * F.logsigmoid(beta * h)
                  - label_smoothing * F.logsigmoid(-beta * h))
    elif loss_type == "ipo":
        losses = (h - 1 / (2 * beta)) ** 2
    else:
        raise ValueError(f"unknown DPO loss_type {loss_type!r}; choose 'sigmoid' or 'ipo'")
    return DPOOutput(losses,
                     (beta * (policy_chosen - ref_chosen)).detach(),
                     (beta * (policy_rejected - ref_rejected)).detach())


def dpo_metrics(out: DPOOutput, policy_chosen: Tensor, policy_rejected: Tensor) -> dict[str, float]:
    """The batch's metrics under the names TRL logs them."""
    c, r = out.chosen_rewards, out.rejected_rewards
    return {"loss": float(out.losses.detach().mean()),
            "rewards/chosen": float(c.mean()),
            "rewards/rejected": float(r.mean()),
            "rewards/margins": float((c - r).mean()),
            "rewards/accuracies": float((c > r).float().mean()),
            "logps/chosen": float(policy_chosen.detach().mean()),
            "logps/rejected": float(policy_rejected.detach().mean())}


@dataclass
class DPOConfig(AlignConfig):
    beta: float = 0.1
    loss_type: DPOLossType = "sigmoid"  # "sigmoid" (DPO) or "ipo"
    label_smoothing: float = 0.0        # > 0: conservative DPO
    reference_free: bool = False
    sft_weight: float = 0.0             # > 0: add the chosen response's per-token NLL (RPO)

    def __post_init__(self) -> None:
        super().__post_init__()
        require_choice(self, "loss_type")
        require(self.beta > 0, "beta", "> 0", self.beta)
        require(self.sft_weight >= 0, "sft_weight", ">= 0", self.sft_weight)
        require(0 <= self.label_smoothing < 0.5, "label_smoothing", "in [0, 0.5)", self.label_smoothing)


def dpo_batch_loss(policy: CausalLM, ref: CausalLM | None, tokenizer, pairs: list[PreferencePair],
                   cfg: DPOConfig) -> tuple[Tensor, dict[str, float]]:
    """Mean DPO loss over `pairs` and its metrics (one policy forward over chosen + rejected)."""
    batch = pair_batch(tokenizer, pairs, cfg.max_len, cfg.max_prompt_len).to(cfg.device)
    logps, mask = response_token_logprobs(policy(batch.input_ids).logits, batch)   # (2n, T)
    pol_c, pol_r = split_pairs(logps.sum(-1))                                # (n,), (n,)
    ref_c = ref_r = None
    if not cfg.reference_free:
        with torch.no_grad():
            ref_c, ref_r = split_pairs(sequence_logprobs(ref, batch))
    out = dpo_loss(pol_c, pol_r, ref_c, ref_r, cfg.beta, cfg.loss_type, cfg.label_smoothing, cfg.reference_free)
    loss = out.losses.mean()
    metrics = {**dpo_metrics(out, pol_c, pol_r), "tokens": int(batch.attention_mask.sum())}
    if cfg.sft_weight:
        n_c, _ = split_pairs(mask.sum(-1).clamp(min=1))
        nll = (-pol_c / n_c).mean()
        loss = loss + cfg.sft_weight * nll
        metrics["nll/chosen"] = float(nll.detach())
    return loss, metrics


def train_dpo(policy: CausalLM, tokenizer, pairs: list[PreferencePair], out: str | Path, cfg: DPOConfig,
              resume: bool = False, progress: bool = True,
              callback: Callable[[int], None] | None = None) -> Path:
    """Fine-tune `policy` on preference pairs with DPO; returns the run folder (model at RUN/model)."""
    if not pairs:
        raise ConfigError("DPO needs at least one preference pair")
    policy.to(cfg.device).eval()                    # no dropout: the implicit reward compares like with like
    ref = None if cfg.reference_free else copy.deepcopy(policy).requires_grad_(False)
    train, held_out = split_eval(pairs, cfg.eval_fraction, cfg.seed)
    run = Run(out, cfg, {"policy": policy}, resume=resume, progress=progress, title="dpo")

    def step(k: int) -> dict[str, float]:
        chosen = [train[i] for i in batch_indices(len(train), cfg.batch_size, k, cfg.seed)]
        loss, metrics = dpo_batch_loss(policy, ref, tokenizer, chosen, cfg)
        loss.backward()
        metrics["grad_norm"] = run.optimizer_step()
        return metrics

    def evaluate() -> dict[str, float]:
        with torch.no_grad():
            parts = [dpo_batch_loss(policy, ref, tokenizer, held_out[i:i + cfg.batch_size], cfg)[1]
                     for i in range(0, len(held_out), cfg.batch_size)]
        return {k: sum(p[k] for p in parts) / len(parts) for k in parts[0] if k != "tokens"}

    run.loop(step, evaluate if held_out else None, show=("loss", "rewards/margins", "rewards/accuracies"),
             callback=callback)
    run.finish(policy, tokenizer)
    return run.dir
