"""Any OpenAI-compatible server as a reasoning backend, through the official `openai` client.

    backend = OpenAIBackend(base_url="http://127.0.0.1:8000/v1", model="tiny")   # llmos serve, vLLM, ...

Completion calls go to /v1/completions, chat calls to /v1/chat/completions;
`n`, `seed`, `stop` and `temperature` are passed through, and token logprobs
are asked for only when `Params.logprobs` is set (servers that lack them give
None, and confidence then comes from votes instead). `score` asks
/v1/completions to echo prompt + continuation with logprobs and sums the
continuation's tokens (servers without echo, like chat-only APIs, cannot score).
"""
from __future__ import annotations

import os

from llmos.extras import require_extra
from llmos.reason.backend import Backend, Message, Params, Sample


class OpenAIBackend(Backend):
    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None,
                 timeout: float = 120.0, client=None) -> None:
        if client is None:
            OpenAI = require_extra("openai", "reason").OpenAI      # a missing client names llmos[reason]
            client = OpenAI(base_url=base_url, api_key=api_key or os.environ.get("OPENAI_API_KEY") or "none",
                            timeout=timeout, max_retries=1)
        self.client = client
        self.model = model
        self.name = f"openai:{model}@{base_url or client.base_url}"
        self.logprobs_supported = True       # set False when the server refuses logprobs; then never asked again

    def _create(self, method, params: Params, logprobs_arg: dict, **kwargs):
        """Call the API; a server that refuses logprobs is asked again without them."""
        if params.logprobs and self.logprobs_supported:
            from openai import BadRequestError
            try:
                return method(**kwargs, **self._args(params), **logprobs_arg)
            except BadRequestError as e:
                if "logprobs" not in str(e):
                    raise
                self.logprobs_supported = False
        return method(**kwargs, **self._args(params))

    def _args(self, params: Params) -> dict:
        args = {"model": self.model, "n": params.n, "temperature": params.temperature,
                "max_tokens": params.max_tokens}
        if params.stop:
            args["stop"] = params.stop[:4]            # the API takes at most 4 stop strings
        if params.seed is not None:
            args["seed"] = params.seed
        return args

    def _complete(self, prompt: str, params: Params) -> list[Sample]:
        r = self._create(self.client.completions.create, params, {"logprobs": 0}, prompt=prompt)
        each = _per_choice_tokens(r.usage, len(r.choices))
        out = []
        for c in sorted(r.choices, key=lambda c: c.index):
            lp = getattr(c.logprobs, "token_logprobs", None) if c.logprobs else None
            out.append(Sample(c.text or "", each, c.finish_reason or "stop",
                              [float(x) for x in lp if x is not None] if lp else None))
        return out

    def _score(self, prompt: str, continuations: list[str]) -> list[float]:
        r = self.client.completions.create(model=self.model, prompt=[prompt + c for c in continuations],
                                           echo=True, logprobs=0, max_tokens=1, temperature=0.0)
        out = []
        for c, choice in zip(continuations, sorted(r.choices, key=lambda c: c.index)):
            lp = choice.logprobs
            if lp is None or not lp.token_logprobs:
                raise ValueError("the server gave no prompt logprobs with echo=True")
            # text_offset counts from the echoed text's start; a start token's text may come first
            shift = len("".join(lp.tokens)) - len(choice.text or "")
            lo, hi = len(prompt) + shift, len(prompt) + len(c) + shift
            picked = [x for off, x in zip(lp.text_offset, lp.token_logprobs) if lo <= off < hi]
            if not picked or any(x is None for x in picked):
                raise ValueError(f"the server's echo does not cover the continuation {c!r}")
            out.append(float(sum(picked)))
        return out

    def _chat(self, messages: list[Message], params: Params) -> list[Sample]:
        r = self._create(self.client.chat.completions.create, params, {"logprobs": True}, messages=messages)
        each = _per_choice_tokens(r.usage, len(r.choices))
        out = []
        for c in sorted(r.choices, key=lambda c: c.index):
            content = getattr(c.logprobs, "content", None) if c.logprobs else None
            out.append(Sample(c.message.content or "", each, c.finish_reason or "stop",
                              [float(t.logprob) for t in content] if content else None))
        return out


def _per_choice_tokens(usage, n: int) -> int:
    """The server reports completion tokens for all choices together; share them out."""
    total = getattr(usage, "completion_tokens", None) or 0
    return -(-total // max(n, 1))
