"""Batched sampling of completions with the KV cache, for PPO rollouts and evaluation.

Prompts of different lengths are left-padded so every row's last prompt token
sits in the same column; one prefill fills the cache, then all rows decode
together one token per step. A row that emits eos is finished: it keeps
decoding padding (cheaper than reshaping the batch) which the response mask
excludes.

    [pad pad p p p | y y y eos pad]      prompt_mask | response_mask
    [p   p   p p p | y y y y   y  ]
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from llmos.infer.sampling import GenerationConfig, sample
from llmos.nn import CausalLM
from llmos.nn.eval_mode import eval_mode


@dataclass
class Rollout:
    prompt_ids: Tensor      # (B, P) left-padded
    prompt_mask: Tensor     # (B, P) 1 = real prompt token
    response_ids: Tensor    # (B, R) right-padded
    response_mask: Tensor   # (B, R) 1 = generated token (eos included)

    @property
    def input_ids(self) -> Tensor:
        return torch.cat([self.prompt_ids, self.response_ids], dim=1)         # (B, P+R)

    @property
    def attention_mask(self) -> Tensor:
        return torch.cat([self.prompt_mask, self.response_mask], dim=1)       # (B, P+R)

    def responses(self) -> list[list[int]]:
        return [row[m.bool()].tolist() for row, m in zip(self.response_ids, self.response_mask)]

    def ended(self, eos_id: int | None) -> Tensor:
        """(B,) bool: the response ended with eos (not cut at the length limit)."""
        if eos_id is None:
            return torch.zeros(len(self.response_ids), dtype=torch.bool)
        last = (self.response_mask.sum(-1) - 1).clamp(min=0)
        return self.response_ids.gather(1, last[:, None]).squeeze(1) == eos_id


def left_pad(prompts: list[list[int]], pad_id: int) -> tuple[Tensor, Tensor]:
    p = max(len(x) for x in prompts)
    ids = torch.full((len(prompts), p), pad_id, dtype=torch.long)
    mask = torch.zeros(len(prompts), p, dtype=torch.long)
    for i, x in enumerate(prompts):
        if not x:
            raise ValueError(f"prompt {i} is empty; every prompt needs at least one token (a start token)")
        ids[i, p - len(x):] = torch.tensor(x)
        mask[i, p - len(x):] = 1
    return ids, mask


@torch.no_grad()
def sample_rollouts(model: CausalLM, prompts: list[list[int]], max_new_tokens: int, eos_id: int | None,
                 pad_id: int = 0, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, generator: torch.Generator | None = None) -> Rollout:
    """Sample one completion per prompt (token ids) from `model`."""
    with eval_mode(model):
        device = next(model.parameters()).device
        prompt_ids, prompt_mask = left_pad(prompts, pad_id)
        prompt_ids, prompt_mask = prompt_ids.to(device), prompt_mask.to(device)
        b, p = prompt_ids.shape
        room = model.config.max_seq_len - p
        if room < 1:
            raise ValueError(f"prompts of {p} tokens fill the model's context of {model.config.max_seq_len}")
        steps = min(max_new_tokens, room)
        cfg = GenerationConfig(max_new_tokens=steps, temperature=temperature, top_k=top_k, top_p=top_p)
        cache = model.new_cache(b, p + steps)
        logits = model(prompt_ids, attention_mask=prompt_mask, cache=cache, last_only=True).logits[:, -1]
        tokens = torch.full((b, steps), pad_id, dtype=torch.long, device=device)
        mask = torch.zeros(b, steps, dtype=torch.long, device=device)
        done = torch.zeros(b, dtype=torch.bool, device=device)
        for t in range(steps):
            token = sample(logits, None, cfg, generator)                          # (B,)
            token = torch.where(done, torch.full_like(token, pad_id), token)
            tokens[:, t] = token
            mask[:, t] = (~done).long()
            if eos_id is not None:
                done |= token == eos_id
            if bool(done.all()) or t == steps - 1:
                break
            logits = model(token[:, None], cache=cache).logits[:, -1]
        width = max(1, int(mask.sum(-1).max()))
    return Rollout(prompt_ids, prompt_mask, tokens[:, :width], mask[:, :width])


def rollout_logits(model: CausalLM, rollout: Rollout) -> Tensor:
    """Logits that predict each response token: (B, R, V).

    Position P-1+t (the token before y_t) predicts y_t, so the slice starts one
    before the response.
    """
    p = rollout.prompt_ids.shape[1]
    logits = model(rollout.input_ids, attention_mask=rollout.attention_mask).logits
    return logits[:, p - 1:-1]
