"""A batched decoding engine: continuous batching over a static per-slot KV cache.

Requests arrive at any time and finish at any time. The engine keeps one KV
cache with `n_slots` rows (slots); a request holds a slot from its prefill to
its last token. Each step of the engine's loop

    1. frees the slots of cancelled requests,
    2. admits waiting requests into free slots and prefills their prompts
       (prompts batched into one left-padded forward where the padding fits),
    3. decodes every running request together: ONE forward with one new
       token per row, rows at different lengths (the cache tracks each),
    4. samples the next token of every row (batched, per-request settings:
       logit bias, a grammar's mask, penalties, temperature, top-k/p, seed),
    5. hands each request its new text; finished requests leave, freeing slots.

With a draft model (`Engine(..., draft=small_model)`), a step in which one request
runs alone is a speculative round instead (engine_draft.py).

A request whose prompt starts with blocks of tokens that an earlier request
already prefilled copies their keys and values from the prefix cache
(prefix_cache.py) and prefills only the rest.

so a request joins or leaves the running batch between two decode steps
(continuous batching, Yu et al. 2022, "Orca"), instead of waiting for the
slowest member of a fixed batch. Greedy output is the same as
`llmos.infer.generate` on the prompt alone, whatever else shares the batch.

    engine = Engine(model, tokenizer).start()
    handle = engine.submit(prompt_ids, GenerationConfig(max_new_tokens=50, stop=["\\n"]))
    for delta in handle: print(delta.text, end="")     # or: handle.result(), `async for`
    engine.stop()

The loop runs in a background thread; `submit` and `cancel` are thread-safe.
"""
from __future__ import annotations

import asyncio
import heapq
import logging
import threading
from collections import deque
from dataclasses import dataclass

import torch
from torch import Tensor

from llmos.infer.batch_sampling import sample_batch
from llmos.infer.detokenize import IncrementalDetokenizer, StopStrings
from llmos.infer.engine_draft import EngineDraft
from llmos.infer.logprobs import apply_logit_bias, sequence_logprobs, token_logprobs
from llmos.infer.prefix_cache import PrefixCache
from llmos.infer.prompt_check import check_prompt
from llmos.infer.request import Delta, FinishReason, Request, RequestHandle, TokenLogprob, deliver
from llmos.infer.sampling import GenerationConfig, make_generator

log = logging.getLogger(__name__)


class EngineBusy(RuntimeError):
    """The engine's queue is full; try again later."""


@dataclass
class EngineConfig:
    n_slots: int = 16               # sequences decoded together (rows of the KV cache)
    max_len: int | None = None      # tokens per slot; default the model's context
    prefill_tokens: int = 4096      # most tokens (padding included) in one prefill forward
    max_pending: int = 1024         # waiting requests beyond this are refused (EngineBusy)
    prefix_cache_mb: float = 256.0  # memory for cached prefix keys/values; 0: no prefix cache
    prefix_block: int = 16          # tokens per cached block

    def __post_init__(self) -> None:
        if self.n_slots < 1:
            raise ValueError(f"n_slots must be >= 1, got {self.n_slots}")
        if self.prefill_tokens < 1:
            raise ValueError(f"prefill_tokens must be >= 1, got {self.prefill_tokens}")
        if self.prefix_cache_mb < 0:
            raise ValueError(f"prefix_cache_mb must be >= 0 (0: off), got {self.prefix_cache_mb}")
        if self.prefix_block < 1:
            raise ValueError(f"prefix_block must be >= 1, got {self.prefix_block}")


class Engine:
    def __init__(self, model, tokenizer=None, config: EngineConfig | None = None,
                 stop_token_ids: set[int] | None = None, draft=None, speculate_k: int = 4):
        """stop_token_ids: tokens that end every request whose GenerationConfig leaves
        `stop_token_ids` None (default: the model's end-of-sequence token).
        draft: a small model on the same tokenizer; while one request runs alone, each step
        checks `speculate_k` of its guesses in one forward (engine_draft.py)."""
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.config = cfg = config or EngineConfig()
        self.context = model.config.max_seq_len
        self.device = next(model.parameters()).device
        self.cache = model.new_cache(cfg.n_slots, cfg.max_len or self.context)
        eos = model.config.eos_token_id
        self.default_stop_ids = frozenset(stop_token_ids if stop_token_ids is not None
                                          else () if eos is None else (eos,))
        self.prefix_cache = (PrefixCache(cfg.prefix_block, int(cfg.prefix_cache_mb * 2**20))
                             if cfg.prefix_cache_mb > 0 else None)
        self._free = list(range(cfg.n_slots))        # a heap: the lowest free slot first
        self._pending: deque[tuple[Request, RequestHandle]] = deque()
        self._running: list[Request] = []
        self._handles: dict[int, RequestHandle] = {}
        self._counts: Tensor | None = None           # (slots, V) generated-token counts, made on demand
        self._outbox: list[tuple[RequestHandle, Delta]] = []   # this step's deltas, delivered together
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.draft = EngineDraft(draft, model.config, speculate_k, self.cache.max_len) if draft is not None else None
        self.steps = 0                               # decode steps run (for tests and benchmarks)
        self.max_batch = 0                           # most requests decoded in one step so far

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "Engine":
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._loop, name="llmos-engine", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Finish the loop; requests still waiting or running end as cancelled."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> "Engine":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def num_active(self) -> int:
        """Requests holding a cache slot now."""
        return self.config.n_slots - len(self._free)

    @property
    def num_pending(self) -> int:
        """Requests waiting for a free slot."""
        return len(self._pending)

    # ------------------------------------------------------------------ submitting
    def submit(self, prompt_ids: list[int], gen: GenerationConfig | None = None, *,
               frequency_penalty: float = 0.0, presence_penalty: float = 0.0, grammar=None,
               logit_bias: dict[int, float] | None = None, logprobs: int | None = None,
               prompt_logprobs: bool = False, loop: asyncio.AbstractEventLoop | None = None) -> RequestHandle:
        """Queue a request; returns its handle at once. Thread-safe. Requests
        submitted before `start()` wait for it (and are then prefilled together).

        grammar: a CompiledGrammar (llmos.infer.grammar), or a GrammarState to start from:
            only tokens it allows are sampled; the request ends ("stop") when the grammar is
            complete, or ("no_valid_token") when it allows no token.
        logit_bias: {token id: value} added to the logits before sampling.
        logprobs: report each sampled token's logprob and this many top alternatives (0-20).
        prompt_logprobs: report the prompt tokens' logprobs too (with `logprobs` alternatives).
        loop: deliver deltas to this event loop (for `async for`); see `asubmit`.
        Raises ValueError for a prompt the model cannot take, EngineBusy when the queue is full.
        """
        gen = gen or GenerationConfig()
        self._check_prompt(prompt_ids)
        if gen.stop and self.tokenizer is None:
            raise ValueError("stop strings need a tokenizer: pass one to Engine(model, tokenizer)")
        vocab = self.model.config.vocab_size
        bad = [t for t in (logit_bias or {}) if not (isinstance(t, int) and 0 <= t < vocab)]
        if bad:
            raise ValueError(f"logit_bias names token id {bad[0]!r}, outside the model's vocabulary of {vocab}")
        if logprobs is not None and not 0 <= logprobs <= 20:
            raise ValueError(f"logprobs must be between 0 and 20, got {logprobs}")
        if grammar is not None and hasattr(grammar, "start"):
            grammar = grammar.start()
        request = Request(
            prompt_ids=list(prompt_ids), gen=gen,
            stop_ids=frozenset(gen.stop_token_ids) if gen.stop_token_ids is not None else self.default_stop_ids,
            generator=make_generator(gen.seed, "cpu"),
            detokenizer=IncrementalDetokenizer(self.tokenizer) if self.tokenizer is not None else None,
            stops=StopStrings(gen.stop), frequency_penalty=frequency_penalty, presence_penalty=presence_penalty,
            grammar=grammar, logit_bias=dict(logit_bias) if logit_bias else None, logprobs=logprobs,
            prompt_logprobs=prompt_logprobs)
        request.budget = min(gen.max_new_tokens, min(self.context, self.cache.max_len) - len(prompt_ids))
        handle = RequestHandle(request, lambda: self.cancel(request), loop)
        if request.budget <= 0:
            request.finish_reason = "length"
            handle.push(Delta("", [], "length"))
            return handle
        with self._cond:
            if self._stopping:
                raise RuntimeError("the engine is stopping; it takes no new requests")
            if len(self._pending) >= self.config.max_pending:
                raise EngineBusy(f"{len(self._pending)} requests are already waiting; try again later")
            self._pending.append((request, handle))
            self._cond.notify()
        return handle

    def asubmit(self, prompt_ids: list[int], gen: GenerationConfig | None = None, **kwargs) -> RequestHandle:
        """`submit` from a coroutine: the handle is read with `async for`."""
        return self.submit(prompt_ids, gen, loop=asyncio.get_running_loop(), **kwargs)

    def _check_prompt(self, prompt_ids: list[int]) -> None:
        check_prompt(prompt_ids, self.model.config.vocab_size, min(self.context, self.cache.max_len))

    def cancel(self, request: Request) -> None:
        """Stop a request (thread-safe): a waiting one ends now, a running one before the next step."""
        with self._cond:
            request.cancelled = True
            for i, (r, handle) in enumerate(self._pending):
                if r is request:   # still waiting: it never held a slot, so it ends here
                    del self._pending[i]
                    self._finish(r, "cancelled", handle=handle)
                    break
            self._cond.notify()

    # ------------------------------------------------------------------ the loop
    def _loop(self) -> None:
        with torch.inference_mode():
            while True:
                with self._cond:
                    while not (self._stopping or self._pending or self._running):
                        self._cond.wait()
                    if self._stopping:
                        break
                    admitted = self._admit()
                try:
                    self._step(admitted)
                except Exception as e:  # a bug must not take the server down: fail these requests
                    log.exception("engine step failed")
                    for r in self._running + admitted:
                        if r.finish_reason is None:
                            self._finish(r, "error", error=f"{type(e).__name__}: {e}")
                    self._running = []
                self._flush()
            with self._cond:
                for r in self._running:
                    self._finish(r, "cancelled")
                for r, handle in self._pending:
                    self._finish(r, "cancelled", handle=handle)
                self._running, self._pending = [], deque()
                self._flush()

    def _flush(self) -> None:
        """Deliver this step's deltas: one wake-up per caller event loop, not one per token.
        A caller whose loop has closed has its requests marked cancelled; they leave next step."""
        outbox, self._outbox = self._outbox, []
        if outbox:
            deliver(outbox)

    def _admit(self) -> list[Request]:
        """Move waiting requests into free slots (under the lock)."""
        admitted = []
        while self._pending and self._free:
            request, handle = self._pending.popleft()
            self._handles[request.id] = handle
            request.slot = heapq.heappop(self._free)
            admitted.append(request)
        return admitted

    def _step(self, admitted: list[Request]) -> None:
        running = []
        for r in self._running:
            if r.cancelled:
                self._finish(r, "cancelled")
            else:
                running.append(r)
        self._running = running
        if (self.draft is not None and len(running) == 1 and not admitted
                and self.draft.eligible(running[0]) and self._speculate(running[0])):
            return
        logits = []
        if running:
            logits.append(self._decode(running))
            self.steps += 1
            self.max_batch = max(self.max_batch, len(running))
        if admitted:
            logits.append(self._prefill(admitted))
        rows = running + admitted
        if not rows:
            return
        raw = torch.cat(logits) if len(logits) > 1 else logits[0]               # (B, V)
        logits = apply_logit_bias(raw, [r.logit_bias for r in rows])
        dead = [False] * len(rows)
        if any(r.grammar is not None for r in rows):
            from llmos.infer.grammar import constrain_logits   # needs llguidance: only when used
            logits, dead = constrain_logits(logits, [r.grammar for r in rows])
        counts = None
        if any(r.frequency_penalty or r.presence_penalty for r in rows):
            counts = self._token_counts()[torch.tensor([r.slot for r in rows], device=self.device)]
        tokens = sample_batch(logits, rows, counts)                               # (B,)
        if self._counts is not None:
            self._counts.index_put_((torch.tensor([r.slot for r in rows], device=self.device), tokens),
                                    torch.ones_like(tokens, dtype=self._counts.dtype), accumulate=True)
        scored = token_logprobs(raw, tokens, [r.logprobs for r in rows])
        for r, token, lp, no_token in zip(rows, tokens.tolist(), scored, dead):
            if no_token:
                r.grammar.mark_dead()
                self._finish(r, "no_valid_token", text=r.stops.flush())
            else:
                self._advance(r, token, lp)
        self._running = [r for r in rows if r.finish_reason is None]

    def _speculate(self, r: Request) -> bool:
        """One speculative round for the lone request `r`; False where it cannot (decode as usual)."""
        tokens = self.draft.round(self.model, self.cache, r)
        if tokens is None:
            return False
        self.steps += 1
        self.max_batch = max(self.max_batch, 1)
        for token in tokens:
            self._advance(r, token)
            if r.finish_reason is not None:
                break
        self._running = [r] if r.finish_reason is None else []
        return True

    def _decode(self, requests: list[Request]) -> Tensor:
        """One forward for every running request's last token: logits (B, V)."""
        ids = torch.tensor([[r.tokens[-1]] for r in requests], device=self.device)   # (B, 1)
        slots = [r.slot for r in requests]
        if slots == list(range(len(slots))):
            # slots 0..B-1: no slot list, so the cache reads its rows as views (no gather)
            out = self.model(ids, cache=self.cache, attention_mask=torch.ones_like(ids))
        else:
            out = self.model(ids, cache=self.cache, cache_slots=torch.tensor(slots, device=self.device))
        return out.logits[:, -1]

    def _prefill(self, requests: list[Request]) -> Tensor:
        """Fill the admitted requests' slots with their prompts: last-position logits (k, V)."""
        logits = [None] * len(requests)
        alone = []   # a cached prefix, or prompt logprobs: prefilled on their own
        for i, r in enumerate(requests):
            hit = None
            if self.prefix_cache is not None and not r.prompt_logprobs:
                hit = self.prefix_cache.lookup(r.prompt_ids)
            if hit is not None and hit.n_tokens:
                self.prefix_cache.load(hit, self.cache, r.slot)
                r.cached_tokens = hit.n_tokens
            if r.cached_tokens or r.prompt_logprobs:
                alone.append(i)
                logits[i] = self._prefill_alone(r)
        order = sorted((i for i in range(len(requests)) if i not in alone),
                       key=lambda i: -len(requests[i].prompt_ids))
        while order:
            group = [order.pop(0)]
            width = len(requests[group[0]].prompt_ids)
            # a shorter prompt joins if its left padding still leaves room for all its new tokens
            for i in list(order):
                r = requests[i]
                if (len(group) + 1) * width <= self.config.prefill_tokens and width + r.budget <= self.cache.max_len:
                    group.append(i)
                    order.remove(i)
            for i, row in zip(group, self._prefill_group([requests[i] for i in group], width)):
                logits[i] = row
            if self.prefix_cache is not None:
                for i in group:
                    r = requests[i]
                    self.prefix_cache.store(r.prompt_ids, self.cache, r.slot, width - len(r.prompt_ids))
        return torch.stack(logits)

    def _prefill_alone(self, r: Request) -> Tensor:
        """One prompt after its cached prefix (if any); with prompt logprobs, every position's
        logits are kept to score the prompt. Returns the last position's logits (V,)."""
        ids = torch.tensor([r.prompt_ids[r.cached_tokens:]], device=self.device)       # (1, T - cached)
        slots = torch.tensor([r.slot], device=self.device)
        out = self.model(ids, cache=self.cache, cache_slots=slots, last_only=not r.prompt_logprobs)
        if r.prompt_logprobs:
            r.prompt_lp = sequence_logprobs(out.logits[0], r.prompt_ids, r.logprobs or 0)
        if self.prefix_cache is not None:
            self.prefix_cache.store(r.prompt_ids, self.cache, r.slot, 0)
        return out.logits[0, -1]

    def _prefill_group(self, requests: list[Request], width: int) -> Tensor:
        slots = torch.tensor([r.slot for r in requests], device=self.device)
        if len(requests) == 1:
            ids = torch.tensor([requests[0].prompt_ids], device=self.device)         # (1, T)
            return self.model(ids, cache=self.cache, cache_slots=slots, last_only=True).logits[:, -1]
        ids = torch.zeros(len(requests), width, dtype=torch.long)                     # (k, T) left-padded
        mask = torch.zeros(len(requests), width, dtype=torch.long)
        for row, r in enumerate(requests):
            n = len(r.prompt_ids)
            ids[row, width - n:] = torch.tensor(r.prompt_ids)
            mask[row, width - n:] = 1
        out = self.model(ids.to(self.device), attention_mask=mask.to(self.device), cache=self.cache,
                         cache_slots=slots, last_only=True)
        return out.logits[:, -1]

    def _advance(self, r: Request, token: int, logprob: TokenLogprob | None = None) -> None:
        """Take one sampled token: emit its text, or finish the request."""
        r.n_sampled += 1
        g = r.grammar
        if token in r.stop_ids or (g is not None and token == g.grammar.eos_id):
            self._finish(r, "stop", text=r.stops.flush(), token_ids=[token])
            return
        if g is not None:
            g.advance(token)
        r.tokens.append(token)
        lps = None
        if logprob is not None:
            r.sampled_logprobs.append(logprob)
            lps = [logprob]
        text = r.detokenizer.add(token) if r.detokenizer is not None else ""
        text, hit = r.stops.feed(text)
        if hit or (g is not None and g.is_finished):
            self._finish(r, "stop", text=text if hit else text + r.stops.flush(), token_ids=[token], logprobs=lps)
        elif r.n_sampled >= r.budget:
            self._finish(r, "length", text=text + r.stops.flush(), token_ids=[token], logprobs=lps)
        else:
            self._outbox.append((self._handles[r.id], Delta(text, [token], logprobs=lps)))

    def _finish(self, r: Request, reason: FinishReason, text: str = "", token_ids: list[int] | None = None,
                error: str | None = None, handle: RequestHandle | None = None,
                logprobs: list[TokenLogprob] | None = None) -> None:
        r.finish_reason = reason
        if r.slot >= 0 and self.prefix_cache is not None and reason in ("stop", "length"):
            # keep the reply's blocks too: a chat's next prompt is this one plus the reply
            fed = int(self.cache.lengths[r.slot])                 # tokens with keys stored (left padding too)
            n_real = min(len(r.history), int(self.cache.valid[r.slot, :fed].sum()))
            self.prefix_cache.store(r.history[:n_real], self.cache, r.slot, fed - n_real)
        if r.slot >= 0:
            self.cache.reset([r.slot])
            if self._counts is not None:
                self._counts[r.slot] = 0
            heapq.heappush(self._free, r.slot)
            r.slot = -1
        delta = Delta(text, token_ids or [], reason, error, logprobs)
        if handle is not None:      # not yet admitted: deliver now (this may be the caller's thread)
            handle.push(delta)
        elif (handle := self._handles.pop(r.id, None)) is not None:
            self._outbox.append((handle, delta))

    def _token_counts(self) -> Tensor:
        if self._counts is None:
            self._counts = torch.zeros(self.config.n_slots, self.model.config.vocab_size, device=self.device)
        return self._counts
