"""Autoregressive generation with a KV cache.

    prefill: run the prompt once, filling the cache        O(T_prompt) positions
    decode:  feed one token at a time, reading the cache   O(1) positions each

Stops at the model's end-of-sequence token, a stop token, a stop string, the
token budget, or the end of the model's context, and says which.

With `grammar=` (a `CompiledGrammar` from llmos.infer.grammar, or a `Grammar`
plus the tokenizer) only tokens the grammar allows are sampled, and generation
stops when the grammar is complete ("stop") or leaves no token ("no_valid_token").
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Iterator, Literal

import torch

from llmos.infer.prompt_check import check_prompt
from llmos.infer.sampling import GenerationConfig, make_generator, sample
from llmos.nn.eval_mode import eval_mode


@dataclass
class Completion:
    tokens: list[int]                        # the new tokens (a stop string's tokens removed)
    text: str | None                         # decoded, cut before a stop string
    finish_reason: Literal["stop", "length", "no_valid_token"]


def _start(grammar, model, tokenizer):
    """A fresh GrammarState for `grammar` (a Grammar, needing the tokenizer, or a CompiledGrammar);
    a GrammarState as is; None for no grammar."""
    if grammar is None:
        return None
    from llmos.infer.grammar import CompiledGrammar, Grammar, GrammarState, compile_grammar
    if isinstance(grammar, GrammarState):
        return grammar
    if isinstance(grammar, Grammar):
        if tokenizer is None:
            raise ValueError("a Grammar needs the tokenizer to be compiled: pass tokenizer=, "
                             "or a CompiledGrammar")
        grammar = compile_grammar(grammar, tokenizer, model.config.vocab_size)
    if not isinstance(grammar, CompiledGrammar):
        raise TypeError(f"grammar must be a Grammar, CompiledGrammar or GrammarState, "
                        f"not {type(grammar).__name__}")
    return grammar.start()


def stop_ids(model, cfg: GenerationConfig) -> set[int]:
    """The token ids that end generation: the config's stop tokens, else the model's EOS."""
    if cfg.stop_token_ids is not None:
        return set(cfg.stop_token_ids)
    eos = model.config.eos_token_id
    return set() if eos is None else {eos}


@torch.no_grad()
def stream(model, prompt_ids: list[int], cfg: GenerationConfig, grammar=None, tokenizer=None) -> Iterator[int]:
    """Yield new token ids one by one; stops at stop tokens, the budget, or the context's end,
    and under a grammar when it is complete (after yielding its EOS token, if it needs one)
    or dead. grammar: a Grammar (with `tokenizer`), a CompiledGrammar, or a GrammarState
    to advance in place (whose is_finished / is_dead then say why it ended)."""
    context = model.config.max_seq_len
    check_prompt(prompt_ids, model.config.vocab_size, context)
    budget = min(cfg.max_new_tokens, context - len(prompt_ids))
    if budget <= 0:
        return
    with eval_mode(model):
        device = next(model.parameters()).device
        stops = stop_ids(model, cfg)
        generator = make_generator(cfg.seed, device)
        state = _start(grammar, model, tokenizer)
        cache = model.new_cache(1, len(prompt_ids) + budget)
        history = torch.tensor([prompt_ids], device=device)                     # (1, T)
        logits = model(history, cache=cache, last_only=True).logits[:, -1]      # (1, V)
        for _ in range(budget):
            if state is not None:
                allowed = state.allowed().to(device)                          # (V,)
                if not allowed.any():
                    state.mark_dead()
                    return
                logits = logits.masked_fill(~allowed, float("-inf"))
            token = sample(logits, history, cfg, generator)                 # (1,)
            yield int(token)
            if int(token) in stops:
                return
            if state is not None and (not state.advance(int(token)) or state.is_finished):
                return
            history = torch.cat([history, token[:, None]], dim=1)
            logits = model(token[:, None], cache=cache).logits[:, -1]


def generate(model, prompt_ids: list[int], cfg: GenerationConfig, tokenizer=None, grammar=None) -> list[int]:
    """New token ids for a prompt (without the prompt)."""
    return complete(model, prompt_ids, cfg, tokenizer, grammar).tokens


def complete(model, prompt_ids: list[int], cfg: GenerationConfig, tokenizer=None, grammar=None) -> Completion:
    """Generate and report why generation ended; stop strings need `tokenizer`.

    grammar: a CompiledGrammar, or a Grammar (compiled with `tokenizer`): e.g.
    `Grammar.json_schema(schema)` for output that parses as JSON valid under it.
    """
    if cfg.stop and tokenizer is None:
        raise ValueError("stop strings need a tokenizer to read the generated text")
    stops = stop_ids(model, cfg)
    state = _start(grammar, model, tokenizer)
    if state is not None:   # the grammar's end-of-sequence token ends the output too
        stops = stops | {state.grammar.eos_id}
        cfg = dataclasses.replace(cfg, stop_token_ids=sorted(stops))
    tokens: list[int] = []
    for token in stream(model, prompt_ids, cfg, grammar=state):
        if token in stops:
            return Completion(tokens, tokenizer.decode(tokens) if tokenizer else None, "stop")
        tokens.append(token)
        if cfg.stop:
            text = tokenizer.decode(tokens)
            cut = _find_stop(text, cfg.stop)
            if cut is not None:
                return Completion(_tokens_before(tokens, text[:cut], tokenizer), text[:cut], "stop")
    reason = "length"
    if state is not None and (state.is_dead or state.is_finished):
        reason = "no_valid_token" if state.is_dead else "stop"
    return Completion(tokens, tokenizer.decode(tokens) if tokenizer else None, reason)


def _find_stop(text: str, stops: list[str]) -> int | None:
    hits = [text.find(s) for s in stops if s and s in text]
    return min(hits) if hits else None


def _tokens_before(tokens: list[int], prefix: str, tokenizer) -> list[int]:
    """The longest run of tokens whose text is within `prefix` (the stop string's tokens removed)."""
    for n in range(len(tokens), -1, -1):
        if prefix.startswith(tokenizer.decode(tokens[:n])):
            return tokens[:n]
    return []
