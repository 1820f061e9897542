"""The one interface every reasoning strategy talks to a model through.

    backend.complete("Q: 2+2?\\nA:", Params(n=3, temperature=0.7, stop=["\\n"], seed=1))
    backend.chat([{"role": "user", "content": "2+2?"}], Params())
    -> [Sample(text=..., tokens=..., logprobs=[...] or None), ...]      # n of them
    backend.score("value: 4 6 ->", [" sure", " impossible"])
    -> [log p(" sure" | prompt), log p(" impossible" | prompt)]        # where the backend can score

Three adapters implement it: `OpenAIBackend` (any OpenAI-compatible server,
through the official `openai` client), `LocalBackend` (an llmos model in this
process, from a run folder or an HF folder) and `ScriptedBackend` (canned
outputs, recording every call, for tests). A failing backend raises
`BackendError` naming the backend and the call.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, str]     # {"role": "user" | "assistant" | "system", "content": "..."}


class BackendError(RuntimeError):
    """A model call failed; the message names the backend and the call."""


@dataclass
class Params:
    """How to sample one call."""
    n: int = 1                              # samples for this prompt
    temperature: float = 0.0                # 0: greedy
    max_tokens: int = 128
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    logprobs: bool = False                  # ask for per-token logprobs where the backend has them

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {self.max_tokens}")


@dataclass
class Sample:
    """One continuation a backend returned."""
    text: str
    tokens: int = 0                         # completion tokens it cost
    finish_reason: str = "stop"
    logprobs: list[float] | None = None     # per generated token, when the backend gives them

    @property
    def mean_prob(self) -> float | None:
        """exp(mean token logprob): the geometric-mean probability of the tokens, a confidence in (0, 1]."""
        if not self.logprobs:
            return None
        return math.exp(sum(self.logprobs) / len(self.logprobs))


def describe(prompt: str | list[Message], width: int = 60) -> str:
    """A one-line excerpt of a prompt or message list, for error messages."""
    text = prompt if isinstance(prompt, str) else " | ".join(f"{m['role']}: {m['content']}" for m in prompt)
    text = " ".join(text.split())
    return repr(text if len(text) <= width else "..." + text[-width:])


class Backend(ABC):
    """Completion and chat over some model; adapters fill in `_complete` and `_chat`."""

    name: str = "backend"

    def complete(self, prompt: str, params: Params | None = None) -> list[Sample]:
        return self._call("completion", prompt, params or Params())

    def chat(self, messages: list[Message], params: Params | None = None) -> list[Sample]:
        if not messages or not all(isinstance(m, dict) and "role" in m and "content" in m for m in messages):
            raise ValueError("chat needs a non-empty list of {'role': ..., 'content': ...} messages")
        return self._call("chat", messages, params or Params())

    def score(self, prompt: str, continuations: list[str]) -> list[float]:
        """log p(continuation | prompt) for each continuation: the sum of its tokens' log-probabilities."""
        if not continuations or not all(isinstance(c, str) and c for c in continuations):
            raise ValueError("score needs a non-empty list of non-empty continuation strings")
        try:
            scores = self._score(prompt, list(continuations))
        except BackendError:
            raise
        except Exception as e:
            raise BackendError(f"backend {self.name}: the score call on prompt {describe(prompt)} failed: "
                               f"{type(e).__name__}: {e}") from e
        if len(scores) != len(continuations):
            raise BackendError(f"backend {self.name}: the score call returned {len(scores)} scores for "
                               f"{len(continuations)} continuations")
        return [float(x) for x in scores]

    def _score(self, prompt: str, continuations: list[str]) -> list[float]:
        raise BackendError(f"backend {self.name} cannot score continuations (it gives no prompt logprobs); "
                           "value by samples instead")

    def _call(self, kind: str, prompt: Any, params: Params) -> list[Sample]:
        try:
            samples = self._complete(prompt, params) if kind == "completion" else self._chat(prompt, params)
        except BackendError:
            raise
        except Exception as e:
            raise BackendError(f"backend {self.name}: the {kind} call on prompt {describe(prompt)} failed: "
                               f"{type(e).__name__}: {e}") from e
        if len(samples) != params.n:
            raise BackendError(f"backend {self.name}: the {kind} call on prompt {describe(prompt)} returned "
                               f"{len(samples)} samples, {params.n} were asked for")
        return samples

    @abstractmethod
    def _complete(self, prompt: str, params: Params) -> list[Sample]: ...

    @abstractmethod
    def _chat(self, messages: list[Message], params: Params) -> list[Sample]: ...
