"""RLHF with PPO: sample, score, penalize drift from the reference, and take clipped steps.

One PPO step over a batch of prompts (Ouyang et al. 2022; Schulman et al. 2017):

    1. rollout     y ~ pi_old(. | x)                 batched, KV-cached sampling
    2. score       s = reward(x, y)                  a reward model or any Python function
    3. rewards     r_t = -kl_coef * KL_t,  r_T += s  KL_t = log pi_old(y_t) - log ref(y_t)
    4. advantages  GAE: delta_t = r_t + gamma V_{t+1} - V_t
                        A_t     = delta_t + gamma lambda A_{t+1}          (Schulman et al. 2016, eq. 16)
                   returns R_t = A_t + V_t
    5. for ppo_epochs, over minibatches:
                   rho_t  = exp(log pi(y_t) - log pi_old(y_t))
                   L_pi   = mean max(-A_t rho_t, -A_t clip(rho_t, 1-eps, 1+eps))        (PPO eq. 7)
                   L_V    = 0.5 mean max((V_t - R_t)^2, (clip(V_t, V_old -+ eps_v) - R_t)^2)
                   L      = L_pi + vf_coef L_V

The value function is a scalar head on the policy's own final hidden state
(one forward pass gives both); the reference is a frozen copy of the starting
policy. Metrics carry TRL's names: objective/kl, objective/rlhf_reward,
policy/clipfrac, val/clipfrac, ...
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import Tensor

from llmos.config import ConfigError, require, require_at_least
from llmos.nn import CausalLM
from llmos.train.align.data import encode_prompt
from llmos.train.align.heads import ScalarHead, forward_with_head
from llmos.train.align.logprobs import token_logprobs
from llmos.train.align.loop import AlignConfig, Run, batch_indices
from llmos.train.align.rollout import Rollout, sample_rollouts

RewardFn = Callable[[list[str], list[str]], list[float]]


@dataclass
class PPOConfig(AlignConfig):
    kl_coef: float = 0.05               # beta of the per-token KL penalty
    gamma: float = 1.0
    lam: float = 0.95
    cliprange: float = 0.2              # policy ratio clip epsilon
    cliprange_value: float = 0.2
    vf_coef: float = 0.1
    ppo_epochs: int = 4                 # passes over each rollout batch
    num_minibatches: int = 1
    max_new_tokens: int = 32
    temperature: float = 1.0
    missing_eos_penalty: float = 0.0    # subtracted from the score of a response cut at max_new_tokens

    def __post_init__(self) -> None:
        super().__post_init__()
        require_at_least(self, 1, "ppo_epochs", "num_minibatches", "max_new_tokens")
        if self.batch_size % self.num_minibatches:
            raise ConfigError(f"batch_size={self.batch_size} must divide into num_minibatches={self.num_minibatches}")
        require(self.temperature > 0, "temperature", "> 0 (PPO samples from the policy)", self.temperature)


# ---------------------------------------------------------------------- the math
def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    return (x * mask).sum() / mask.sum().clamp(min=1)


def whiten(x: Tensor, mask: Tensor, shift_mean: bool = True) -> Tensor:
    """(x - mean) / std over the masked entries."""
    mean = masked_mean(x, mask)
    var = masked_mean((x - mean) ** 2, mask)
    out = (x - mean) * torch.rsqrt(var + 1e-8)
    return (out if shift_mean else out + mean) * mask


def kl_penalized_rewards(scores: Tensor, logprobs: Tensor, ref_logprobs: Tensor, mask: Tensor,
                         kl_coef: float) -> tuple[Tensor, Tensor]:
    """Per-token rewards r_t = -kl_coef KL_t, plus the score at each row's last token.

    scores (B,); logprobs, ref_logprobs, mask (B, R) -> (rewards (B, R), KL_t (B, R)).
    KL_t = log pi(y_t) - log ref(y_t) on the sampled token: its sum over t is an
    unbiased estimate of the sequence-level KL(pi || ref).
    """
    kl = (logprobs - ref_logprobs) * mask                                   # (B, R)
    rewards = -kl_coef * kl
    last = (mask.sum(-1) - 1).clamp(min=0).long()                           # (B,)
    rewards = rewards.scatter_add(1, last[:, None], scores[:, None].to(rewards.dtype))
    return rewards * mask, kl


def gae(rewards: Tensor, values: Tensor, mask: Tensor, gamma: float, lam: float) -> tuple[Tensor, Tensor]:
    """Generalized advantage estimates and returns, (B, R) each.

    Past a row's end values and rewards are 0, so the recursion needs no special case:
    at the last real token delta = r_T - V_T.
    """
    values, rewards = values * mask, rewards * mask
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    r = rewards.shape[1]
    for t in reversed(range(r)):
        next_value = values[:, t + 1] if t + 1 < r else torch.zeros_like(running)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = delta + gamma * lam * running
        advantages[:, t] = running
    return advantages * mask, (advantages + values) * mask


def policy_loss(logprobs: Tensor, old_logprobs: Tensor, advantages: Tensor, mask: Tensor,
                cliprange: float) -> tuple[Tensor, dict[str, Tensor]]:
    """The clipped surrogate objective (as a loss to minimise) and its diagnostics."""
    ratio = torch.exp(logprobs - old_logprobs)                               # rho_t
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1 - cliprange, 1 + cliprange)
    loss = masked_mean(torch.maximum(unclipped, clipped), mask)
    stats = {"policy/clipfrac": masked_mean((clipped > unclipped).float(), mask),
             "policy/approxkl": 0.5 * masked_mean((logprobs - old_logprobs) ** 2, mask),
             "val/ratio": masked_mean(ratio, mask)}
    return loss, {k: v.detach() for k, v in stats.items()}


def value_loss(values: Tensor, old_values: Tensor, returns: Tensor, mask: Tensor,
               cliprange_value: float) -> tuple[Tensor, dict[str, Tensor]]:
    """0.5 max((V - R)^2, (V_clipped - R)^2): the value may move at most eps_v from V_old."""
    clipped_values = old_values + torch.clamp(values - old_values, -cliprange_value, cliprange_value)
    loss_unclipped = (values - returns) ** 2
    loss_clipped = (clipped_values - returns) ** 2
    loss = 0.5 * masked_mean(torch.maximum(loss_unclipped, loss_clipped), mask)
    return loss, {"val/clipfrac": masked_mean((loss_clipped > loss_unclipped).float(), mask).detach()}


# ---------------------------------------------------------------------- training
def _policy_outputs(policy: CausalLM, head: ScalarHead, rollout: Rollout,
                    temperature: float) -> tuple[Tensor, Tensor, Tensor]:
    """Log-probs of the response tokens, values before each, and the logits (B, R, ...)."""
    p = rollout.prompt_ids.shape[1]
    logits, values = forward_with_head(policy, head, rollout.input_ids, rollout.attention_mask)
    logits = logits[:, p - 1:-1] / temperature                               # (B, R, V) predict y_t
    return token_logprobs(logits, rollout.response_ids), values[:, p - 1:-1], logits


def _ref_logprobs(ref: CausalLM, rollout: Rollout, temperature: float) -> Tensor:
    p = rollout.prompt_ids.shape[1]
    logits = ref(rollout.input_ids, attention_mask=rollout.attention_mask).logits[:, p - 1:-1]
    return token_logprobs(logits / temperature, rollout.response_ids)


def train_ppo(policy: CausalLM, tokenizer, prompts: list[str], out: str | Path, cfg: PPOConfig,
              reward_fn: RewardFn, resume: bool = False, progress: bool = True,
              callback: Callable[[int], None] | None = None) -> Path:
    """PPO against `reward_fn(prompts, completions) -> scores`; returns the run folder."""
    if not prompts:
        raise ConfigError("PPO needs at least one prompt")
    if tokenizer.eos_id is None:
        raise ConfigError("the tokenizer has no eos token, so responses cannot end; give a tokenizer with one")
    device = cfg.device
    policy.to(device).eval()                                                 # eval: no dropout, ratios start at 1
    ref = copy.deepcopy(policy).requires_grad_(False)
    head = ScalarHead(policy.config.d_model).to(device)
    run = Run(out, cfg, {"policy": policy, "value_head": head}, resume=resume, progress=progress, title="ppo")
    encoded = [encode_prompt(tokenizer, p, cfg.max_prompt_len) for p in prompts]
    pad = tokenizer.pad_id if tokenizer.pad_id is not None else 0
    eos = tokenizer.eos_id

    def step(k: int) -> dict[str, float]:
        idx = batch_indices(len(prompts), cfg.batch_size, k, cfg.seed)
        gen = torch.Generator(device=device).manual_seed(cfg.seed * 1_000_003 + k)
        rollout = sample_rollouts(policy, [encoded[i] for i in idx], cfg.max_new_tokens, eos, pad,
                               temperature=cfg.temperature, generator=gen)
        mask = rollout.response_mask.float()
        with torch.no_grad():
            old_logprobs, old_values, logits = _policy_outputs(policy, head, rollout, cfg.temperature)
            ref_logprobs = _ref_logprobs(ref, rollout, cfg.temperature)
            entropy = -(logits.softmax(-1) * logits.log_softmax(-1)).sum(-1)   # (B, R)
            texts = [tokenizer.decode([t for t in r if t != eos]) for r in rollout.responses()]
            scores = torch.tensor(reward_fn([prompts[i] for i in idx], texts), dtype=torch.float32, device=device)
            if scores.shape != (len(idx),):
                raise ValueError(f"the reward function returned {tuple(scores.shape)} scores for {len(idx)} "
                                 "completions; it must return one float per completion")
            scores = scores - cfg.missing_eos_penalty * (~rollout.ended(eos)).float()
            rewards, kl = kl_penalized_rewards(scores, old_logprobs, ref_logprobs, mask, cfg.kl_coef)
            advantages, returns = gae(rewards, old_values, mask, cfg.gamma, cfg.lam)
            advantages = whiten(advantages, mask)
        stats: dict[str, list[float]] = {}
        mb = cfg.batch_size // cfg.num_minibatches
        for _ in range(cfg.ppo_epochs):
            order = torch.randperm(len(idx), generator=gen, device=device)
            for start in range(0, len(idx), mb):
                rows = order[start:start + mb]
                sub = Rollout(rollout.prompt_ids[rows], rollout.prompt_mask[rows],
                              rollout.response_ids[rows], rollout.response_mask[rows])
                logprobs, values, _ = _policy_outputs(policy, head, sub, cfg.temperature)
                pg, pg_stats = policy_loss(logprobs, old_logprobs[rows], advantages[rows], mask[rows], cfg.cliprange)
                vf, vf_stats = value_loss(values, old_values[rows], returns[rows], mask[rows], cfg.cliprange_value)
                (pg + cfg.vf_coef * vf).backward()
                run.optimizer_step()
                for key, v in {"loss/policy": pg.detach(), "loss/value": vf.detach(),
                               **pg_stats, **vf_stats}.items():
                    stats.setdefault(key, []).append(float(v))
        seq_kl = kl.sum(-1)
        metrics = {"objective/kl": float(seq_kl.mean()),
                   "objective/entropy": float((entropy * mask).sum(-1).mean()),
                   "objective/non_score_reward": float((-cfg.kl_coef * seq_kl).mean()),
                   "objective/scores": float(scores.mean()),
                   "objective/rlhf_reward": float((scores - cfg.kl_coef * seq_kl).mean()),
                   "val/mean": float(masked_mean(old_values, mask)),
                   "response/length": float(mask.sum(-1).mean()),
                   "tokens": int(rollout.attention_mask.sum()),
                   **{k: sum(v) / len(v) for k, v in stats.items()}}
        return metrics

    run.loop(step, show=("objective/scores", "objective/kl"), callback=callback)
    run.finish(policy, tokenizer)
    return run.dir
