"""A model being served: its engine, its tokenizer, and turning API requests into prompts.

Everything the HTTP routes and `llmos chat` need from a model, in one place:
text or chat messages to prompt token ids (through the tokenizer's own chat
template, or llmos's plain default), the checks that a prompt fits the
context, and the mapping from OpenAI's sampling parameters to llmos's
`GenerationConfig`.

With llmos's default chat template (`User: ...` / `Assistant:` lines) a
model writes on into the next turn unless told to stop, so chats under it
stop at a new `User:`, `System:` or `Tool:` line (unless a grammar shapes the
reply: it ends the reply itself).

`response_format` and forced tool calls become a grammar (llmos.infer.grammar)
compiled for this model's tokenizer; a schema the grammar engine cannot use
is refused with a 400 naming the schema's failing part or the feature.
"""
from __future__ import annotations

import time
from pathlib import Path

import torch

from llmos.infer.engine import Engine, EngineConfig
from llmos.infer.sampling import GenerationConfig
from llmos.serve.errors import APIError
from llmos.serve.schemas import ChatCompletionRequest, ChatMessage, SamplingRequest, Tool
from llmos.serve.tool_calls import forced_schema, template_message
from llmos.text.chat_template import ChatTemplateError

DEFAULT_TEMPLATE_STOPS = ["\nUser:", "\nSystem:", "\nTool:"]


def _compile(make, param: str):
    """make() or, for a GrammarError, an APIError 400 naming `param` and the part of the schema at fault."""
    from llmos.infer.grammar import GrammarError
    try:
        return make()
    except GrammarError as e:
        at = f"{param}.{e.where}" if e.where else param
        raise APIError(400, f"{param}: {e}", param=at,
                       code="unsupported_schema" if e.kind == "unsupported" else "invalid_schema") from None


class ServedModel:
    def __init__(self, model, tokenizer, name: str, engine_config: EngineConfig | None = None,
                 stop_token_ids: set[int] | None = None, draft=None, speculate_k: int = 4):
        if tokenizer is None:
            raise ValueError("the server needs the model's tokenizer to read and write text; "
                             "save one beside the model (tokenizer.json)")
        stops = set(stop_token_ids or ())
        for eos in (model.config.eos_token_id, tokenizer.eos_id):
            if eos is not None:
                stops.add(eos)
        self.name = name
        self.tokenizer = tokenizer
        self.engine = Engine(model, tokenizer, engine_config, stop_token_ids=stops, draft=draft,
                             speculate_k=speculate_k)
        self.context = min(model.config.max_seq_len, self.engine.cache.max_len)
        self.created = int(time.time())
        self.chat_stops = [] if tokenizer.chat_template else DEFAULT_TEMPLATE_STOPS

    @classmethod
    def load(cls, path: str | Path, name: str | None = None, engine_config: EngineConfig | None = None,
             device: str = "cpu", dtype: torch.dtype = torch.float32) -> "ServedModel":
        """A run folder or an HF-format folder (config.json + safetensors + tokenizer.json)."""
        from llmos.hub import generation_eos_ids, load_pretrained, resolve_model_dir
        folder = resolve_model_dir(path)
        model, tokenizer = load_pretrained(folder, dtype=dtype, device=device)
        if tokenizer is None:
            raise ValueError(f"{folder} has no tokenizer.json; the server needs the model's tokenizer")
        if name is None:
            name = Path(path).resolve().name
        return cls(model, tokenizer, name, engine_config, generation_eos_ids(folder))

    def start(self) -> "ServedModel":
        self.engine.start()
        return self

    def stop(self) -> None:
        self.engine.stop()

    # ------------------------------------------------------------------ prompts
    def check_model(self, model: str) -> None:
        if model != self.name:
            raise APIError(404, f"the model {model!r} does not exist; this server serves {self.name!r} "
                                "(see GET /v1/models)", param="model", code="model_not_found")

    def completion_prompt(self, prompt: str | list[int], param: str = "prompt") -> list[int]:
        if isinstance(prompt, str):
            ids = self.tokenizer.encode(prompt)
            if not ids:   # start from the beginning-of-text token (GPT-2 uses its end-of-text token)
                start = self.tokenizer.bos_id if self.tokenizer.bos_id is not None else self.tokenizer.eos_id
                if start is None:
                    raise APIError(400, "the prompt is empty and the tokenizer has no beginning-of-text "
                                        "token to start from; give some text", param=param)
                ids = [start]
        else:
            vocab = self.engine.model.config.vocab_size
            bad = [t for t in prompt if not 0 <= t < vocab]
            if bad:
                raise APIError(400, f"token id {bad[0]} is outside the model's vocabulary of {vocab}",
                               param=param)
            ids = list(prompt)
        return self._fits(ids, param)

    def chat_prompt(self, messages: list[ChatMessage], tools: list[Tool] | None = None) -> list[int]:
        """The conversation (and the tools the model may call) through the chat template."""
        dicts = [template_message(m) for m in messages]
        extra = {"tools": [t.model_dump(exclude_none=True) for t in tools]} if tools else {}
        try:
            ids = self.tokenizer.apply_chat_template(dicts, add_generation_prompt=True, tokenize=True, **extra)
        except ChatTemplateError as e:
            raise APIError(400, f"messages: {e}", param="messages") from None
        if not ids:
            raise APIError(400, "messages: the conversation renders to an empty prompt", param="messages")
        return self._fits(ids, "messages")

    def _fits(self, ids: list[int], param: str) -> list[int]:
        if len(ids) >= self.context:
            raise APIError(400, f"this model's maximum context length is {self.context} tokens, and the "
                                f"{param} has {len(ids)}; shorten it (at least one token must remain for "
                                "the answer)", param=param, code="context_length_exceeded")
        return ids

    # ------------------------------------------------------------------ constraints
    def grammar(self, req: SamplingRequest):
        """The CompiledGrammar a reply must follow (response_format, or a forced tool call), or None.
        Raises APIError 400 naming the schema's failing part, or the unsupported feature."""
        from llmos.infer.grammar import Grammar, compile_grammar
        fmt = req.response_format
        schema, param = None, "response_format"
        if isinstance(req, ChatCompletionRequest) and (forced := forced_schema(req)) is not None:
            schema, param = forced, "tools"
        elif fmt is not None and fmt.type == "json_schema":
            schema, param = fmt.json_schema.schema_, "response_format.json_schema.schema"
            if schema is None:
                schema = {}
        elif fmt is None or fmt.type == "text":
            return None
        if param == "tools":   # each tool's own schema first, so an error names the tool
            for i, tool in enumerate(req.tools):
                if tool.function.parameters is not None:
                    _compile(lambda: Grammar.json_schema(tool.function.parameters), f"tools[{i}].function.parameters")
        vocab = self.engine.model.config.vocab_size
        grammar = _compile(lambda: Grammar.json_object() if schema is None else Grammar.json_schema(schema), param)
        return _compile(lambda: compile_grammar(grammar, self.tokenizer, vocab), param)

    def logit_bias(self, req: SamplingRequest) -> dict[int, float] | None:
        bias = req.token_bias()
        vocab = self.engine.model.config.vocab_size
        bad = [t for t in bias or {} if t >= vocab]
        if bad:
            raise APIError(400, f"logit_bias: token id {bad[0]} is outside the model's vocabulary of {vocab}",
                           param="logit_bias")
        return bias

    # ------------------------------------------------------------------ sampling
    def generation_config(self, req: SamplingRequest, prompt_len: int, index: int = 0,
                          constrained: bool = False) -> GenerationConfig:
        """The request's settings for choice `index` (its seed is seed + index); a constrained
        reply takes no template stop strings (the grammar ends it)."""
        chat = isinstance(req, ChatCompletionRequest)
        wanted = req.new_tokens() if chat else req.max_tokens
        if wanted is None:   # OpenAI's defaults: 16 for completions, the rest of the context for chat
            wanted = self.context - prompt_len if chat else 16
        greedy = req.temperature == 0 or req.top_p == 0
        return GenerationConfig(
            max_new_tokens=wanted,
            temperature=0.0 if greedy else req.temperature,
            top_k=req.top_k if req.top_k and req.top_k > 0 else None,
            top_p=req.top_p if 0 < req.top_p < 1 else None,
            repetition_penalty=req.repetition_penalty,
            stop=list(req.stop) + (self.chat_stops if chat and not constrained else []),
            stop_token_ids=[] if req.ignore_eos else None,
            seed=None if req.seed is None else (req.seed + index) % 2**64)
