"""Eval mode for the length of a `with` block, and the model's own mode back afterwards.

    with eval_mode(model):        # dropout off, as generation and evaluation want
        logits = model(ids).logits
    # model.training is what it was before, even if the block raised

Generation, beam search, rollouts and attention maps all run a model that may be
in the middle of training; each must hand it back as it found it.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)
