"""ActivationCache: the activations one forward pass saved, by hook name.

    logits, cache = model.run_with_cache(ids)
    cache["blocks.0.attn.hook_pattern"]       # (B, H, T, T)
    cache["pattern", 0]                        # the same, TransformerLens's short form
    cache.accumulated_resid(apply_ln=True)     # (L + 1, B, T, C): the logit lens's input

`accumulated_resid` stacks the residual stream entering each block and the
one leaving the last block; with `apply_ln=True` each is put through the final
norm with its own statistics, so `stack @ W_U` is the logit lens
(nostalgebraist 2020): what the model would predict if it stopped there.
"""
from __future__ import annotations

import difflib
from typing import Iterator

import torch
from torch import Tensor, nn

# short name -> where it lives inside block L (TransformerLens's `cache[name, layer]`)
SHORT_NAMES = {
    "resid_pre": "hook_resid_pre", "resid_mid": "hook_resid_mid", "resid_post": "hook_resid_post",
    "attn_out": "hook_attn_out", "mlp_out": "hook_mlp_out",
    "q": "attn.hook_q", "k": "attn.hook_k", "v": "attn.hook_v", "z": "attn.hook_z",
    "rot_q": "attn.hook_rot_q", "rot_k": "attn.hook_rot_k",
    "attn_scores": "attn.hook_attn_scores", "pattern": "attn.hook_pattern",
    "pre": "mlp.hook_pre", "pre_linear": "mlp.hook_pre_linear", "post": "mlp.hook_post",
    "router_logits": "mlp.hook_router_logits",
}


class ActivationCache:
    def __init__(self, store: dict[str, Tensor], model: nn.Module):
        self.store = store
        self.model = model

    def _name(self, key: str | tuple[str, int]) -> str:
        if isinstance(key, tuple):
            short, layer = key
            n_layers = self.model.config.n_layers
            if not -n_layers <= layer < n_layers:
                raise KeyError(f"layer {layer} out of range: the model has {n_layers} layers")
            if short not in SHORT_NAMES:
                raise KeyError(f"unknown short name {short!r}; known: {', '.join(SHORT_NAMES)}")
            return f"blocks.{layer % n_layers}.{SHORT_NAMES[short]}"
        return key

    def __getitem__(self, key: str | tuple[str, int]) -> Tensor:
        name = self._name(key)
        if name not in self.store:
            close = difflib.get_close_matches(name, self.store, n=5, cutoff=0.6)
            hint = f"; close names: {', '.join(close)}" if close else ""
            raise KeyError(f"{name!r} is not in this cache ({len(self.store)} activations){hint}; "
                           "widen run_with_cache's names_filter to keep it")
        return self.store[name]

    def __contains__(self, key) -> bool:
        return self._name(key) in self.store

    def __iter__(self) -> Iterator[str]:
        return iter(self.store)

    def __len__(self) -> int:
        return len(self.store)

    def keys(self):
        return self.store.keys()

    def items(self):
        return self.store.items()

    def accumulated_resid(self, layer: int | None = None, incl_mid: bool = False,
                          apply_ln: bool = False, return_labels: bool = False):
        """The residual stream entering blocks 0 .. layer-1 (and leaving the last block), stacked.

        layer None = all blocks plus the final residual: (L + 1, B, T, C).
        apply_ln: put each through the final norm, each with its own mean and scale.
        """
        n = self.model.config.n_layers
        layer = n if layer is None or layer == -1 else layer
        parts, labels = [], []
        for i in range(layer + 1):
            if i == n:
                parts.append(self["resid_post", n - 1])
                labels.append("final_post")
                continue
            parts.append(self["resid_pre", i])
            labels.append(f"{i}_pre")
            if incl_mid and i < layer:
                parts.append(self["resid_mid", i])
                labels.append(f"{i}_mid")

        stack = torch.stack(parts)                                      # (K, B, T, C)
        if apply_ln:
            stack = self.model.norm_f(stack)
        return (stack, labels) if return_labels else stack

    def stack_activation(self, short: str) -> Tensor:
        """One activation from every block, stacked: (L, ...)."""

        return torch.stack([self[short, i] for i in range(self.model.config.n_layers)])

    def __repr__(self) -> str:
        return f"ActivationCache({len(self.store)} activations)"
