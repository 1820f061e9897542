"""Logit lens (nostalgebraist 2020): decode the residual stream after every layer.

    logits_l = Norm_f(x_l) W_U        x_l = residual stream entering block l (x_L = the last one's output)

Norm_f is the model's own final norm, applied with x_l's own statistics, and
W_U its unembedding; the last row is the model's real output. Reading down
the layers shows when the answer appears.
"""
from __future__ import annotations

from torch import Tensor

from llmos.nn.activation_cache import ActivationCache


def lens_logits(model, cache: ActivationCache) -> Tensor:
    """(L + 1, B, T, V): every layer's residual stream through the final norm and the unembedding."""
    return model.lm_head(cache.accumulated_resid(apply_ln=True))
