"""Speculative decoding inside the batched engine, while one request runs alone.

With several requests in the batch, one forward already serves them all and
the weights are read once per step for everyone; speculation would only add
the draft's cost. With one request (a single user, a chat), each step is a
whole read of the target's weights for one token, which is where a draft
helps (speculative.py, Leviathan et al. 2023). So when exactly one request is
running and nothing is being admitted, the engine's step becomes one round:

    draft:   feed the draft what it has not seen of the request, then guess k tokens
    target:  one forward over [last token, guesses] in the request's cache slot
    check:   the rejection rule (greedy: keep guesses while they are the argmax)
    keep:    cut the rejected guesses off the target's slot and the draft's cache

and the tokens it emits go through the engine's usual path (stop strings,
stop tokens, the budget), one by one. A request that needs per-step logits
(a grammar, logit bias, logprobs, penalties) is decoded the usual way, and so
is any step with two requests or more. The draft keeps one cache row for the
request it last served; a different request starts it over.
"""
from __future__ import annotations

import torch

from llmos.infer.request import Request
from llmos.infer.speculative import SpeculativeStats, propose, verify


class EngineDraft:
    def __init__(self, draft, target_config, k: int = 4, max_len: int | None = None):
        if k < 1:
            raise ValueError(f"speculate-k must be at least 1, got {k}")
        if draft.config.vocab_size != target_config.vocab_size:
            raise ValueError(f"the draft's vocabulary ({draft.config.vocab_size}) differs from the target's "
                             f"({target_config.vocab_size}); the draft must use the target's tokenizer")
        self.model, self.k = draft.eval(), k
        self.context = min(draft.config.max_seq_len, max_len or draft.config.max_seq_len)
        self.cache = draft.new_cache(1, self.context)
        self.owner: int | None = None          # the request whose tokens the draft's cache holds
        self.n_cached = 0                      # of its history
        self.stats = SpeculativeStats()

    @staticmethod
    def eligible(r: Request) -> bool:
        """Requests whose next tokens depend only on the model's distributions and their sampler."""
        return (r.grammar is None and not r.logit_bias and r.logprobs is None and not r.frequency_penalty
                and not r.presence_penalty and r.gen.repetition_penalty == 1.0)

    def round(self, target, cache, r: Request) -> list[int] | None:
        """One draft-and-check round for `r` in `cache` (the engine's); the tokens it emits,
        or None where this step cannot speculate (no room, or no budget for a guess)."""
        history = r.history
        fed = int(cache.lengths[r.slot])                    # the slot's keys: history[:-1] (and padding)
        k = min(self.k, r.budget - r.n_sampled - 1, cache.max_len - fed - 1, self.context - len(history))
        if k < 1:
            return None
        if self.owner != r.id:
            self.cache.reset()
            self.owner, self.n_cached = r.id, 0
        device = cache.k.device
        # eligible requests have no repetition penalty: greedy is plain argmaxes (history None)
        hist = None if r.gen.greedy else torch.tensor(history, device=device)
        guesses, q = propose(self.model, self.cache, history[self.n_cached:], k, hist, r.gen, r.generator)
        self.n_cached = len(history) + k - 1                # history and every guess but the last
        block = torch.tensor([history[-1:] + guesses], device=device)
        logits = target(block, cache=cache, cache_slots=torch.tensor([r.slot], device=device)).logits[0]
        new = verify(logits, guesses, q, hist, r.gen, r.generator)
        accepted = len(new) - 1
        cache.truncate(r.slot, fed + 1 + accepted)          # history[-1] and the kept guesses stay
        self.n_cached = min(self.n_cached, len(history) + accepted)
        self.cache.truncate(0, self.n_cached)
        self.stats.rounds += 1
        self.stats.proposed += k
        self.stats.accepted += accepted
        self.stats.emitted += len(new)
        return new
