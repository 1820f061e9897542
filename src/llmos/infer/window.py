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
from llmos.infer.prompt_check import check_prompt
from llmos.infer.sampling import GenerationConfig, make_generator, sample
from llmos.nn.eval_mode import eval_mode


@torch.no_grad()
def stream_window(model, prompt_ids: list[int], cfg: GenerationConfig) -> Iterator[int]:
    """Yield up to `cfg.max_new_tokens` new ids, sliding past the context when needed."""
    context = model.config.max_seq_len
    if len(prompt_ids) + cfg.max_new_tokens <= context:
        yield from stream(model, prompt_ids, cfg)
        return
    check_prompt(prompt_ids, model.config.vocab_size)     # longer than the context is fine: it slides
    with eval_mode(model):
        device = next(model.parameters()).device
        stops, generator = stop_ids(model, cfg), make_generator(cfg.seed, device)
        ids = torch.tensor([prompt_ids[-context:]], device=device)                 # (1, T)
        for _ in range(cfg.max_new_tokens):
            logits = model(ids[:, -context:], last_only=True).logits[:, -1]    # (1, V)
            token = sample(logits, ids, cfg, generator)                         # (1,)
            yield int(token)
            if int(token) in stops:
                return
            ids = torch.cat([ids, token[:, None]], dim=1)


def generate_window(model, prompt_ids: list[int], cfg: GenerationConfig) -> list[int]:
    """New token ids (stop token excluded), any length."""
    stops = stop_ids(model, cfg)
    return [t for t in stream_window(model, prompt_ids, cfg) if t not in stops]
