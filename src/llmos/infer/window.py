"""Generation longer than the model's context, by sliding the window (as nanoGPT samples).

A model with learned positions cannot see position `max_seq_len`; a KV cache
cannot simply grow past it. To keep writing, each new token is predicted
from the last `max_seq_len` tokens only, recomputed from scratch:

    next = sample(model(ids[-context:])[-1])

which costs a full forward pass per token, cheap for the small models this is
for (nanoGPT's character model has a context of 64). While the whole text
fits, `generate` (with its KV cache) is used instead, so both give the same
tokens there.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch

from llmos.infer.generate import stop_ids, stream
from llmos.infer.sampling import GenerationConfig, make_generator, sample


@torch.no_grad()
def stream_window(model, prompt_ids: list[int], cfg: GenerationConfig) -> Iterator[int]:
    """Yield up to `cfg.max_new_tokens` new ids, sliding past the context when needed."""
    context = model.config.max_seq_len
    if len(prompt_ids) + cfg.max_new_tokens <= context:
        yield from stream(model, prompt_ids, cfg)
        return
    if not prompt_ids:
        raise ValueError("the prompt is empty; give at least one token (e.g. a BOS token)")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    stops, generator = stop_ids(model, cfg), make_generator(cfg.seed, device)
    ids = torch.tensor([prompt_ids[-context:]], device=device)                 # (1, T)
    try:
        for _ in range(cfg.max_new_tokens):
            logits = model(ids[:, -context:], last_only=True).logits[:, -1]    # (1, V)
            token = sample(logits, ids, cfg, generator)                         # (1,)
            yield int(token)
            if int(token) in stops:
                return
            ids = torch.cat([ids, token[:, None]], dim=1)
    finally:
        model.train(was_training)


def generate_window(model, prompt_ids: list[int], cfg: GenerationConfig) -> list[int]:
    """New token ids (stop token excluded), any length."""
    stops = stop_ids(model, cfg)
    return [t for t in stream_window(model, prompt_ids, cfg) if t not in stops]
