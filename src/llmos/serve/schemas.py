"""The HTTP API's data types: OpenAI's request and response bodies, validated.

Every request body is parsed into one of these Pydantic models before
anything else happens, so a wrong type, a missing field or an impossible
value (temperature 3, top_p 1.5, max_tokens -1, n 0, an empty message list,
a role that does not exist) is refused with a 400 that names the field,
never a crash. Types are strict: "0.5" is not a number, 2.5 is not an integer (2.0 is, as
in JSON Schema).

OpenAI parameters llmos cannot honour (log-probabilities, tools, JSON mode,
logit bias, ...) are accepted only at their "off" values and otherwise refused
by name, rather than silently ignored; they are left out of the published
OpenAPI schema, which describes only what the server does. Unknown fields are
refused too.
Extensions shared with vLLM: `top_k`, `repetition_penalty`, `ignore_eos`.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

Role = Literal["system", "developer", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length"]
def _integral(v: Any) -> Any:
    """JSON Schema counts 2.0 as an integer; so does this API (but not "2", nor 2.5)."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


Int = Annotated[int, BeforeValidator(_integral)]
TokenId = Annotated[Int, Field(ge=0)]
StopString = Annotated[str, Field(min_length=1)]
Unsupported = SkipJsonSchema   # accepted at its "off" value only; not part of the published schema


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
    max_tokens: Int | None = Field(None, ge=1, description="Most new tokens (clipped to the context).")
    temperature: float = Field(1.0, ge=0, le=2, description="0 is greedy decoding.")
    top_p: float = Field(1.0, ge=0, le=1, description="Nucleus sampling mass; 0 keeps only the top token.")
    n: Int = Field(1, ge=1, le=128, description="Choices per prompt.")
    stream: bool = False
    stream_options: StreamOptions | None = None
    stop: StopString | Annotated[list[StopString], Field(max_length=4)] | None = Field(
        None, validate_default=True, description="Up to 4 strings that end the output (not included).")
    seed: Int | None = Field(None, description="Same seed, same settings, same prompt: same output. "
                                               "Choice i uses seed + i (modulo 2^64).")
    frequency_penalty: float = Field(0.0, ge=-2, le=2)
    presence_penalty: float = Field(0.0, ge=-2, le=2)
    logit_bias: Unsupported[dict[str, float] | None] = None
    user: str | None = None
    # extensions (as in vLLM)
    top_k: Int | None = Field(None, ge=-1, description="Keep the k most likely tokens; -1 or 0: off.")
    repetition_penalty: float = Field(1.0, gt=0, le=10, description="CTRL's penalty; 1 is off.")
    ignore_eos: bool = Field(False, description="Keep going past the end-of-sequence token.")

    @field_validator("stop")
    @classmethod
    def _stop(cls, v: str | list[str] | None) -> list[str]:
        return [v] if isinstance(v, str) else list(v or [])

    @field_validator("logit_bias")
    @classmethod
    def _logit_bias(cls, v):
        return _unsupported(v, (None, {}), "logit_bias")


class CompletionRequest(SamplingRequest):
    """POST /v1/completions."""
    prompt: (str | Annotated[list[str], Field(min_length=1)] | Annotated[list[TokenId], Field(min_length=1)]
             | Annotated[list[Annotated[list[TokenId], Field(min_length=1)]], Field(min_length=1)]) = Field(
        description="Text, token ids, or a list of either (one set of choices per prompt).")
    echo: Unsupported[bool] = False
    logprobs: Unsupported[int | None] = None
    best_of: Unsupported[int | None] = None
    suffix: Unsupported[str | None] = None

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


class TextPart(_Strict):
    type: Literal["text"]
    text: str


class ChatMessage(_Strict):
    role: Role
    content: str | list[TextPart] = Field(description="Text, or a list of {'type': 'text', 'text': ...} parts.")
    name: str | None = None
    tool_call_id: str | None = None

    @field_validator("content", mode="before")
    @classmethod
    def _content(cls, v):
        if not isinstance(v, list):
            return v
        for i, part in enumerate(v):
            if isinstance(part, dict) and part.get("type") not in (None, "text"):
                raise ValueError(f"content part {i} has type {part['type']!r}; this model reads text only")
        return v

    @property
    def text(self) -> str:
        """The content as one string (text parts joined)."""
        return self.content if isinstance(self.content, str) else "".join(p.text for p in self.content)


class ChatCompletionRequest(SamplingRequest):
    """POST /v1/chat/completions."""
    messages: list[ChatMessage] = Field(min_length=1, description="The conversation so far, oldest first.")
    max_completion_tokens: Int | None = Field(None, ge=1, description="Newer name for max_tokens.")
    logprobs: Unsupported[bool | None] = None
    top_logprobs: Unsupported[int | None] = None
    tools: Unsupported[list[dict[str, Any]] | None] = None
    tool_choice: Unsupported[str | dict[str, Any] | None] = None
    parallel_tool_calls: Unsupported[bool | None] = None
    response_format: Unsupported[dict[str, Any] | None] = None

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
