"""A stand-in OpenAI-compatible chat server for tests: a FastAPI app in a thread.

It answers `/v1/models` and `/v1/chat/completions` (non-streaming) by calling
`policy(messages) -> str`, so a test scripts the "model" from what the agent
actually sent over HTTP, exactly as a real model would see it.
"""
from __future__ import annotations

import socket
import threading
import time
from typing import Callable

import uvicorn
from fastapi import FastAPI


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

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        deadline = time.monotonic() + 60      # generous: a loaded machine starts uvicorn slowly
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake OpenAI server did not start; see the log above")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(5)
        self.sock.close()
