"""The peer for bench/train_char.py: nanoGPT's model and training loop, in plain PyTorch.

Written for this benchmark after nanoGPT's `model.py` and `train.py` as they
run its CPU character configuration (`config/train_shakespeare_char.py` with
the README's CPU overrides), so that llmos's `char` preset is timed beside
what a nanoGPT user would run, on the same tokens:

    model   pre-LayerNorm blocks (no biases), one fused qkv Linear, causal
            `F.scaled_dot_product_attention`, GELU MLP of 4d, learned
            positions, tied input/output embedding; weights N(0, 0.02), the
            residual projections N(0, 0.02 / sqrt(2 L))
    loop    random windows of the train split, AdamW (betas 0.9 / 0.99,
            weight decay 0.1 on matrices only, torch's default implementation
            on a CPU: one tensor at a time), linear warmup then cosine decay,
            gradient clipping at 1.0, `zero_grad(set_to_none=True)`

It reads the token shards llmos prepared (`RUN/data`), so both sides train and
are scored on the same split; tokens/s counts the training steps alone (batch,
forward, backward, clip, update), as nanoGPT's own per-iteration timer does.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class PeerConfig:
    vocab_size: int = 256
    block_size: int = 64
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    batch_size: int = 12
    max_iters: int = 2000
    lr: float = 1e-3
    min_lr: float = 1e-4
    warmup_iters: int = 100
    weight_decay: float = 0.1
    beta2: float = 0.99
    grad_clip: float = 1.0
    seed: int = 1337


class Block(nn.Module):
    def __init__(self, c: PeerConfig):
        super().__init__()
        self.n_head = c.n_head
        self.ln_1 = nn.LayerNorm(c.n_embd, bias=False)
        self.c_attn = nn.Linear(c.n_embd, 3 * c.n_embd, bias=False)
        self.attn_proj = nn.Linear(c.n_embd, c.n_embd, bias=False)
        self.ln_2 = nn.LayerNorm(c.n_embd, bias=False)
        self.c_fc = nn.Linear(c.n_embd, 4 * c.n_embd, bias=False)
        self.mlp_proj = nn.Linear(4 * c.n_embd, c.n_embd, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:          # (B, T, C)
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, H, T, Q)
        x = x + self.attn_proj(y.transpose(1, 2).contiguous().view(B, T, C))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))


class PeerGPT(nn.Module):
    def __init__(self, c: PeerConfig):
        super().__init__()
        self.wte = nn.Embedding(c.vocab_size, c.n_embd)
        self.wpe = nn.Embedding(c.block_size, c.n_embd)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.n_layer))
        self.ln_f = nn.LayerNorm(c.n_embd, bias=False)
        self.lm_head = nn.Linear(c.n_embd, c.vocab_size, bias=False)
        self.wte.weight = self.lm_head.weight
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * c.n_layer))

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for b in self.blocks:
            x = b(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))


def lr_at(it: int, c: PeerConfig) -> float:
    if it < c.warmup_iters:
        return c.lr * (it + 1) / (c.warmup_iters + 1)
    ratio = min(1.0, (it - c.warmup_iters) / max(1, c.max_iters - c.warmup_iters))
    return c.min_lr + 0.5 * (1 + math.cos(math.pi * ratio)) * (c.lr - c.min_lr)


def train_peer(c: PeerConfig, train: np.ndarray, val: np.ndarray, eval_batches: int) -> dict:
    """Train on `train` tokens, score on `val` (fixed windows); returns val loss and tokens/s."""
    torch.manual_seed(c.seed)
    rng = np.random.default_rng(c.seed)
    model = PeerGPT(c)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": c.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=c.lr, betas=(0.9, c.beta2))

    def batch(data: np.ndarray, starts: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        w = np.stack([data[s:s + c.block_size + 1] for s in starts]).astype(np.int64)
        t = torch.from_numpy(w)
        return t[:, :-1], t[:, 1:]

    step_s, loss = 0.0, float("nan")
    for it in range(c.max_iters):
        t0 = time.perf_counter()
        x, y = batch(train, rng.integers(0, len(train) - c.block_size - 1, c.batch_size))
        for g in opt.param_groups:
            g["lr"] = lr_at(it, c)
        out = model(x, y)
        out.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), c.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss = out.item()
        step_s += time.perf_counter() - t0
    model.eval()
    vr = np.random.default_rng(0)
    with torch.no_grad():
        losses = [model(*batch(val, vr.integers(0, len(val) - c.block_size - 1, c.batch_size))).item()
                  for _ in range(eval_batches)]
    return {"val_loss": float(np.mean(losses)), "train_loss": loss,
            "tokens_per_s_training": c.max_iters * c.batch_size * c.block_size / step_s,
            "parameters": sum(p.numel() for p in model.parameters()) - c.block_size * c.n_embd}
