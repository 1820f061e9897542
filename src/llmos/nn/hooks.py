"""Named hook points: read or replace any activation of a CausalLM by name.

Names follow TransformerLens, so its users feel at home:

    hook_embed, hook_pos_embed                      token / position embeddings  (B, T, C)
    blocks.{L}.hook_resid_pre                       residual stream into block L (B, T, C)
    blocks.{L}.ln1.hook_scale                       the norm's divisor           (B, T, 1)
    blocks.{L}.ln1.hook_normalized                  normed, before gain and bias (B, T, C)
    blocks.{L}.attn.hook_q / hook_k / hook_v        per head, before rotary      (B, T, H, D)
    blocks.{L}.attn.hook_rot_q / hook_rot_k         after rotary (RoPE families) (B, T, H, D)
    blocks.{L}.attn.hook_attn_scores                q k^T / sqrt(D), masked      (B, H, T, S)
    blocks.{L}.attn.hook_pattern                    softmax of the scores        (B, H, T, S)
    blocks.{L}.attn.hook_z                          pattern @ v, per head        (B, T, H, D)
    blocks.{L}.hook_attn_out                        attention output             (B, T, C)
    blocks.{L}.hook_resid_mid                       after the attention residual (B, T, C)
    blocks.{L}.ln2.hook_scale / hook_normalized     the same for the feed-forward's norm
    blocks.{L}.mlp.hook_pre                         pre-activation (SwiGLU: gate)(B, T, F)
    blocks.{L}.mlp.hook_pre_linear                  SwiGLU's up projection       (B, T, F)
    blocks.{L}.mlp.hook_post                        input of the output matrix   (B, T, F)
    blocks.{L}.mlp.hook_router_logits               MoE router, per expert       (B, T, E)
    blocks.{L}.hook_mlp_out                         feed-forward output          (B, T, C)
    blocks.{L}.hook_resid_post                      residual stream out of L     (B, T, C)
    ln_final.hook_scale / hook_normalized           the same for the final norm

A hook is `fn(tensor, hook) -> tensor | None`: returning a tensor replaces the
activation, returning None keeps it (the hook only read it). `hook.name` is the
full name, `hook.layer` the block number.

Each hookable module holds a dict `hook_points` of its active local names. With no
hook attached the dict is empty and every site costs one truth test, so the
plain forward costs what it did before hook points existed
(bench/interp_hooks.py measures it).
"""
from __future__ import annotations

import difflib
import re
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Sequence, Union

from torch import Tensor, nn

HookFn = Callable[[Tensor, "HookPoint"], Union[Tensor, None]]
NamesFilter = Union[None, str, Sequence[str], Callable[[str], bool]]


class HookPoint:
    """The functions attached at one name, run in order; each may replace the tensor."""

    __slots__ = ("name", "fns")

    def __init__(self, name: str):
        self.name = name
        self.fns: list[HookFn] = []

    @property
    def layer(self) -> int | None:
        m = re.match(r"blocks\.(\d+)\.", self.name)
        return int(m.group(1)) if m else None

    def __call__(self, x: Tensor) -> Tensor:
        for fn in self.fns:
            out = fn(x, self)
            if out is not None:
                if out.shape != x.shape:
                    raise ValueError(f"hook on {self.name} returned shape {tuple(out.shape)}; "
                                     f"it must keep the activation's shape {tuple(x.shape)}")
                x = out
        return x

    def __repr__(self) -> str:
        return f"HookPoint({self.name!r}, {len(self.fns)} fn)"


def fire(hooks: dict[str, HookPoint], local: str, x: Tensor) -> Tensor:
    """Run the hook at `local` if one is attached (callers test `if self.hook_points:` first)."""
    point = hooks.get(local)
    return point(x) if point is not None else x


def fire_heads(hooks: dict[str, HookPoint], local: str, x: Tensor) -> Tensor:
    """Per-head tensors live as (B, H, T, D) inside attention but are hooked as (B, T, H, D)."""
    point = hooks.get(local)
    if point is None:
        return x
    return point(x.transpose(1, 2)).transpose(1, 2)


# ---------------------------------------------------------------------- the model's sites
ATTN_SITES = ("hook_q", "hook_k", "hook_v", "hook_attn_scores", "hook_pattern", "hook_z")
ROPE_SITES = ("hook_rot_q", "hook_rot_k")
BLOCK_SITES = ("hook_resid_pre", "ln1.hook_scale", "ln1.hook_normalized", "hook_attn_out", "hook_resid_mid",
               "ln2.hook_scale", "ln2.hook_normalized", "hook_mlp_out", "hook_resid_post")


def hook_sites(model: nn.Module) -> dict[str, tuple[nn.Module, str]]:
    """Every hook name of a CausalLM -> (the module that fires it, its local name), in forward order."""
    sites = getattr(model, "_hook_sites", None)
    if sites is not None:
        return sites
    sites = {"hook_embed": (model, "hook_embed")}
    if model.pos_emb is not None:
        sites["hook_pos_embed"] = (model, "hook_pos_embed")
    for i, block in enumerate(model.blocks):
        p = f"blocks.{i}."
        for local in BLOCK_SITES[:3]:
            sites[p + local] = (block, local)
        attn_sites = ATTN_SITES[:3] + (ROPE_SITES if model.rotary is not None else ()) + ATTN_SITES[3:]
        for local in attn_sites:
            sites[p + "attn." + local] = (block.attn, local)
        for local in BLOCK_SITES[3:7]:
            sites[p + local] = (block, local)
        for local in getattr(block.ffn, "HOOK_SITES", ()):
            sites[p + "mlp." + local] = (block.ffn, local)
        for local in BLOCK_SITES[7:]:
            sites[p + local] = (block, local)
    for local in ("ln_final.hook_scale", "ln_final.hook_normalized"):
        sites[local] = (model, local)
    model._hook_sites = sites
    return sites


def hook_names(model: nn.Module) -> list[str]:
    return list(hook_sites(model))


def _site(model: nn.Module, name: str) -> tuple[nn.Module, str]:
    sites = hook_sites(model)
    if name not in sites:
        close = difflib.get_close_matches(name, sites, n=5, cutoff=0.6)
        hint = f"; close names: {', '.join(close)}" if close else ""
        raise KeyError(f"no hook point named {name!r}{hint} "
                       f"(this model has {len(sites)}; list them with hook_names(model))")
    return sites[name]


def select_names(model: nn.Module, names_filter: NamesFilter) -> list[str]:
    """Names matching a filter: None (all), one name, a list of names, or a predicate."""
    if names_filter is None:
        return hook_names(model)
    if isinstance(names_filter, str):
        return [names_filter] if _site(model, names_filter) else []
    if callable(names_filter):
        return [n for n in hook_sites(model) if names_filter(n)]
    for n in names_filter:
        _site(model, n)
    return list(names_filter)


def add_hook(model: nn.Module, name: str, fn: HookFn) -> None:
    module, local = _site(model, name)
    module.hook_points.setdefault(local, HookPoint(name)).fns.append(fn)


def remove_hook(model: nn.Module, name: str, fn: HookFn) -> None:
    module, local = _site(model, name)
    point = module.hook_points.get(local)
    if point is not None and fn in point.fns:
        point.fns.remove(fn)
        if not point.fns:
            del module.hook_points[local]       # back to the empty-dict fast path


def reset_hooks(model: nn.Module) -> None:
    """Detach every hook."""
    for module, _ in hook_sites(model).values():
        module.hook_points.clear()


@contextmanager
def hooks(model: nn.Module, fwd_hooks: Iterable[tuple[str | Callable[[str], bool], HookFn]]) -> Iterator[nn.Module]:
    """Attach `(name or predicate, fn)` pairs for the `with` body, then take them off again."""
    attached: list[tuple[str, HookFn]] = []
    try:
        for name, fn in fwd_hooks:
            for n in select_names(model, name):
                add_hook(model, n, fn)
                attached.append((n, fn))
        yield model
    finally:
        for n, fn in attached:
            remove_hook(model, n, fn)


def run_with_hooks(model: nn.Module, tokens: Tensor, fwd_hooks: Iterable[tuple[str, HookFn]] = (),
                   **forward_kwargs) -> Tensor:
    """Logits (B, T, V) of one forward with the given hooks attached for that forward only."""
    with hooks(model, fwd_hooks):
        return model(tokens, **forward_kwargs).logits


def run_with_cache(model: nn.Module, tokens: Tensor, names_filter: NamesFilter = None,
                   detach: bool = True, **forward_kwargs):
    """(logits, ActivationCache) of one forward, caching every activation the filter selects."""
    from llmos.nn.activation_cache import ActivationCache

    store: dict[str, Tensor] = {}

    def save(x: Tensor, hook: HookPoint) -> None:
        store[hook.name] = x.detach() if detach else x

    names = select_names(model, names_filter)
    with hooks(model, [(n, save) for n in names]):
        logits = model(tokens, **forward_kwargs).logits
    ordered = {n: store[n] for n in hook_sites(model) if n in store}
    return logits, ActivationCache(ordered, model)


def attend_hooked(hooks: dict[str, HookPoint], q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None,
                  is_causal: bool, dropout_p: float = 0.0) -> tuple[Tensor, Tensor]:
    """Attention written out so the scores and the pattern can be hooked (and replaced).

    q (B, H, T, D); k, v (B, Hkv, S, D). Returns (z (B, H, T, D), pattern (B, H, T, S)).
    Same formula as `attention_reference`: softmax(q k^T / sqrt(D) + M) v.
    """
    import math

    import torch

    from llmos.nn.attention import causal_mask, repeat_kv

    n_rep = q.shape[1] // k.shape[1]
    k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])          # (B, H, T, S)
    if is_causal:
        scores = scores.masked_fill(~causal_mask(q.shape[-2], k.shape[-2], q.device), float("-inf"))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
    scores = fire(hooks, "hook_attn_scores", scores)
    pattern = torch.nan_to_num(torch.softmax(scores.float(), dim=-1), nan=0.0).to(q.dtype)
    pattern = fire(hooks, "hook_pattern", pattern)
    if dropout_p > 0.0:
        pattern = torch.nn.functional.dropout(pattern, p=dropout_p)
    return pattern @ v, pattern


def norm_hooked(norm: nn.Module, x: Tensor, hooks: dict[str, HookPoint], prefix: str) -> Tensor:
    """`norm(x)` with `{prefix}hook_scale` (B, T, 1) and `{prefix}hook_normalized` fired.

    As in TransformerLens, hook_normalized is the normalized vector before the
    norm's own gain and bias:  LayerNorm  (x - mean) / scale,  RMSNorm  x / scale.
    """
    if prefix + "hook_scale" not in hooks and prefix + "hook_normalized" not in hooks:
        return norm(x)
    from llmos.nn.norms import LayerNorm

    if isinstance(norm, LayerNorm):
        centred = x - x.mean(-1, keepdim=True)
        scale = fire(hooks, prefix + "hook_scale", (centred.pow(2).mean(-1, keepdim=True) + norm.eps).sqrt())
        out = fire(hooks, prefix + "hook_normalized", centred / scale) * norm.weight
        return out + norm.bias if norm.bias is not None else out
    xf = x.float()                                                  # RMSNorm: fp32, as in norms.py
    scale = fire(hooks, prefix + "hook_scale", (xf.pow(2).mean(-1, keepdim=True) + norm.eps).sqrt())
    return norm.weight * fire(hooks, prefix + "hook_normalized", xf / scale).to(x.dtype)
