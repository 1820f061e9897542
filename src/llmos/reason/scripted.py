"""A backend that plays back a script and records every call: for tests of strategies.

    backend = ScriptedBackend(["first reply", ["a", "b"], RuntimeError("down")])
    backend.complete("...", Params())        # -> [Sample("first reply")]
    backend.complete("...", Params(n=2))     # -> [Sample("a"), Sample("b")]
    backend.complete("...")                  # raises BackendError naming the backend and the call
    backend.calls                            # [ScriptedCall(kind, prompt, params), ...] in order

A script entry is a string (that text for every sample), a list of strings
(one per sample), an exception (raised), or a function of (prompt, params)
returning one of those. `ScriptedBackend(fn)` answers every call with `fn`.
Token counts are whitespace-separated words, so budgets can be tested exactly.
`ScriptedBackend(script, scores=fn)` also scores continuations: `fn(prompt,
continuation)` gives log p; score calls are recorded with kind "score".
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Union

from llmos.reason.backend import Backend, BackendError, Message, Params, Sample

Reply = Union[str, Sequence[str], BaseException, Callable[[Any, Params], Any]]


@dataclass
class ScriptedCall:
    kind: str                      # "completion" or "chat"
    prompt: Any                    # the prompt text, or the message list
    params: Params

    @property
    def text(self) -> str:
        """The prompt as text (a chat's messages joined)."""
        return self.prompt if isinstance(self.prompt, str) else "\n".join(m["content"] for m in self.prompt)


class ScriptedBackend(Backend):
    def __init__(self, script: Sequence[Reply] | Callable[[Any, Params], Any], name: str = "scripted",
                 logprob: float | None = None, scores: Callable[[str, str], float] | None = None) -> None:
        self.script = script if callable(script) else list(script)
        self.calls: list[ScriptedCall] = []
        self.name = name
        self.logprob = logprob       # per-token logprob to report when asked (None: no logprobs)
        self.scores = scores         # (prompt, continuation) -> log p, for score calls (None: cannot score)

    @property
    def prompts(self) -> list[str]:
        return [c.text for c in self.calls]

    def _next(self, prompt: Any, params: Params) -> list[str]:
        if callable(self.script):
            reply = self.script
        else:
            index = len(self.calls) - 1
            if index >= len(self.script):
                raise BackendError(f"backend {self.name}: the script has {len(self.script)} replies but call "
                                   f"{index + 1} was made")
            reply = self.script[index]
        if callable(reply) and not isinstance(reply, BaseException):
            reply = reply(prompt, params)
        if isinstance(reply, BaseException):
            raise reply
        texts = [reply] * params.n if isinstance(reply, str) else list(reply)
        if len(texts) != params.n:
            raise BackendError(f"backend {self.name}: call {len(self.calls)} asked for {params.n} samples "
                               f"but the script gives {len(texts)}")
        return texts

    def _samples(self, kind: str, prompt: Any, params: Params) -> list[Sample]:
        self.calls.append(ScriptedCall(kind, prompt, params))
        out = []
        for text in self._next(prompt, params):
            cut = min((text.find(s) for s in params.stop if s and s in text), default=-1)
            text = text[:cut] if cut >= 0 else text
            words = max(len(text.split()), 1)
            lp = [self.logprob] * words if params.logprobs and self.logprob is not None else None
            out.append(Sample(text, words, "stop", lp))
        return out

    def _complete(self, prompt: str, params: Params) -> list[Sample]:
        return self._samples("completion", prompt, params)

    def _score(self, prompt: str, continuations: list[str]) -> list[float]:
        if self.scores is None:
            return super()._score(prompt, continuations)
        self.calls.append(ScriptedCall("score", prompt, Params()))
        return [self.scores(prompt, c) for c in continuations]

    def _chat(self, messages: list[Message], params: Params) -> list[Sample]:
        return self._samples("chat", messages, params)
