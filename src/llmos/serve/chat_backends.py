"""Who answers in `llmos chat`: a local model, an OpenAI-compatible server, or ELIZA.

Each backend takes the whole conversation (OpenAI-style messages, oldest
first) and yields the reply piece by piece as it is written:

    LocalChat(ServedModel.load("runs/tiny"))         llmos's engine in this process
    RemoteChat("http://127.0.0.1:8000/v1", api_key)  any OpenAI-compatible API (llmos serve too)
    ElizaChat()                                      Weizenbaum's 1966 program, no model at all
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from llmos.serve.errors import APIError
from llmos.serve.schemas import ChatMessage

Message = dict[str, str]


class ChatBackend(Protocol):
    name: str

    def greeting(self) -> str | None: ...

    def reset(self) -> None: ...

    def reply(self, messages: list[Message]) -> Iterator[str]: ...


class LocalChat:
    """A model in this process, through the same engine and chat template as `llmos serve`."""

    def __init__(self, served, max_tokens: int = 256, temperature: float = 0.7, seed: int | None = None):
        from llmos.serve.schemas import ChatCompletionRequest
        self.served, self.name = served.start(), served.name
        self._request = lambda messages: ChatCompletionRequest(
            model=served.name, messages=[ChatMessage(**m) for m in messages], max_tokens=max_tokens,
            temperature=temperature, seed=seed)

    def greeting(self) -> str | None:
        return None

    def reset(self) -> None:
        pass

    def reply(self, messages: list[Message]) -> Iterator[str]:
        # the oldest turns go first when the conversation outgrows the context (a system message stays)
        messages = list(messages)
        while True:
            request = self._request(messages)
            try:
                prompt = self.served.chat_prompt(request.messages)
                break
            except APIError as e:
                turns = [i for i, m in enumerate(messages) if m["role"] != "system"]
                if e.code != "context_length_exceeded" or len(turns) <= 1:
                    raise
                del messages[turns[0]]
        handle = self.served.engine.submit(prompt, self.served.generation_config(request, len(prompt)))
        try:
            for delta in handle:
                if delta.finish_reason == "error":
                    raise RuntimeError(f"generation failed: {delta.error}")
                if delta.text:
                    yield delta.text
        finally:
            handle.cancel()

    def close(self) -> None:
        self.served.stop()


class RemoteChat:
    """Any OpenAI-compatible chat completions endpoint, through the official `openai` client."""

    def __init__(self, url: str, api_key: str | None = None, model: str | None = None,
                 max_tokens: int = 256, temperature: float = 0.7, seed: int | None = None):
        from openai import OpenAI
        self.client = OpenAI(base_url=url, api_key=api_key or "none")
        self.model = model or self.client.models.list().data[0].id
        self.name = self.model
        self.settings = dict(max_tokens=max_tokens, temperature=temperature, seed=seed)

    def greeting(self) -> str | None:
        return None

    def reset(self) -> None:
        pass

    def reply(self, messages: list[Message]) -> Iterator[str]:
        stream = self.client.chat.completions.create(model=self.model, messages=messages, stream=True,
                                                     **{k: v for k, v in self.settings.items() if v is not None})
        for chunk in stream:
            for choice in chunk.choices:
                if choice.delta.content:
                    yield choice.delta.content

    def close(self) -> None:
        self.client.close()


class ElizaChat:
    """ELIZA answers the last thing said; it keeps its own memory of the conversation."""

    name = "eliza"

    def __init__(self, script=None):
        from llmos.classic.eliza import Eliza
        self.bot = Eliza.from_script(script)

    def greeting(self) -> str | None:
        return self.bot.greeting()

    def reset(self) -> None:
        self.bot.reset()

    def reply(self, messages: list[Message]) -> Iterator[str]:
        yield self.bot.respond(messages[-1]["content"])

    def close(self) -> None:
        pass
