"""Induction heads (Olsson et al. 2022): the two-head circuit behind in-context copying.

On a sequence of random tokens repeated once, [A B C ... | A B C ...], the
second half is predictable only by looking back: a *previous-token head* in
layer 0 writes "the token before me was X" into each position, and an
*induction head* in layer 1 attends from the current token A to the position
just after the earlier A, and copies what it finds there (B). Its signature
is the prefix-matching score:

    score(l, h) = mean over second-half positions i of  pattern[l, h, i, i - n + 1]      (n = half length)

An attention-only 2-layer model trained on such sequences gains the ability
suddenly: the loss on the repeated half falls from ln(V) to near zero within
a short stretch of steps, at the moment the induction head forms.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from llmos.config import require, require_at_least
from llmos.interp.patching import patch_heads
from llmos.nn import CausalLM, ModelConfig
from llmos.train.plots import save_figure


class NoFeedForward(nn.Module):
    """Stands in for the MLP of an attention-only model: adds nothing to the residual stream."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.zeros_like(x)


@dataclass
class InductionConfig:
    vocab_size: int = 48
    half_len: int = 12             # tokens per half
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2
    family: str = "gpt2"
    steps: int = 600
    batch_size: int = 32
    lr: float = 3e-3
    eval_every: int = 20
    seed: int = 0

    def __post_init__(self) -> None:
        require_at_least(self, 1, "n_heads", "n_layers", "steps", "batch_size", "eval_every")
        require_at_least(self, 2, "vocab_size", "half_len")
        require(self.d_model % self.n_heads == 0, "d_model", f"a multiple of n_heads ({self.n_heads})", self.d_model)
        require(self.lr > 0, "lr", "> 0", self.lr)


@dataclass
class InductionRun:
    model: CausalLM
    config: InductionConfig
    steps: list[int] = field(default_factory=list)
    loss_first: list[float] = field(default_factory=list)      # loss on the first (random) half
    loss_repeat: list[float] = field(default_factory=list)     # loss on the repeated half
    best_score: list[float] = field(default_factory=list)      # best prefix-matching score of layer >= 1
                                                               # (the lower of two half lengths)
    formed_at: int | None = None                               # first step with the repeat loss < half of ln V


def attention_only_model(cfg: InductionConfig) -> CausalLM:
    mc = ModelConfig.for_family(cfg.family, vocab_size=cfg.vocab_size, d_model=cfg.d_model,
                                n_layers=cfg.n_layers, n_heads=cfg.n_heads, d_ff=4 * cfg.d_model,
                                max_seq_len=2 * cfg.half_len, tie_embeddings=False)
    model = CausalLM(mc)
    for block in model.blocks:
        block.ffn = NoFeedForward()
    model._hook_sites = None                                   # recompute: the MLP hooks are gone
    return model


def repeated_tokens(batch: int, half_len: int, vocab: int, generator: torch.Generator) -> Tensor:
    """(B, 2n): n random tokens, then the same n again."""
    first = torch.randint(0, vocab, (batch, half_len), generator=generator)
    return torch.cat([first, first], dim=1)


def split_losses(model: CausalLM, ids: Tensor) -> tuple[Tensor, Tensor]:
    """Mean next-token loss predicting the first half, and predicting the repeated half."""
    n = ids.shape[1] // 2
    logits = model(ids[:, :-1]).logits                                      # (B, 2n-1, V)
    loss = nn.functional.cross_entropy(logits.transpose(1, 2), ids[:, 1:], reduction="none")  # (B, 2n-1)
    return loss[:, : n - 1].mean(), loss[:, n - 1:].mean()


@torch.no_grad()
def prefix_matching_scores(model: CausalLM, ids: Tensor) -> Tensor:
    """(L, H): attention from each repeated-half token to the token after its earlier copy."""
    n = ids.shape[1] // 2
    _, cache = model.run_with_cache(ids, names_filter=lambda name: name.endswith("hook_pattern"))
    pattern = cache.stack_activation("pattern")                            # (L, B, H, 2n, 2n)
    q = torch.arange(n, 2 * n)
    return pattern[..., q, q - n + 1].mean(dim=(1, 3))


@torch.no_grad()
def previous_token_scores(model: CausalLM, ids: Tensor) -> Tensor:
    """(L, H): attention from each token to the one before it."""
    _, cache = model.run_with_cache(ids, names_filter=lambda name: name.endswith("hook_pattern"))
    pattern = cache.stack_activation("pattern")
    q = torch.arange(1, ids.shape[1])
    return pattern[..., q, q - 1].mean(dim=(1, 3))


def train_induction(cfg: InductionConfig = InductionConfig(), progress=None) -> InductionRun:
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    model = attention_only_model(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01, betas=(0.9, 0.98))
    probe = repeated_tokens(64, cfg.half_len, cfg.vocab_size, torch.Generator().manual_seed(cfg.seed + 1))
    probe_short = repeated_tokens(64, cfg.half_len // 2, cfg.vocab_size, torch.Generator().manual_seed(cfg.seed + 2))
    run = InductionRun(model, cfg)
    chance = math.log(cfg.vocab_size)
    for step in range(cfg.steps + 1):
        if step % cfg.eval_every == 0:
            model.eval()
            with torch.no_grad():
                first, repeat = split_losses(model, probe)
            score = float(torch.minimum(prefix_matching_scores(model, probe),
                                        prefix_matching_scores(model, probe_short))[1:].max())
            run.steps.append(step)
            run.loss_first.append(float(first))
            run.loss_repeat.append(float(repeat))
            run.best_score.append(score)
            if run.formed_at is None and float(repeat) < chance / 2:
                run.formed_at = step
            if progress is not None:
                progress(step, float(repeat), score)
            model.train()
        if step == cfg.steps:
            break
        # a half length that varies from batch to batch, so no head can find the earlier copy
        # by a fixed offset (with learned positions it would), only by matching tokens
        n = int(torch.randint(3, cfg.half_len + 1, (1,), generator=gen))
        ids = repeated_tokens(cfg.batch_size, n, cfg.vocab_size, gen)
        first, repeat = split_losses(model, ids)
        opt.zero_grad(set_to_none=True)
        ((first * (n - 1) + repeat * n) / (2 * n - 1)).backward()
        opt.step()
    model.eval()
    return run


def repeat_logprob(half_len: int):
    """Patching metric: mean log-probability of the repeated half's tokens (the clean continuation)."""
    def metric(logits: Tensor, targets: Tensor) -> Tensor:
        logp = torch.log_softmax(logits[:, half_len - 1: -1].float(), -1)           # (N, n, V)
        return logp.gather(-1, targets[:, half_len:, None].expand(logp.shape[0], -1, 1))[..., 0].mean(-1)
    return metric


@torch.no_grad()
def induction_head_by_patching(model: CausalLM, half_len: int, vocab: int, seed: int = 7) -> Tensor:
    """(L, H): how much of the repeated half's log-probability each head restores when patched.

    Clean [A, A]; corrupted [B, A] (same second half, so nothing to copy from). Patching
    the induction head's output from the clean run into the corrupted one restores the
    in-context prediction; other heads restore little.
    """
    gen = torch.Generator().manual_seed(seed)
    a = torch.randint(0, vocab, (1, half_len), generator=gen)
    b = torch.randint(0, vocab, (1, half_len), generator=gen)
    clean, corrupt = torch.cat([a, a], 1), torch.cat([b, a], 1)
    score = repeat_logprob(half_len)
    return patch_heads(model, clean, corrupt, lambda logits: score(logits, clean))


def plot_induction_run(run: InductionRun, out: str | Path) -> Path:
    """Loss on each half and the best prefix-matching score against steps, with the formation step marked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(run.steps, run.loss_first, label="loss, first half (random tokens)")
    ax.plot(run.steps, run.loss_repeat, label="loss, repeated half (in-context)")
    ax.axhline(math.log(run.config.vocab_size), color="grey", ls=":", lw=1, label="ln V (chance)")
    ax.set_xlabel("training step")
    ax.set_ylabel("cross-entropy (nats)")
    ax2 = ax.twinx()
    ax2.plot(run.steps, run.best_score, color="tab:green", ls="--", label="best prefix-matching score")
    ax2.set_ylabel("prefix-matching score", color="tab:green")
    ax2.set_ylim(0, 1)
    if run.formed_at is not None:
        ax.axvline(run.formed_at, color="tab:red", lw=1)
        ax.text(run.formed_at, ax.get_ylim()[1] * 0.95, f" in-context loss < ln V / 2 (step {run.formed_at})",
                color="tab:red", fontsize=8, va="top")
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(lines, [ln.get_label() for ln in lines], fontsize=7, loc="center right")
    ax.set_title("a 2-layer attention-only model learns to copy in context")
    return save_figure(fig, out)
