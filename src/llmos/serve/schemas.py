"""The HTTP API's data types: OpenAI's request and response bodies, validated.

Every request body is parsed into one of these Pydantic models before
anything else happens, so a wrong type, a missing field or an impossible
value (temperature 3, top_p 1.5, max_tokens -1, n 0, an empty message list,
a role that does not exist) is refused with a 400 that names the field,
never a crash. Types are strict: "0.5" is not a number, 2.5 is not an integer (2.0 is, as
in JSON Schema).

Structured outputs (`response_format`: JSON mode and JSON schema), tools
(`tools`, `tool_choice`, `parallel_tool_calls`), log-probabilities (`logprobs`,
`top_logprobs`, `echo`) and `logit_bias` are described here; checks that need
the model (a schema the grammar engine refuses, a token id past the vocabulary)
happen in served_model.py. OpenAI parameters llmos cannot honour (`suffix`,
`best_of` other than n) are accepted only at their "off" values and otherwise refused
by name, rather than silently ignored; they are left out of the published
OpenAPI schema, which describes only what the server does. Unknown fields are
refused too.
Extensions shared with vLLM: `top_k`, `repetition_penalty`, `ignore_eos`, and
`response_format` on /v1/completions.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

Role = Literal["system", "developer", "user", "assistant", "tool"]
# no_valid_token: the response format's grammar left no token the model could take
FinishReason = Literal["stop", "length", "tool_calls", "no_valid_token"]
def _integral(v: Any) -> Any:
    """JSON Schema counts 2.0 as an integer; so does this API (but not "2", nor 2.5)."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


Int = Annotated[int, BeforeValidator(_integral)]
TokenId = Annotated[Int, Field(ge=0)]
StopString = Annotated[str, Field(min_length=1)]
Unsupported = SkipJsonSchema   # accepted at its "off" value only; not part of the published schema


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class _FieldError(ValueError):
    """A check across fields, naming the field at fault (the error handler reports it as the param)."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param


def _unsupported(value: Any, off: tuple, what: str) -> Any:
    if value not in off:
        raise ValueError(f"{what} is not supported by this server; leave it out")
    return value


# ---------------------------------------------------------------------- requests
class StreamOptions(_Strict):
    include_usage: bool = False


class JSONSchemaSpec(_Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    description: str | None = None
    schema_: dict[str, Any] | bool | None = Field(None, alias="schema", description="A JSON Schema.")
    strict: bool | None = Field(None, description="Always enforced by constrained decoding here.")


class TextFormat(_Strict):
    type: Literal["text"]


class JSONObjectFormat(_Strict):
    type: Literal["json_object"]


class JSONSchemaFormat(_Strict):
    type: Literal["json_schema"]
    json_schema: JSONSchemaSpec


ResponseFormat = Annotated[TextFormat | JSONObjectFormat | JSONSchemaFormat, Field(discriminator="type")]
LogitBias = Annotated[dict[Annotated[str, Field(pattern=r"^[0-9]{1,9}$")], Annotated[float, Field(ge=-100, le=100)]],
                      Field(max_length=1024)]


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
    logit_bias: LogitBias | None = Field(None, description="Token id (as a string) -> bias in [-100, 100], "
                                                              "added to its logit before sampling.")
    response_format: ResponseFormat | None = Field(
        None, description="json_object: any JSON object; json_schema: JSON valid under the schema "
                          "(enforced by constrained decoding).")
    user: str | None = None
    # extensions (as in vLLM)
    top_k: Int | None = Field(None, ge=-1, description="Keep the k most likely tokens; -1 or 0: off.")
    repetition_penalty: float = Field(1.0, gt=0, le=10, description="CTRL's penalty; 1 is off.")
    ignore_eos: bool = Field(False, description="Keep going past the end-of-sequence token.")

    @field_validator("stop")
    @classmethod
    def _stop(cls, v: str | list[str] | None) -> list[str]:
        return [v] if isinstance(v, str) else list(v or [])

    def token_bias(self) -> dict[int, float] | None:
        return {int(k): v for k, v in self.logit_bias.items()} if self.logit_bias else None


class CompletionRequest(SamplingRequest):
    """POST /v1/completions."""
    prompt: (str | Annotated[list[str], Field(min_length=1)] | Annotated[list[TokenId], Field(min_length=1)]
             | Annotated[list[Annotated[list[TokenId], Field(min_length=1)]], Field(min_length=1)]) = Field(
        description="Text, token ids, or a list of either (one set of choices per prompt).")
    echo: bool = Field(False, description="Put the prompt before the completion (with logprobs: "
                                          "the prompt's log-probabilities too).")
    logprobs: Int | None = Field(None, ge=0, le=5, description="Log-probabilities of each token and "
                                                               "of this many most likely alternatives.")
    best_of: Unsupported[int | None] = None
    suffix: Unsupported[str | None] = None

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


ToolName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class FunctionCall(_Strict):
    name: ToolName
    arguments: str = Field(description="The arguments as a JSON object, in a string.")


class ToolCall(_Strict):
    id: str = Field(min_length=1)
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(_Strict):
    role: Role
    content: str | list[TextPart] | None = Field(
        None, description="Text, or a list of {'type': 'text', 'text': ...} parts (may be left out "
                          "by an assistant message that has tool_calls).")
    name: str | None = None
    tool_calls: list[ToolCall] | None = Field(None, description="An assistant's calls (role assistant only).")
    tool_call_id: str | None = Field(None, description="The call this message answers (role tool).")
    refusal: Unsupported[str | None] = None      # echoed back by clients that resend a reply as is

    @model_validator(mode="after")
    def _shape(self):
        if self.tool_calls and self.role != "assistant":
            raise _FieldError("tool_calls", f"tool_calls belong to assistant messages, not {self.role!r} ones")
        if self.content is None and not (self.role == "assistant" and self.tool_calls):
            raise _FieldError("content", "content is required (only an assistant message with tool_calls "
                                         "may leave it out)")
        if self.role == "tool" and not self.tool_call_id:
            raise _FieldError("tool_call_id", "a tool message needs tool_call_id: the id of the call it answers")
        return self

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
        if self.content is None:
            return ""
        return self.content if isinstance(self.content, str) else "".join(p.text for p in self.content)


class FunctionDef(_Strict):
    name: ToolName
    description: str | None = None
    parameters: dict[str, Any] | None = Field(None, description="A JSON Schema for the arguments object.")
    strict: bool | None = None


class Tool(_Strict):
    type: Literal["function"]
    function: FunctionDef


class NamedFunction(_Strict):
    name: ToolName


class NamedToolChoice(_Strict):
    type: Literal["function"]
    function: NamedFunction


class ChatCompletionRequest(SamplingRequest):
    """POST /v1/chat/completions."""
    messages: list[ChatMessage] = Field(min_length=1, description="The conversation so far, oldest first.")
    max_completion_tokens: Int | None = Field(None, ge=1, description="Newer name for max_tokens.")
    logprobs: bool | None = Field(None, description="Return each output token's log-probability.")
    top_logprobs: Int | None = Field(None, ge=0, le=20, description="Alternatives per token (needs logprobs).")
    tools: Annotated[list[Tool], Field(max_length=128)] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = Field(
        None, description="none: no calls; auto (default with tools): the model decides; required: at least "
                          "one call; a named function: that call. Required and named calls are decoded "
                          "under the function's parameters schema.")
    parallel_tool_calls: bool | None = Field(None, description="Allow several calls in one reply (default true).")

    @model_validator(mode="after")
    def _consistent(self):
        if self.top_logprobs is not None and not self.logprobs:
            raise _FieldError("top_logprobs", "top_logprobs needs logprobs: true")
        names = [t.function.name for t in self.tools or []]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup is not None:
            raise _FieldError("tools", f"tools: the function name {dup!r} appears more than once; "
                                       "tool names must be unique")
        choice = self.tool_choice
        if isinstance(choice, NamedToolChoice) and choice.function.name not in names:
            raise _FieldError("tool_choice", f"tool_choice names the function {choice.function.name!r}, "
                                             f"which is not among tools ({', '.join(names) or 'none given'})")
        if choice == "required" and not names:
            raise _FieldError("tool_choice", "tool_choice 'required' needs at least one tool in tools")
        calling = bool(names) and choice != "none"
        if calling and self.response_format is not None and self.response_format.type != "text":
            raise _FieldError("response_format", "response_format (JSON) together with tools is not supported; "
                                                 "send one or the other (or tool_choice 'none')")
        return self

    @property
    def calling(self) -> Literal["none", "auto", "required", "named"]:
        """How this request may call tools."""
        if not self.tools or self.tool_choice == "none":
            return "none"
        if isinstance(self.tool_choice, NamedToolChoice):
            return "named"
        return self.tool_choice or "auto"

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


class PromptTokensDetails(BaseModel):
    cached_tokens: int = 0           # prompt tokens whose keys and values came from the prefix cache


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptTokensDetails | None = None


class CompletionLogprobs(BaseModel):
    """Per token of the text: its string, logprob (null for the first prompt token), alternatives."""
    tokens: list[str]
    token_logprobs: list[float | None]
    top_logprobs: list[dict[str, float] | None]
    text_offset: list[int]


class CompletionChoice(BaseModel):
    index: int
    text: str
    logprobs: CompletionLogprobs | None = None
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
    content: str | None
    tool_calls: list[ToolCall] | None = None


class TopLogprob(BaseModel):
    token: str
    logprob: float
    bytes: list[int] | None


class TokenLogprobOut(TopLogprob):
    top_logprobs: list[TopLogprob]


class ChatLogprobs(BaseModel):
    content: list[TokenLogprobOut] | None


class ChatChoice(BaseModel):
    index: int
    message: AssistantMessage
    logprobs: ChatLogprobs | None = None
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
