"""Autoregressive generation with a KV cache.

    prefill: run the prompt once, filling the cache        O(T_prompt) positions
    decode:  feed one token at a time, reading the cache   O(1) positions each

Stops at the model's end-of-sequence token, a stop token, a stop string, the
token budget, or the end of the model's context, and says which.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Literal

import torch

from llmos.infer.sampling import GenerationConfig, make_generator, sample


@dataclass
class Completion:
    tokens: list[int]                        # the new tokens (a stop string's tokens removed)
    text: str | None                         # decoded, cut before a stop string
    finish_reason: Literal["stop", "length"]


def stop_ids(model, cfg: GenerationConfig) -> set[int]:
    """The token ids that end generation: the config's stop tokens, else the model's EOS."""
    if cfg.stop_token_ids is not None:
        return set(cfg.stop_token_ids)
    eos = model.config.eos_token_id
    return set() if eos is None else {eos}


@torch.no_grad()
def stream(model, prompt_ids: list[int], cfg: GenerationConfig) -> Iterator[int]:
    """Yield new token ids one by one; stops at stop tokens, the budget, or the context's end."""
    if not prompt_ids:
        raise ValueError("the prompt is empty; give at least one token (e.g. a BOS token)")
    vocab, context = model.config.vocab_size, model.config.max_seq_len
    bad = [t for t in prompt_ids if not 0 <= t < vocab]
    if bad:
        raise ValueError(f"prompt token id {bad[0]} is outside the model's vocabulary of {vocab}; "
                         "was the prompt encoded with this model's tokenizer?")
    if len(prompt_ids) >= context:
        raise ValueError(f"the prompt has {len(prompt_ids)} tokens but the model's context is {context}; "
                         "shorten the prompt")
    budget = min(cfg.max_new_tokens, context - len(prompt_ids))
    if budget <= 0:
        return
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    stops = stop_ids(model, cfg)
    generator = make_generator(cfg.seed, device)
    cache = model.new_cache(1, len(prompt_ids) + budget)
    history = torch.tensor([prompt_ids], device=device)                     # (1, T)
    logits = model(history, cache=cache, last_only=True).logits[:, -1]      # (1, V)
    try:
        for _ in range(budget):
            token = sample(logits, history, cfg, generator)                 # (1,)
            yield int(token)
            if int(token) in stops:
                return
            history = torch.cat([history, token[:, None]], dim=1)
            logits = model(token[:, None], cache=cache).logits[:, -1]
    finally:
        model.train(was_training)


def generate(model, prompt_ids: list[int], cfg: GenerationConfig, tokenizer=None) -> list[int]:
    """New token ids for a prompt (without the prompt)."""
    return complete(model, prompt_ids, cfg, tokenizer).tokens


def complete(model, prompt_ids: list[int], cfg: GenerationConfig, tokenizer=None) -> Completion:
    """Generate and report why generation ended; stop strings need `tokenizer`."""
    if cfg.stop and tokenizer is None:
        raise ValueError("stop strings need a tokenizer to read the generated text")
    stops = stop_ids(model, cfg)
    tokens: list[int] = []
    for token in stream(model, prompt_ids, cfg):
        if token in stops:
            return Completion(tokens, tokenizer.decode(tokens) if tokenizer else None, "stop")
        tokens.append(token)
        if cfg.stop:
            text = tokenizer.decode(tokens)
            cut = _find_stop(text, cfg.stop)
            if cut is not None:
                return Completion(_tokens_before(tokens, text[:cut], tokenizer), text[:cut], "stop")
    return Completion(tokens, tokenizer.decode(tokens) if tokenizer else None, "length")


def _find_stop(text: str, stops: list[str]) -> int | None:
    hits = [text.find(s) for s in stops if s and s in text]
    return min(hits) if hits else None


def _tokens_before(tokens: list[int], prefix: str, tokenizer) -> list[int]:
    """The longest run of tokens whose text is within `prefix` (the stop string's tokens removed)."""
    for n in range(len(tokens), -1, -1):
        if prefix.startswith(tokenizer.decode(tokens[:n])):
            return tokens[:n]
    return []
