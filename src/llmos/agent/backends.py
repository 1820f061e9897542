"""Model backends: one interface, `complete(ModelRequest) -> ModelReply`.

`OpenAIBackend` talks to any OpenAI-compatible `/v1/chat/completions`
endpoint (`llmos serve`, a local vLLM or llama.cpp server, a hosted API).
It asks for the action's JSON schema through `response_format`, so a server
with constrained decoding (llmos serve, vLLM) can only answer with a valid
action; a server that refuses the field is asked again without it, and from
then on the agent relies on parsing its replies and asking again.
`ScriptedBackend` replays fixed outputs or calls a function, for tests and for
oracle policies: the function gets the typed `StepContext`
(`request.context.observation`, `.task`, `.history`) and may return an
`Action`, a dict, or raw text (which then goes through the same parser as a
model's reply).

A backend is where later layers plug in (an in-process llmos model, a memory
that adds retrieved facts to `request.messages`, a team's manager): anything
with this one method will do.
"""
from __future__ import annotations

import time
from typing import Callable, Iterable, Protocol, Union, runtime_checkable

import httpx

from llmos.agent.views import ACTION_ADAPTER, Action, ModelReply, ModelRequest, parse_action


def action_schema() -> dict:
    """The JSON schema of one action. Pydantic writes the tagged union as `oneOf` with a
    discriminator; the branches' `type` constants are disjoint, so `anyOf` means the same
    and is what grammar engines enforce. The tag `type` has a default in each branch, but the
    parser needs it written, so it is required."""
    def plain(node):
        if isinstance(node, dict):
            node = {("anyOf" if k == "oneOf" else k): plain(v) for k, v in node.items() if k != "discriminator"}
            if "const" in node.get("properties", {}).get("type", {}):
                node["required"] = ["type", *[r for r in node.get("required", []) if r != "type"]]
        elif isinstance(node, list):
            node = [plain(v) for v in node]
        return node
    return plain(ACTION_ADAPTER.json_schema())


class BackendError(RuntimeError):
    """The model could not be reached or gave no usable answer."""


@runtime_checkable
class ModelBackend(Protocol):
    name: str

    def complete(self, request: ModelRequest) -> ModelReply: ...


class OpenAIBackend:
    """Chat completions over HTTP with httpx; `base_url` ends in `/v1`."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None,
                 temperature: float = 0.0, max_tokens: int = 512, timeout_s: float = 120.0,
                 retries: int = 1, transport: httpx.BaseTransport | None = None,
                 structured: bool | None = None):
        """structured: send the action schema as response_format (None: try, and stop
        sending it if the server refuses it; False: never)."""
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL such as http://127.0.0.1:8000/v1, "
                             f"got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = f"openai:{model}"
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.retries = retries
        self.structured = structured          # None until the server has accepted or refused it
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout_s,
                                    transport=transport)

    def complete(self, request: ModelRequest) -> ModelReply:
        body = {"model": self.model, "temperature": self.temperature, "max_tokens": self.max_tokens,
                "messages": [m.model_dump() for m in request.messages]}
        if self.structured is not False:
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "action", "schema": action_schema(), "strict": True}}
        last = None
        for attempt in range(self.retries + 1):
            try:
                r = self._client.post("/chat/completions", json=body)
            except httpx.HTTPError as e:  # connection refused, timeout: worth one more try
                last = f"cannot reach {self.base_url}: {e}"
                time.sleep(0.2 * (attempt + 1))
                continue
            if r.status_code >= 500:
                last = f"{self.base_url} answered {r.status_code}: {r.text[:200]}"
                continue
            if r.status_code == 400 and "response_format" in body and self.structured is None:
                # this server cannot constrain its output: parse replies (and ask again) instead
                self.structured = False
                del body["response_format"]
                return self.complete(request)
            if r.status_code >= 400:
                raise BackendError(f"{self.base_url} refused the request ({r.status_code}): "
                                   f"{r.text[:300]}")
            try:
                data = r.json()
                text = data["choices"][0]["message"]["content"] or ""
            except (ValueError, KeyError, IndexError, TypeError):
                raise BackendError(f"{self.base_url} sent a reply that is not a chat completion: "
                                   f"{r.text[:300]}") from None
            if "response_format" in body:
                self.structured = True
            usage = data.get("usage") or {}
            return ModelReply(text=text, prompt_tokens=usage.get("prompt_tokens"),
                              completion_tokens=usage.get("completion_tokens"))
        raise BackendError(last or "no reply")

    def close(self) -> None:
        self._client.close()


ScriptOutput = Union[str, dict, Action]


class ScriptedBackend:
    """Replays `outputs` in order, or calls `outputs(request)` each step."""

    def __init__(self, outputs: Iterable[ScriptOutput] | Callable[[ModelRequest], ScriptOutput],
                 name: str = "scripted"):
        self.name = name
        self.calls: list[ModelRequest] = []
        if callable(outputs):
            self._fn = outputs
        else:
            queue = list(outputs)

            def replay(_request: ModelRequest) -> ScriptOutput:
                if not queue:
                    raise BackendError("the scripted backend has no outputs left")
                return queue.pop(0)
            self._fn = replay

    def complete(self, request: ModelRequest) -> ModelReply:
        self.calls.append(request)
        out = self._fn(request)
        if isinstance(out, str):
            return ModelReply(text=out)
        action = parse_action(out) if isinstance(out, dict) else out
        return ModelReply(text=action.model_dump_json(), action=action)
