"""Speculative decoding: a small draft model guesses k tokens, the target checks them in one pass.

(Leviathan, Kalman & Matias 2023, "Fast Inference from Transformers via
Speculative Decoding"; Chen et al. 2023.) Decoding one token reads every
weight of the target, so a forward over k + 1 tokens costs about what a
forward over one does. Each round:

    draft:   x_1 .. x_k  sampled one by one from the draft, q_i = q(. | prefix, x_<i)
    target:  p_0 .. p_k  from ONE forward over [last, x_1 .. x_k]
    for i = 1 .. k:
        accept x_i with probability min(1, p_{i-1}(x_i) / q_i(x_i))        (Algorithm 1)
        on the first rejection emit a token from norm(max(0, p_{i-1} - q_i)) and end the round
    if all k are accepted, emit one more token from p_k

Every emitted token is distributed exactly as the target alone would sample
it (the paper's Theorem 1), whatever the draft. Greedy decoding is the
special case where both are one-hot: a guess is kept while it equals the
target's argmax, so the output is the target's own greedy output.

Both models keep a KV cache; rejected guesses are cut off the caches with
`KVCache.truncate`. The draft must share the target's tokenizer (vocabulary).
This is for `generate` (batch 1); the serving engine speculates the same way while one
request runs alone (engine_draft.py).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from llmos.infer.generate import stop_ids
from llmos.infer.prompt_check import check_prompt
from llmos.nn.eval_mode import eval_mode
from llmos.infer.sampling import GenerationConfig, make_generator, process_logits


@dataclass
class SpeculativeStats:
    proposed: int = 0            # draft tokens offered to the target
    accepted: int = 0            # of which the target kept
    rounds: int = 0              # target forward passes after the prompt
    emitted: int = 0             # tokens yielded

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.proposed if self.proposed else 0.0

    @property
    def tokens_per_round(self) -> float:
        return self.emitted / self.rounds if self.rounds else 0.0


def sampler_probs(logits: Tensor, history: Tensor, cfg: GenerationConfig) -> Tensor:
    """logits (V,) -> the distribution the sampler would draw from (V,); one-hot when greedy."""
    processed = process_logits(logits[None], history[None], cfg)[0]
    if cfg.greedy:
        return torch.nn.functional.one_hot(processed.argmax(), processed.shape[-1]).float()
    probs = processed.softmax(-1)
    if not torch.isfinite(probs).all():          # a vanishing temperature overflowed: that is greedy
        return torch.nn.functional.one_hot(logits.argmax(), logits.shape[-1]).float()
    return probs


def draw(probs: Tensor, generator: torch.Generator) -> int:
    return int(torch.multinomial(probs, 1, generator=generator))


@torch.no_grad()
def speculative_stream(target, draft, prompt_ids: list[int], cfg: GenerationConfig, k: int = 4,
                       stats: SpeculativeStats | None = None) -> Iterator[int]:
    """Yield the target's tokens, k draft guesses checked per target forward; `stats` is filled in."""
    if k < 1:
        raise ValueError(f"speculate-k must be at least 1, got {k}")
    if draft.config.vocab_size != target.config.vocab_size:
        raise ValueError(f"the draft's vocabulary ({draft.config.vocab_size}) differs from the target's "
                         f"({target.config.vocab_size}); the draft must use the target's tokenizer")
    context = min(target.config.max_seq_len, draft.config.max_seq_len)
    check_prompt(prompt_ids, target.config.vocab_size, context)
    stats = stats if stats is not None else SpeculativeStats()
    budget = min(cfg.max_new_tokens, context - len(prompt_ids))
    if budget <= 0:
        return
    with eval_mode(target), eval_mode(draft):
        yield from _rounds(target, draft, prompt_ids, cfg, k, stats, budget)


def _rounds(target, draft, prompt_ids: list[int], cfg: GenerationConfig, k: int, stats: SpeculativeStats,
            budget: int) -> Iterator[int]:
    """The draft-and-verify rounds, with both models already in eval mode."""
    device = next(target.parameters()).device
    stops, generator = stop_ids(target, cfg), make_generator(cfg.seed, device)
    room = len(prompt_ids) + budget + k + 1
    t_cache, d_cache = target.new_cache(1, room), draft.new_cache(1, room)
    ids = list(prompt_ids)                          # prompt + emitted tokens
    # invariant: both caches hold ids[:n_target] / ids[:n_draft]; the rest is fed next round
    if len(ids) > 1:
        target(torch.tensor([ids[:-1]], device=device), cache=t_cache)
        draft(torch.tensor([ids[:-1]], device=device), cache=d_cache)
    n_target = n_draft = len(ids) - 1
    # greedy with nothing that depends on the history: argmaxes, compared as plain ints
    argmax_only = cfg.greedy and cfg.repetition_penalty == 1.0
    emitted = 0
    while emitted < budget:
        k_now = min(k, budget - emitted - 1)     # the round emits up to k_now + 1 tokens
        history = None if argmax_only else torch.tensor(ids, device=device)
        # draft: feed what it has not seen, then guess k_now tokens one at a time
        guesses, q = propose(draft, d_cache, ids[n_draft:], k_now, history, cfg, generator)
        if k_now:
            n_draft = len(ids) + k_now - 1        # ids and every guess but the last are now cached
        # target: one forward over [ids[n_target:], guesses]: distributions p_0 .. p_k_now
        block = ids[n_target:] + guesses
        logits = target(torch.tensor([block], device=device), cache=t_cache).logits[0, -(k_now + 1):]
        stats.rounds += 1
        stats.proposed += k_now
        new = verify(logits, guesses, q, history, cfg, generator)
        accepted = len(new) - 1
        stats.accepted += accepted
        # keep the accepted guesses in the caches, drop the rest
        n_target = len(ids) + accepted
        t_cache.truncate(0, n_target)
        n_draft = min(n_draft, n_target)
        d_cache.truncate(0, n_draft)
        for token in new:
            ids.append(token)
            emitted += 1
            stats.emitted += 1
            yield token
            if token in stops:
                return


def propose(draft, cache, feed: list[int], k: int, history: Tensor | None, cfg: GenerationConfig,
            generator: torch.Generator) -> tuple[list[int], list[Tensor]]:
    """The draft's k guesses after feeding it `feed` (what its cache lacks), and the distribution
    each was drawn from. history: the ids so far, or None for plain greedy (argmaxes, no q)."""
    device = cache.k.device
    guesses, q = [], []
    for _ in range(k):
        logits = draft(torch.tensor([feed], device=device), cache=cache, last_only=True).logits[0, -1]
        if history is None:
            guesses.append(int(logits.argmax()))
        else:
            probs = sampler_probs(logits, torch.cat([history, torch.tensor(guesses, dtype=torch.long,
                                                                           device=device)]), cfg)
            guesses.append(draw(probs, generator))
            q.append(probs)
        feed = guesses[-1:]
    return guesses, q


def verify(logits: Tensor, guesses: list[int], q: list[Tensor], history: Tensor | None, cfg: GenerationConfig,
           generator: torch.Generator) -> list[int]:
    """The tokens a round emits from the target's logits (k + 1, V) at the guesses: the kept
    guesses, then the target's own token. history None: plain greedy (`propose`'s)."""
    if history is None:
        return check_greedy(logits.argmax(-1).tolist(), guesses)
    return check_sampled(logits, guesses, q, history, cfg, generator)


def check_greedy(best: list[int], guesses: list[int]) -> list[int]:
    """Greedy verification: keep guesses while they are the target's argmax, then its own token.

    best: the target's argmax after each prefix (k + 1 entries), guesses: the draft's k."""
    new = []
    for b, x in zip(best, guesses):
        new.append(b)
        if b != x:
            return new
    return new + [best[len(guesses)]]                                   # all accepted: a bonus token


def check_sampled(logits: Tensor, guesses: list[int], q: list[Tensor], history: Tensor, cfg: GenerationConfig,
                   generator: torch.Generator) -> list[int]:
    """The rejection rule (Algorithm 1) over the target's k + 1 distributions; returns the tokens
    the round emits: the accepted guesses, then a resampled or bonus token."""
    device = logits.device
    new: list[int] = []
    for i in range(len(guesses) + 1):
        hist = torch.cat([history, torch.tensor(guesses[:i], dtype=torch.long, device=device)])
        p = sampler_probs(logits[i], hist, cfg)
        if i == len(guesses):                                           # all accepted: a bonus token
            new.append(draw(p, generator))
            break
        x = guesses[i]
        if cfg.greedy:
            ok = bool(p[x] == 1)
        else:
            ok = float(torch.rand((), generator=generator, device=device)) < min(1.0, float(p[x] / q[i][x]))
        if ok:
            new.append(x)
            continue
        residual = (p - q[i]).clamp(min=0)                              # norm(max(0, p - q))
        new.append(draw(residual / residual.sum(), generator) if residual.sum() > 0 else draw(p, generator))
        break
    return new


def speculative_generate(target, draft, prompt_ids: list[int], cfg: GenerationConfig, k: int = 4,
                         stats: SpeculativeStats | None = None) -> list[int]:
    """New token ids (a stop token excluded), as `generate(target, ...)` would sample them."""
    stops = stop_ids(target, cfg)
    return [t for t in speculative_stream(target, draft, prompt_ids, cfg, k, stats) if t not in stops]
