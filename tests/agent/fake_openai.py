"""A stand-in OpenAI-compatible chat server for tests: a FastAPI app in a thread.

It answers `/v1/models` and `/v1/chat/completions` (non-streaming) by calling
`policy(messages) -> str`, so a test scripts the "model" from what the agent
actually sent over HTTP, exactly as a real model would see it.
"""
from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Callable

from fastapi import FastAPI

from llmos.background_server import serve_in_background


class FakeOpenAI:
    def __init__(self, policy: Callable[[list[dict]], str], model: str = "fake-model"):
        self.policy, self.model = policy, model
        self.requests: list[dict] = []
        app = FastAPI()

        @app.get("/v1/models")
        def models():
            return {"object": "list", "data": [{"id": model, "object": "model", "owned_by": "test"}]}

        @app.post("/v1/chat/completions")
        def chat(body: dict):
            self.requests.append(body)
            text = self.policy(body["messages"])
            return {"id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion",
                    "created": int(time.time()), "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": sum(len(m["content"].split()) for m in body["messages"]),
                              "completion_tokens": len(text.split()), "total_tokens": 0}}

        self.app, self.url, self._running = app, "", ExitStack()

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def __enter__(self) -> FakeOpenAI:
        # generous timeout: a loaded machine starts uvicorn slowly
        self.url = self._running.enter_context(serve_in_background(self.app, timeout=60, lifespan="off"))
        return self

    def __exit__(self, *exc) -> None:
        self._running.close()
