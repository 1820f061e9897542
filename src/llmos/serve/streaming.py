"""Server-sent events in OpenAI's streaming format.

A streamed response is a sequence of `data: {json}\\n\\n` events, one chunk
per piece of new text, ending with `data: [DONE]\\n\\n`:

    completions:  {"object": "text_completion", "choices": [{"index", "text", "finish_reason"}]}
    chat:         {"object": "chat.completion.chunk",
                   "choices": [{"index", "delta": {"role"?, "content"?}, "finish_reason"}]}

With `stream_options.include_usage` every chunk carries `"usage": null` and
one last chunk, with no choices, carries the token counts.

Log-probabilities ride on the chunk of the tokens they score. Tool calls
stream as OpenAI streams them: `delta.tool_calls[j]` first with the call's
id, type and name (and empty arguments), then the arguments; the choice ends
with finish_reason "tool_calls". A forced call (tool_choice required or named)
is held until it is complete; under "auto" a reply is held only while it
still looks like the start of a call (`{`, `[`, `<tool_call>`), and streams as
text from the moment it does not.

If the client goes away, the response's task is cancelled while it waits for
the next token; the `finally` below then cancels every request of the
response, which frees their KV-cache slots at the engine's next step.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from dataclasses import dataclass, field

from llmos.infer.request import Delta, RequestHandle
from llmos.serve.errors import error_body
from llmos.serve.logprobs import chat_logprobs, completion_logprobs
from llmos.serve.schemas import Tool
from llmos.serve.tool_calls import may_become_call, parse_tool_calls


def _event(payload: dict | str) -> str:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return f"data: {data}\n\n"


def _joined(batch: list[Delta]) -> Delta:
    """Deltas that arrived together as one (one chunk, one write)."""
    if len(batch) == 1:
        return batch[0]
    last = batch[-1]
    lps = [lp for d in batch for lp in (d.logprobs or [])] if any(d.logprobs for d in batch) else None
    return Delta("".join(d.text for d in batch), [t for d in batch for t in d.token_ids],
                 last.finish_reason, last.error, lps)


async def merged(handles: list[RequestHandle]) -> AsyncIterator[tuple[int, Delta]]:
    """(choice index, delta) from several requests, as each arrives; deltas that are
    already waiting when the reader comes back are joined into one."""
    if len(handles) == 1:
        async for batch in handles[0].batches():
            yield 0, _joined(batch)
        return
    iters = [h.batches().__aiter__() for h in handles]
    waiting = {asyncio.ensure_future(it.__anext__()): i for i, it in enumerate(iters)}
    try:
        while waiting:
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            for task in sorted(done, key=waiting.get):
                i = waiting.pop(task)
                try:
                    batch = task.result()
                except StopAsyncIteration:
                    continue
                yield i, _joined(batch)
                waiting[asyncio.ensure_future(iters[i].__anext__())] = i
    finally:
        for task in waiting:
            task.cancel()


@dataclass
class Shape:
    """How a response's choices are written (what the request asked for)."""
    chat: bool
    tokenizer: object
    logprobs: bool = False                 # chat: logprobs; completions: logprobs is not None
    calling: str = "none"                  # none, auto, required, named
    tools: list[Tool] = field(default_factory=list)
    echo: list[tuple[str, list[int]]] | None = None   # completions: each prompt's text and ids


class _Choice:
    """One choice's chunks: text as it comes, or held back while it may be a tool call."""

    def __init__(self, index: int, shape: Shape):
        self.index, self.shape = index, shape
        self.held = shape.calling in ("auto", "required", "named")
        self.buffer = ""
        self.offset = 0      # completions: text_offset of the next token

    def _content(self, text: str, lps) -> dict | None:
        sh = self.shape
        if sh.chat:
            if not text and not lps:
                return None
            logprobs = chat_logprobs(sh.tokenizer, lps).model_dump() if sh.logprobs and lps else None
            return {"index": self.index, "delta": {"content": text}, "logprobs": logprobs, "finish_reason": None}
        logprobs = None
        if sh.logprobs and lps:
            logprobs = completion_logprobs(sh.tokenizer, [lp.token_id for lp in lps], lps, self.offset).model_dump()
            self.offset = logprobs["text_offset"][-1] + len(logprobs["tokens"][-1])
        if not text and logprobs is None:
            return None
        return {"index": self.index, "text": text, "logprobs": logprobs, "finish_reason": None}

    def start(self, prompt_index: int) -> list[dict]:
        """Completions with echo: the prompt (and its logprobs) comes first."""
        sh = self.shape
        if sh.chat or sh.echo is None:
            return []
        text, ids = sh.echo[prompt_index]
        logprobs = None
        if sh.logprobs:
            prompt_lps = self.prompt_lps or [None] * len(ids)
            logprobs = completion_logprobs(sh.tokenizer, ids, prompt_lps, 0).model_dump()
        self.offset = len(text)
        return [{"index": self.index, "text": text, "logprobs": logprobs, "finish_reason": None}]

    prompt_lps = None

    def feed(self, delta: Delta) -> list[dict]:
        out = []
        if self.held:
            self.buffer += delta.text
            if self.shape.calling == "auto" and not may_become_call(self.buffer):
                self.held = False
                text, self.buffer = self.buffer, ""
                out.append(self._content(text, delta.logprobs))
        else:
            out.append(self._content(delta.text, delta.logprobs))
        if delta.finish_reason is not None:
            out += self._finish(delta.finish_reason)
        return [c for c in out if c is not None]

    def _finish(self, reason: str) -> list[dict]:
        out = []
        if self.held:
            content, calls = parse_tool_calls(self.buffer, self.shape.tools) if self.buffer else (None, [])
            if content:
                out.append(self._content(content, None))
            for j, call in enumerate(calls):
                head = {"index": j, "id": call.id, "type": "function",
                        "function": {"name": call.function.name, "arguments": ""}}
                out.append({"index": self.index, "delta": {"tool_calls": [head]}, "logprobs": None,
                            "finish_reason": None})
                out.append({"index": self.index, "logprobs": None, "finish_reason": None,
                            "delta": {"tool_calls": [{"index": j, "function": {"arguments": call.function.arguments}}]}})
            if calls and reason == "stop":
                reason = "tool_calls"
        final = reason if reason in ("stop", "length", "tool_calls", "no_valid_token") else None
        if final is None:
            return out
        if self.shape.chat:
            out.append({"index": self.index, "delta": {}, "logprobs": None, "finish_reason": final})
        else:
            out.append({"index": self.index, "text": "", "logprobs": None, "finish_reason": final})
        return out


async def sse_stream(handles: list[RequestHandle], *, shape: Shape, response_id: str, created: int,
                     model: str, prompt_tokens: int, include_usage: bool, choices_per_prompt: int = 1
                     ) -> AsyncIterator[str]:
    chat = shape.chat
    base = {"id": response_id, "object": "chat.completion.chunk" if chat else "text_completion",
            "created": created, "model": model}
    if include_usage:
        base["usage"] = None
    choices = [_Choice(i, shape) for i in range(len(handles))]
    started = [False] * len(handles)
    try:
        if chat:
            for i in range(len(handles)):
                yield _event({**base, "choices": [{"index": i, "delta": {"role": "assistant", "content": ""},
                                                    "logprobs": None, "finish_reason": None}]})
        async for i, delta in merged(handles):
            if delta.finish_reason == "error":
                yield _event(error_body(f"generation failed: {delta.error}", "server_error"))
                return
            out = []
            if not started[i]:
                started[i] = True
                choices[i].prompt_lps = handles[i].request.prompt_lp
                out += choices[i].start(i // choices_per_prompt)
            out += choices[i].feed(delta)
            for c in out:
                yield _event({**base, "choices": [c]})
        if include_usage:
            completion = sum(h.request.n_sampled for h in handles)
            cached = sum(h.request.cached_tokens for h in handles)
            usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
                     "total_tokens": prompt_tokens + completion,
                     "prompt_tokens_details": {"cached_tokens": cached}}
            yield _event({**base, "choices": [], "usage": usage})
        yield _event("[DONE]")
    finally:
        for h in handles:
            h.cancel()
