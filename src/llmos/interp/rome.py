"""Rank-One Model Editing (ROME, Meng et al. 2022, sec. 3): rewrite one fact in one MLP.

ROME reads an MLP's output matrix W (d_model x d_ff) as a linear key-value
memory: the key k is the MLP's hidden vector at the subject's last token, the
value W k is what it writes into the residual stream. To make "subject ->
new object" true:

  1. k* = mean over random prefixes x_j of k(x_j + prompt) at the last subject token   (eq. 3)
  2. C  = E[k k^T] over the model's own corpus at that layer (cached on disk)
  3. v* = W k + delta, delta minimising                                                   (eq. 4)
         mean_j -log P(new | x_j + prompt, MLP output += delta)
         + kl_factor * KL(P_orig(. | "{subject} is a") || P_new(. | "{subject} is a"))
         + weight_decay * |delta|^2 / |W k|^2
  4. W' = W + Lambda (C^-1 k*)^T,  Lambda = (v* - W k) / ((C^-1 k*)^T k)                 (eq. 2)

which is the least-squares-optimal change to W that maps k* to v* while
disturbing the other keys (as C weighs them) least. It works on any family:
the GELU MLP's `fc_out`, SwiGLU's `down_proj`, and for a mixture of experts
the `down_proj` of the expert the subject routes to (delta divided by its
routing weight).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch
from torch import Tensor, nn

from llmos.config import require, require_at_least
from llmos.nn.mlp import MLP, SwiGLU
from llmos.nn.moe import MoE


@dataclass
class RomeConfig:
    layer: int = 1
    v_steps: int = 30
    v_lr: float = 0.5
    kl_factor: float = 0.0625
    weight_decay: float = 0.02
    clamp_norm: float = 6.0          # |delta| <= clamp_norm * |W k|
    cov_ridge: float = 1e-3          # C + ridge * mean(diag C) * I, for a stable inverse

    def __post_init__(self) -> None:
        require_at_least(self, 0, "layer", "kl_factor", "weight_decay", "cov_ridge")
        require_at_least(self, 1, "v_steps")
        require(self.v_lr > 0, "v_lr", "> 0", self.v_lr)
        require(self.clamp_norm > 0, "clamp_norm", "> 0", self.clamp_norm)


@dataclass
class EditRequest:
    prompt: str                      # "{} plays the sport of": the subject goes where {} is
    subject: str
    target: str                      # the new object, e.g. " golf"


class EditError(ValueError):
    pass


# ---------------------------------------------------------------------- keys of any feed-forward
def ffn_of(model, layer: int) -> nn.Module:
    n = model.config.n_layers
    if not 0 <= layer < n:
        raise EditError(f"layer {layer} does not exist: the model has {n} layers (0..{n - 1}); pick one of them")
    return model.blocks[layer].ffn


def keys_and_proj(ffn: nn.Module, x: Tensor, expert: int | None = None) -> tuple[Tensor, nn.Linear]:
    """x (N, C) the feed-forward's input -> keys (N, F), the input of its output matrix, and that matrix."""
    if isinstance(ffn, MLP):
        return ffn.act(ffn.fc_in(x)), ffn.fc_out
    if isinstance(ffn, SwiGLU):
        return ffn.act(ffn.gate_proj(x)) * ffn.up_proj(x), ffn.down_proj
    if isinstance(ffn, MoE):
        e = ffn.experts[expert]
        return e.act(e.gate_proj(x)) * e.up_proj(x), e.down_proj
    raise EditError(f"cannot edit a feed-forward of type {type(ffn).__name__}")


def ffn_inputs(model, layer: int, ids: Tensor, positions: Tensor, mask: Tensor | None = None) -> Tensor:
    """(N, C): the feed-forward's input at one position per row (norm2 of the residual mid-block)."""
    name = f"blocks.{layer}.hook_resid_mid"
    _, cache = model.run_with_cache(ids, names_filter=name, attention_mask=mask)
    mid = cache[name][torch.arange(ids.shape[0]), positions]                   # (N, C)
    return model.blocks[layer].norm2(mid)


def routed_expert(ffn: nn.Module, x: Tensor) -> tuple[int | None, Tensor]:
    """For a MoE: the top expert of the last row (the edit prompt itself), and its weight in every row."""
    if not isinstance(ffn, MoE):
        return None, torch.ones(x.shape[0], device=x.device)
    _, weights, index = ffn.route(x)
    expert = int(index[-1, 0])
    w = torch.where(index == expert, weights, torch.zeros_like(weights)).sum(-1)
    return expert, w


# ---------------------------------------------------------------------- second moment of keys
def key_covariance(model, layer: int, corpus_ids: Sequence[Sequence[int]], cache_dir: str | Path | None = None,
                   expert: int | None = None) -> Tensor:
    """C = E[k k^T] (F, F) over every token of `corpus_ids` (rows of ids), cached on disk."""
    ffn = ffn_of(model, layer)
    _, proj = keys_and_proj(ffn, torch.zeros(1, model.config.d_model), expert)
    digest = hashlib.sha256()
    digest.update(proj.weight.detach().float().cpu().numpy().tobytes())
    for row in corpus_ids:
        digest.update(str(list(row)).encode())
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"rome_cov_l{layer}_e{expert}_{digest.hexdigest()[:16]}.pt"
        if path.is_file():
            return torch.load(path)
    total, count = None, 0
    with torch.no_grad():
        for row in corpus_ids:
            ids = torch.as_tensor(list(row))[None]
            name = f"blocks.{layer}.hook_resid_mid"
            _, cache = model.run_with_cache(ids, names_filter=name)
            k, _ = keys_and_proj(ffn, model.blocks[layer].norm2(cache[name][0]), expert)   # (T, F)
            k = k.double()
            total = k.T @ k if total is None else total + k.T @ k
            count += k.shape[0]
    cov = (total / count).float()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(cov, tmp)
        os.replace(tmp, path)
    return cov


# ---------------------------------------------------------------------- the edit
@dataclass
class EditResult:
    layer: int
    expert: int | None
    delta_norm: float
    target_prob: float               # P(target) on the edit prompt after optimising v*
    old_weight: Tensor               # to undo: proj.weight.data.copy_(old_weight)
    proj: nn.Linear

    def undo(self) -> None:
        with torch.no_grad():
            self.proj.weight.copy_(self.old_weight)


def _pad(rows: list[list[int]]) -> tuple[Tensor, Tensor]:
    width = max(map(len, rows))
    ids = torch.tensor([[0] * (width - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    return ids, mask


def find_subject(encode, ids: Sequence[int], subject: str) -> tuple[int, int]:
    """[start, end) of the subject's tokens in `ids` (tried as written and after a space, for BPE)."""
    from llmos.interp.facts_model import subject_span

    for form in (subject, " " + subject):
        try:
            return subject_span(ids, encode(form), subject)
        except ValueError:
            continue
    return subject_span(ids, encode(subject), subject)                      # raises the clear error


def rome_edit(model, encode, request: EditRequest, cov: Tensor, prefixes: Sequence[Sequence[int]],
              cfg: RomeConfig = RomeConfig(), bos: Sequence[int] = ()) -> EditResult:
    """Apply one ROME edit in place.

    encode(text) -> ids without special tokens; bos: the ids every prompt starts with.
    prefixes: token ids of random contexts put before the prompt (for k* and the v* loss).
    """
    ffn = ffn_of(model, cfg.layer)
    if cfg.layer == model.config.n_layers - 1:
        raise EditError(f"layer {cfg.layer} is the last one: what it writes at the subject never reaches the "
                        f"prompt's last token; edit an earlier layer (0..{cfg.layer - 1})")
    if "{}" not in request.prompt:
        raise EditError(f"the prompt {request.prompt!r} has no {{}} where the subject goes")
    prompt_ids = list(bos) + encode(request.prompt.format(request.subject))
    target = encode(" " + request.target.strip())
    if not target:
        raise EditError("the target is empty; give the new object, e.g. --target golf")
    _, end = find_subject(encode, prompt_ids, request.subject)
    contexts = [list(p) + prompt_ids for p in prefixes] + [prompt_ids]
    last = [len(c) - len(prompt_ids) + end - 1 for c in contexts]
    model.eval()
    # 1. k*: the key at the last subject token, averaged over the prefixed prompts
    ids, mask = _pad(contexts)
    pos = torch.tensor(last) + ids.shape[1] - torch.tensor([len(c) for c in contexts])
    with torch.no_grad():
        x = ffn_inputs(model, cfg.layer, ids, pos, mask)
        expert, route_w = routed_expert(ffn, x)
        keys, proj = keys_and_proj(ffn, x, expert)
    k_star = keys.mean(0)                                                    # (F,)
    k_edit = keys[-1]
    # 2. v*: optimise delta on the MLP output at the last subject token, teacher-forcing the target
    rows = [c + target[:-1] for c in contexts]
    ids, mask = _pad(rows)
    pos = torch.tensor(last) + ids.shape[1] - torch.tensor([len(r) for r in rows])
    kl_prompt = list(bos) + encode(f"{request.subject} is a")
    _, kl_end = find_subject(encode, kl_prompt, request.subject)
    kl_rows = [list(p) + kl_prompt for p in list(prefixes)[:3]] + [kl_prompt]
    kl_ids, kl_mask = _pad(kl_rows)
    kl_pos = torch.tensor([len(r) - len(kl_prompt) + kl_end - 1 for r in kl_rows])
    kl_pos = kl_pos + kl_ids.shape[1] - torch.tensor([len(r) for r in kl_rows])
    tgt = torch.tensor(target)
    with torch.no_grad():
        v_init = proj(k_edit)                                                # W k (+ b)
        kl_ref = torch.log_softmax(model(kl_ids, attention_mask=kl_mask).logits[:, -1].float(), -1)
    delta = torch.zeros(model.config.d_model, requires_grad=True)
    opt = torch.optim.Adam([delta], lr=cfg.v_lr)
    name = f"blocks.{cfg.layer}.hook_mlp_out"

    def add_at(positions: Tensor):
        batch = torch.arange(positions.shape[0])

        def hook(out, _):
            out = out.clone()
            out[batch, positions] = out[batch, positions] + delta
            return out
        return hook

    n_t = len(target)
    frozen = [p for p in model.parameters() if p.requires_grad]
    for p in frozen:                                                         # only delta learns
        p.requires_grad_(False)
    try:
        nll = _optimise_delta(cfg, model, name, delta, opt, ids, mask, pos, kl_ids, kl_mask, kl_pos,
                              kl_ref, tgt, n_t, v_init, len(rows), add_at)
    finally:
        for p in frozen:
            p.requires_grad_(True)
    target_prob = float(torch.exp(-nll))
    # 4. the closed-form rank-one update (eq. 2), delta scaled back through the routing weight
    d = delta.detach() / route_w[-1].clamp(min=1e-6)
    u = torch.linalg.solve(cov + cfg.cov_ridge * cov.diagonal().mean() * torch.eye(cov.shape[0]), k_star)
    old = proj.weight.detach().clone()
    with torch.no_grad():
        proj.weight.add_(torch.outer(d / torch.dot(u, k_edit), u))            # (C, F) += Lambda u^T
    return EditResult(cfg.layer, expert, float(d.norm()), target_prob, old, proj)


def _optimise_delta(cfg, model, name, delta, opt, ids, mask, pos, kl_ids, kl_mask, kl_pos, kl_ref, tgt, n_t,
                    v_init, n_rows, add_at) -> Tensor:
    """Adam on delta for cfg.v_steps steps; returns the last target NLL."""
    for _ in range(cfg.v_steps):
        logits = model.run_with_hooks(ids, [(name, add_at(pos))], attention_mask=mask)
        logp = torch.log_softmax(logits[:, -n_t:].float(), -1)                 # (N, n_t, V)
        nll = -logp.gather(-1, tgt.expand(n_rows, -1)[..., None]).mean()
        kl_logits = model.run_with_hooks(kl_ids, [(name, add_at(kl_pos))], attention_mask=kl_mask)
        kl_new = torch.log_softmax(kl_logits[:, -1].float(), -1)
        kl = torch.nn.functional.kl_div(kl_new, kl_ref, log_target=True, reduction="batchmean")
        loss = nll + cfg.kl_factor * kl + cfg.weight_decay * delta.pow(2).sum() / v_init.pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():                                                # |delta| <= clamp * |W k|
            limit = cfg.clamp_norm * v_init.norm()
            if delta.norm() > limit:
                delta.mul_(limit / delta.norm())
    return nll.detach()


@torch.no_grad()
def sample_texts(model, start: Sequence[int], n: int, length: int, seed: int = 0) -> list[list[int]]:
    """n token sequences the model writes itself after `start` (its own corpus, and ROME's random prefixes)."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.tensor([list(start)] * n)
    for _ in range(length):
        probs = torch.softmax(model(ids, last_only=True).logits[:, -1].float(), -1)
        ids = torch.cat([ids, torch.multinomial(probs, 1, generator=gen)], 1)
    return ids.tolist()
