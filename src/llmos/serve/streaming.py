"""Server-sent events in OpenAI's streaming format.

A streamed response is a sequence of `data: {json}\\n\\n` events, one chunk
per piece of new text, ending with `data: [DONE]\\n\\n`:

    completions:  {"object": "text_completion", "choices": [{"index", "text", "finish_reason"}]}
    chat:         {"object": "chat.completion.chunk",
                   "choices": [{"index", "delta": {"role"?, "content"?}, "finish_reason"}]}

With `stream_options.include_usage` every chunk carries `"usage": null` and
one last chunk, with no choices, carries the token counts.

If the client goes away, the response's task is cancelled while it waits for
the next token; the `finally` below then cancels every request of the
response, which frees their KV-cache slots at the engine's next step.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from llmos.infer.request import Delta, RequestHandle
from llmos.serve.errors import error_body


def _event(payload: dict | str) -> str:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return f"data: {data}\n\n"


def _joined(batch: list[Delta]) -> Delta:
    """Deltas that arrived together as one (one chunk, one write)."""
    if len(batch) == 1:
        return batch[0]
    last = batch[-1]
    return Delta("".join(d.text for d in batch), [t for d in batch for t in d.token_ids],
                 last.finish_reason, last.error)


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


async def sse_stream(handles: list[RequestHandle], *, chat: bool, response_id: str, created: int,
                     model: str, prompt_tokens: int, include_usage: bool) -> AsyncIterator[str]:
    base = {"id": response_id, "object": "chat.completion.chunk" if chat else "text_completion",
            "created": created, "model": model}
    if include_usage:
        base["usage"] = None

    def chunk(index: int, text: str | None, finish: str | None, role: bool = False) -> str:
        if chat:
            delta = {"role": "assistant", "content": ""} if role else ({"content": text} if text else {})
            choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        else:
            choice = {"index": index, "text": text or "", "logprobs": None, "finish_reason": finish}
        return _event({**base, "choices": [choice]})

    try:
        if chat:
            for i in range(len(handles)):
                yield chunk(i, None, None, role=True)
        async for i, delta in merged(handles):
            if delta.finish_reason == "error":
                yield _event(error_body(f"generation failed: {delta.error}", "server_error"))
                return
            finish = delta.finish_reason if delta.finish_reason in ("stop", "length") else None
            if delta.text or finish:
                yield chunk(i, delta.text, finish)
        if include_usage:
            completion = sum(h.request.n_sampled for h in handles)
            usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
                     "total_tokens": prompt_tokens + completion}
            yield _event({**base, "choices": [], "usage": usage})
        yield _event("[DONE]")
    finally:
        for h in handles:
            h.cancel()
