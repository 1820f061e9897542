"""The OpenAI-compatible HTTP API over the batched engine.

    GET  /health                 liveness and the engine's load (no key needed)
    GET  /v1/models              the served model
    POST /v1/completions         text in, text out (stream=true: server-sent events)
    POST /v1/chat/completions    messages in, the assistant's reply out

Each request is validated (schemas.py), turned into prompt token ids
(served_model.py), and submitted to the engine as one engine request per
choice, with its grammar (response_format, or a forced tool call), logit bias
and logprob settings; the engine's background thread decodes every request
in flight together. Replies are then read for tool calls (tool_calls.py). A handler only waits for its requests' deltas, so the event loop
stays free to accept other requests meanwhile.

    app = create_app(ServedModel.load("runs/tiny"), api_key="sk-local")
    uvicorn.run(app, host="127.0.0.1", port=8000)
"""
from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from llmos.infer.engine import EngineBusy
from llmos.infer.request import RequestHandle, Result
from llmos.serve.auth import APIKeyMiddleware
from llmos.serve.errors import APIError, install_error_handlers
from llmos.serve.logprobs import chat_logprobs, completion_logprobs
from llmos.serve.schemas import (AssistantMessage, ChatChoice, ChatCompletionRequest, ChatCompletionResponse,
                                 CompletionChoice, CompletionRequest, CompletionResponse, ErrorResponse, Health,
                                 ModelCard, ModelList, PromptTokensDetails, SamplingRequest, Usage)
from llmos.serve.served_model import ServedModel
from llmos.serve.streaming import Shape, sse_stream
from llmos.serve.tool_calls import parse_tool_calls

_ERRORS = {status: {"model": ErrorResponse, "description": what} for status, what in (
    (400, "Invalid request: the message names the parameter at fault"),
    (401, "Missing or wrong API key"),
    (404, "Unknown model"),
    (429, "The engine's queue is full"))}
_STREAMED = {200: {"description": "The response; with stream=true, server-sent events of chunks ending in "
                                  "`data: [DONE]`", "content": {"text/event-stream": {"schema": {   # one event
                 "type": "object", "required": ["data"],
                 "properties": {"data": {"type": "string", "description": "a JSON chunk, or [DONE] at the end"},
                                "event": {"type": "string"}}}}}},
             **_ERRORS}


def _openapi(app: FastAPI, model_name: str) -> dict:
    """FastAPI's schema, less the 422 it documents for every body (this server answers 400),
    and with the one model it serves named where a request names a model."""
    if app.openapi_schema is None:
        schema = FastAPI.openapi(app)
        for name in ("CompletionRequest", "ChatCompletionRequest"):
            schema["components"]["schemas"][name]["properties"]["model"]["enum"] = [model_name]
        for path in schema["paths"].values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(served: ServedModel, api_key: str | None = None) -> FastAPI:
    """An ASGI app serving `served`; the engine starts and stops with the app."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        served.start()
        try:
            yield
        finally:
            served.stop()

    app = FastAPI(title="llmos", summary="OpenAI-compatible API over llmos's batched engine",
                  version="1", lifespan=lifespan, strict_content_type=False)
    install_error_handlers(app)
    app.openapi = lambda: _openapi(app, served.name)
    if api_key:
        app.add_middleware(APIKeyMiddleware, api_key=api_key)
    app.state.served = served

    @app.get("/health", response_model=Health)
    async def health() -> Health:
        e = served.engine
        return Health(model=served.name, active=e.num_active, pending=e.num_pending, slots=e.config.n_slots)

    def card() -> ModelCard:
        return ModelCard(id=served.name, created=served.created, max_model_len=served.context)

    @app.get("/v1/models", response_model=ModelList, responses=_ERRORS)
    async def list_models() -> ModelList:
        return ModelList(data=[card()])

    @app.get("/v1/models/{model_id:path}", response_model=ModelCard, responses=_ERRORS)
    async def get_model(model_id: str) -> ModelCard:
        served.check_model(model_id)
        return card()

    @app.post("/v1/completions", response_model=CompletionResponse, responses=_STREAMED)
    async def completions(body: CompletionRequest, request: Request):
        served.check_model(body.model)
        texts = body.prompts()
        prompts = [served.completion_prompt(p, "prompt") for p in texts]
        echo = None
        if body.echo:
            echo = [(t if isinstance(t, str) else served.tokenizer.decode(ids), ids) for t, ids in zip(texts, prompts)]
        shape = Shape(chat=False, tokenizer=served.tokenizer, logprobs=body.logprobs is not None, echo=echo)
        return await _respond(body, request, prompts, shape, served.grammar(body))

    @app.post("/v1/chat/completions", response_model=ChatCompletionResponse, responses=_STREAMED)
    async def chat_completions(body: ChatCompletionRequest, request: Request):
        served.check_model(body.model)
        grammar = served.grammar(body)     # first: a bad schema is the error to report, not the prompt's length
        prompt = served.chat_prompt(body.messages, body.tools if body.calling != "none" else None)
        shape = Shape(chat=True, tokenizer=served.tokenizer, logprobs=bool(body.logprobs), calling=body.calling,
                      tools=body.tools or [])
        return await _respond(body, request, [prompt], shape, grammar)

    async def _respond(body: SamplingRequest, request: Request, prompts: list[list[int]], shape: Shape, grammar):
        chat = shape.chat
        handles = _submit(body, prompts, shape, grammar)
        response_id = f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}"
        created, prompt_tokens = int(time.time()), sum(len(p) for p in prompts)
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            events = sse_stream(handles, shape=shape, response_id=response_id, created=created,
                                model=served.name, prompt_tokens=prompt_tokens, include_usage=include_usage,
                                choices_per_prompt=body.n)
            return StreamingResponse(events, media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        results = await _wait(handles, request)
        completion_tokens = sum(r.completion_tokens for r in results)
        usage = Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                      total_tokens=prompt_tokens + completion_tokens,
                      prompt_tokens_details=PromptTokensDetails(cached_tokens=sum(r.cached_tokens for r in results)))
        tok = served.tokenizer
        if chat:
            choices = []
            for i, r in enumerate(results):
                content, calls, finish = r.text, [], r.finish_reason
                if shape.calling != "none":
                    content, calls = parse_tool_calls(r.text, shape.tools)
                    if calls and finish == "stop":
                        finish = "tool_calls"
                logprobs = chat_logprobs(tok, r.logprobs or []) if shape.logprobs else None
                choices.append(ChatChoice(index=i, message=AssistantMessage(content=content, tool_calls=calls or None),
                                          logprobs=logprobs, finish_reason=finish))
            return ChatCompletionResponse(id=response_id, created=created, model=served.name,
                                          choices=choices, usage=usage)
        choices = []
        for i, r in enumerate(results):
            text, ids, lps = r.text, list(r.token_ids), list(r.logprobs or [])
            if shape.echo is not None:
                prompt_text, prompt_ids = shape.echo[i // body.n]
                text, ids = prompt_text + text, prompt_ids + ids
                lps = (r.prompt_logprobs or [None] * len(prompt_ids)) + lps
            logprobs = completion_logprobs(tok, ids, lps) if shape.logprobs else None
            choices.append(CompletionChoice(index=i, text=text, logprobs=logprobs, finish_reason=r.finish_reason))
        return CompletionResponse(id=response_id, created=created, model=served.name, choices=choices, usage=usage)

    def _submit(body: SamplingRequest, prompts: list[list[int]], shape: Shape, grammar) -> list[RequestHandle]:
        """One engine request per (prompt, choice); choice i of prompt p has index p * n + i."""
        bias = served.logit_bias(body)
        if shape.chat:
            top = (body.top_logprobs or 0) if body.logprobs else None
        else:
            top = body.logprobs
        handles: list[RequestHandle] = []
        try:
            for prompt in prompts:
                for _ in range(body.n):
                    gen = served.generation_config(body, len(prompt), index=len(handles),
                                                   constrained=grammar is not None)
                    handles.append(served.engine.asubmit(
                        prompt, gen, frequency_penalty=body.frequency_penalty,
                        presence_penalty=body.presence_penalty, grammar=grammar, logit_bias=bias, logprobs=top,
                        prompt_logprobs=shape.echo is not None and top is not None))
        except EngineBusy as e:
            for h in handles:
                h.cancel()
            raise APIError(429, f"the server is busy: {e}", code="server_busy") from None
        except ValueError as e:
            for h in handles:
                h.cancel()
            raise APIError(400, str(e)) from None
        return handles

    async def _wait(handles: list[RequestHandle], request: Request) -> list[Result]:
        """Every request's result; if the client hangs up first, cancel them all."""
        task = asyncio.ensure_future(asyncio.gather(*(h.aresult() for h in handles)))
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=0.25)
                if done:
                    break
                if await request.is_disconnected():
                    task.cancel()
                    raise APIError(499, "the client closed the connection", type="client_closed")
        finally:
            for h in handles:
                h.cancel()
        results = task.result()
        for r in results:
            if r.finish_reason == "cancelled":
                raise APIError(503, "the server is shutting down; the request was not finished",
                               type="server_error")
        return results

    return app
