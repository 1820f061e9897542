"""The HTTP API's data types: OpenAI's request and response bodies, validated.

Every request body is parsed into one of these Pydantic models before
anything else happens, so a wrong type, a missing field or an impossible
value (temperature 3, top_p 1.5, max_tokens -1, n 0, an empty message list,
a role that does not exist) is refused with a 400 that names the field,
never a crash. Types are strict: "0.5" is not a number, 1.0 is not an integer.

OpenAI parameters llmos cannot honour (log-probabilities, tools, JSON mode,
logit bias, ...) are accepted only at their "off" values and otherwise refused
by name, rather than silently ignored. Unknown fields are refused too.
Extensions shared with vLLM: `top_k`, `repetition_penalty`, `ignore_eos`.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Role = Literal["system", "developer", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length"]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


def _unsupported(value: Any, off: tuple, what: str) -> Any:
    if value not in off:
        raise ValueError(f"{what} is not supported by this server; leave it out")
    return value


# ---------------------------------------------------------------------- requests
class StreamOptions(_Strict):
    include_usage: bool = False


class SamplingRequest(_Strict):
    """What completions and chat completions share."""
    model: str = Field(min_length=1, description="The model's id, as GET /v1/models lists it.")
    max_tokens: int | None = Field(None, ge=1, description="Most new tokens (clipped to the context).")
    temperature: float = Field(1.0, ge=0, le=2, description="0 is greedy decoding.")
    top_p: float = Field(1.0, ge=0, le=1, description="Nucleus sampling mass; 0 keeps only the top token.")
    n: int = Field(1, ge=1, le=128, description="Choices per prompt.")
    stream: bool = False
    stream_options: StreamOptions | None = None
    stop: str | list[str] | None = Field(None, validate_default=True, description="Up to 4 strings that end the output (not included).")
    seed: int | None = Field(None, ge=-(2**63), le=2**64 - 1,
                             description="Same seed, same settings, same prompt: same output. Choice i uses seed + i.")
    frequency_penalty: float = Field(0.0, ge=-2, le=2)
    presence_penalty: float = Field(0.0, ge=-2, le=2)
    logit_bias: dict[str, float] | None = None
    user: str | None = None
    # extensions (as in vLLM)
    top_k: int | None = Field(None, ge=-1, description="Keep the k most likely tokens; -1 or 0: off.")
    repetition_penalty: float = Field(1.0, gt=0, le=10, description="CTRL's penalty; 1 is off.")
    ignore_eos: bool = Field(False, description="Keep going past the end-of-sequence token.")

    @field_validator("stop")
    @classmethod
    def _stop(cls, v: str | list[str] | None) -> list[str]:
        stops = [v] if isinstance(v, str) else list(v or [])
        if len(stops) > 4:
            raise ValueError(f"at most 4 stop sequences are allowed, got {len(stops)}")
        if any(s == "" for s in stops):
            raise ValueError("a stop sequence must not be empty")
        return stops

    @field_validator("logit_bias")
    @classmethod
    def _logit_bias(cls, v):
        return _unsupported(v, (None, {}), "logit_bias")

    @model_validator(mode="after")
    def _stream_options_need_stream(self):
        if self.stream_options is not None and not self.stream:
            raise ValueError("stream_options is only allowed when stream is true")
        return self


class CompletionRequest(SamplingRequest):
    """POST /v1/completions."""
    prompt: str | list[str] | list[int] | list[list[int]] = Field(
        description="Text, token ids, or a list of either (one set of choices per prompt).")
    echo: bool = False
    logprobs: int | None = None
    best_of: int | None = None
    suffix: str | None = None

    @field_validator("prompt")
    @classmethod
    def _prompt(cls, v):
        if isinstance(v, list):
            if not v:
                raise ValueError("the prompt list is empty; give at least one prompt")
            if isinstance(v[0], list) and any(len(p) == 0 for p in v):
                raise ValueError("a token-id prompt is empty; give at least one token")
        return v

    @field_validator("echo")
    @classmethod
    def _echo(cls, v):
        return _unsupported(v, (False,), "echo")

    @field_validator("logprobs")
    @classmethod
    def _logprobs(cls, v):
        return _unsupported(v, (None, 0), "logprobs")

    @field_validator("suffix")
    @classmethod
    def _suffix(cls, v):
        return _unsupported(v, (None, ""), "suffix")

    @model_validator(mode="after")
    def _best_of(self):
        if self.best_of is not None and self.best_of != self.n:
            raise ValueError("best_of is not supported by this server; leave it out (or set it equal to n)")
        return self

    def prompts(self) -> list[str] | list[list[int]]:
        """The prompt as a list of prompts (text, or token ids)."""
        p = self.prompt
        if isinstance(p, str):
            return [p]
        return [p] if isinstance(p[0], int) else p


class ChatMessage(_Strict):
    role: Role
    content: str | None = Field(None, description="Text, or a list of {'type': 'text', 'text': ...} parts.")
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None

    @field_validator("content", mode="before")
    @classmethod
    def _content(cls, v):
        if not isinstance(v, list):
            return v
        texts = []
        for i, part in enumerate(v):
            if not isinstance(part, dict) or "type" not in part:
                raise ValueError(f"content part {i} must be an object with a 'type'")
            if part["type"] != "text":
                raise ValueError(f"content part {i} has type {part['type']!r}; this model reads text only")
            if not isinstance(part.get("text"), str):
                raise ValueError(f"content part {i} needs a string 'text'")
            texts.append(part["text"])
        return "".join(texts)

    @model_validator(mode="after")
    def _has_content(self):
        if self.content is None and not (self.role == "assistant" and self.tool_calls):
            raise ValueError(f"a {self.role} message needs 'content'")
        return self


class ChatCompletionRequest(SamplingRequest):
    """POST /v1/chat/completions."""
    messages: list[ChatMessage] = Field(min_length=1, description="The conversation so far, oldest first.")
    max_completion_tokens: int | None = Field(None, ge=1, description="Newer name for max_tokens.")
    logprobs: bool | None = None
    top_logprobs: int | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: dict[str, Any] | None = None

    @field_validator("logprobs")
    @classmethod
    def _logprobs(cls, v):
        return _unsupported(v, (None, False), "logprobs")

    @field_validator("top_logprobs")
    @classmethod
    def _top_logprobs(cls, v):
        return _unsupported(v, (None, 0), "top_logprobs")

    @field_validator("tools")
    @classmethod
    def _tools(cls, v):
        return _unsupported(v, (None, []), "tools (function calling)")

    @field_validator("tool_choice")
    @classmethod
    def _tool_choice(cls, v):
        return _unsupported(v, (None, "none", "auto"), "tool_choice")

    @field_validator("response_format")
    @classmethod
    def _response_format(cls, v):
        if v is not None and v.get("type") != "text":
            raise ValueError("response_format other than {'type': 'text'} (JSON mode) is not supported")
        return v

    def new_tokens(self) -> int | None:
        return self.max_completion_tokens if self.max_completion_tokens is not None else self.max_tokens


# ---------------------------------------------------------------------- responses
class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class CompletionChoice(BaseModel):
    index: int
    text: str
    logprobs: None = None
    finish_reason: FinishReason | None


class CompletionResponse(BaseModel):
    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int
    message: AssistantMessage
    logprobs: None = None
    finish_reason: FinishReason | None


class ChatCompletionResponse(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "llmos"
    max_model_len: int


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    model: str
    active: int      # requests holding a KV-cache slot
    pending: int     # requests waiting for one
    slots: int
