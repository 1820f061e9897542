"""One generation request inside the batched engine, and the caller's handle on it.

The engine thread owns a `Request` (its cache slot, sampled tokens, text,
stop conditions); the caller holds a `RequestHandle`, reads `Delta`s from it
as they come (blocking iteration, or `async for` on an event loop) and may
`cancel()` it at any time. Deltas cross threads through a queue: a plain
`queue.SimpleQueue`, or an `asyncio.Queue` fed by `loop.call_soon_threadsafe`
when the request was submitted from a running event loop.

The handle knows nothing of the engine: it is given a cancel callback, and the
engine hands it deltas with `push` (or `deliver`, for a whole step's deltas).
"""
from __future__ import annotations

import asyncio
import itertools
import queue
import threading
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Iterator, Literal

import torch

from llmos.infer.detokenize import IncrementalDetokenizer, StopStrings
from llmos.infer.sampling import GenerationConfig

# stop: a stop token or string, or a grammar complete; length: the token budget or the context;
# no_valid_token: the request's grammar allows no next token; cancelled: by the caller or a
# stopping engine; error: the engine failed
FinishReason = Literal["stop", "length", "no_valid_token", "cancelled", "error"]
_ids = itertools.count()


class RequestError(RuntimeError):
    """The engine failed while running this request (not the caller's fault)."""


@dataclass
class TokenLogprob:
    """A token's log-probability under the model, and the most likely alternatives at its position."""
    token_id: int
    logprob: float
    top: list[tuple[int, float]] = field(default_factory=list)   # (token id, logprob), most likely first


@dataclass
class Delta:
    """What one step added to a request."""
    text: str                                  # new text, safe to show ("" while held back)
    token_ids: list[int]                       # the token(s) sampled this step
    finish_reason: FinishReason | None = None  # set on the request's last delta
    error: str | None = None
    logprobs: list[TokenLogprob] | None = None  # one per token of token_ids, when asked for


@dataclass
class Result:
    """A finished request, as `RequestHandle.result()` returns it."""
    text: str
    token_ids: list[int]          # sampled tokens, a final stop token excluded
    finish_reason: FinishReason
    prompt_tokens: int
    completion_tokens: int        # every token the model sampled for this request
    logprobs: list[TokenLogprob] | None = None          # per sampled token, when asked for
    prompt_logprobs: list[TokenLogprob | None] | None = None   # per prompt token (None for the first)
    cached_tokens: int = 0        # prompt tokens whose keys and values came from the prefix cache


@dataclass(eq=False)
class Request:
    """Engine-side state of one sequence."""
    prompt_ids: list[int]
    gen: GenerationConfig
    stop_ids: frozenset[int]
    generator: torch.Generator
    detokenizer: IncrementalDetokenizer | None
    stops: StopStrings
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    grammar: Any = None           # a llmos.infer.grammar.GrammarState: only tokens it allows are sampled
    logit_bias: dict[int, float] | None = None   # added to the logits before sampling
    logprobs: int | None = None   # report each sampled token's logprob and this many alternatives
    prompt_logprobs: bool = False  # report the prompt's logprobs too (needs a full prefill)
    id: int = field(default_factory=lambda: next(_ids))
    slot: int = -1                # KV cache row while running
    budget: int = 0               # most new tokens: max_new_tokens clipped to the context
    tokens: list[int] = field(default_factory=list)
    n_sampled: int = 0
    cancelled: bool = False
    finish_reason: FinishReason | None = None
    sampled_logprobs: list[TokenLogprob] = field(default_factory=list)
    prompt_lp: list[TokenLogprob | None] | None = None
    cached_tokens: int = 0

    @property
    def history(self) -> list[int]:
        return self.prompt_ids + self.tokens

    @property
    def sampling_key(self) -> tuple:
        """Rows with equal keys are sampled together in one batched call."""
        g = self.gen
        return (0.0, None, None, g.repetition_penalty) if g.greedy else (
            g.temperature, g.top_k, g.top_p, g.repetition_penalty)


def deliver(items: list[tuple["RequestHandle", Delta]]) -> bool:
    """Hand deltas to their callers, waking each caller's event loop once for all of its deltas.

    Returns False if some caller's event loop is closed; those requests are
    marked cancelled, since nobody is listening any more.
    """
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[RequestHandle, Delta]]] = {}
    for handle, delta in items:
        if delta.finish_reason is not None:
            handle._done.set()
        if handle._loop is None:
            handle._queue.put_nowait(delta)
        else:
            by_loop.setdefault(handle._loop, []).append((handle, delta))
    ok = True
    for loop, batch in by_loop.items():
        try:
            loop.call_soon_threadsafe(_put_all, batch)
        except RuntimeError:   # the loop is closed
            ok = False
            for handle, _ in batch:
                handle.request.cancelled = True
    return ok


def _put_all(batch: list[tuple["RequestHandle", Delta]]) -> None:
    for handle, delta in batch:
        handle._queue.put_nowait(delta)


class RequestHandle:
    """The caller's side of a request: its deltas as they arrive, `cancel()`, `result()`.

    on_cancel: called (once the caller cancels, if the request is not done) to stop the
    request; whoever runs the request delivers its deltas with `push` or `deliver`.
    """

    def __init__(self, request: Request, on_cancel: Callable[[], None],
                 loop: asyncio.AbstractEventLoop | None = None):
        self.request = request
        self._on_cancel = on_cancel
        self._loop = loop
        self._queue: queue.SimpleQueue | asyncio.Queue = asyncio.Queue() if loop else queue.SimpleQueue()
        self._done = threading.Event()

    @property
    def id(self) -> int:
        return self.request.id

    @property
    def prompt_tokens(self) -> int:
        return len(self.request.prompt_ids)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def cancel(self) -> None:
        """Stop generating; the engine frees the request's cache slot before its next step."""
        if not self.done:
            self._on_cancel()

    # called by whoever runs the request (any thread) ----------------------
    def push(self, delta: Delta) -> bool:
        """Hand one delta to the caller; False if the caller's event loop is gone."""
        return deliver([(self, delta)])

    # called by the caller -------------------------------------------------
    def __iter__(self) -> Iterator[Delta]:
        if self._loop is not None:
            raise TypeError("this request was submitted from an event loop; use `async for`")
        while True:
            delta = self._queue.get()
            yield delta
            if delta.finish_reason is not None:
                return

    async def __aiter__(self) -> AsyncIterator[Delta]:
        async for batch in self.batches():
            for delta in batch:
                yield delta

    async def batches(self) -> AsyncIterator[list[Delta]]:
        """Deltas in lists of all that have arrived since the last one: a reader that
        falls behind the engine catches up in one go (e.g. one network write)."""
        if self._loop is None:
            raise TypeError("this request was submitted without an event loop; use `for`")
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and batch[-1].finish_reason is None:
                batch.append(self._queue.get_nowait())
            yield batch
            if batch[-1].finish_reason is not None:
                return

    def result(self) -> Result:
        """Wait for the request to finish (blocking) and return everything it made."""
        return self._collect(list(self))

    async def aresult(self) -> Result:
        return self._collect([d async for d in self])

    def _collect(self, deltas: list[Delta]) -> Result:
        last = deltas[-1]
        if last.finish_reason == "error":
            raise RequestError(last.error or "the engine failed")
        r = self.request
        return Result("".join(d.text for d in deltas), list(r.tokens), last.finish_reason,
                      len(r.prompt_ids), r.n_sampled,
                      logprobs=list(r.sampled_logprobs) if r.logprobs is not None else None,
                      prompt_logprobs=r.prompt_lp, cached_tokens=r.cached_tokens)
