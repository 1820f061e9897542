"""The Action API over HTTP (FastAPI), the same calls as `Agent`.

    POST   /v1/sessions                    {input, url?, options?}    -> SessionInfo
    GET    /v1/sessions                                               -> [SessionInfo]
    GET    /v1/sessions/{id}                                          -> SessionInfo
    POST   /v1/sessions/{id}/step          {cmd?}                     -> StepResult
    POST   /v1/sessions/{id}/run           {cmd?, max_steps?}         -> StepResult
    DELETE /v1/sessions/{id}                                          -> 204
    GET    /v1/sessions/{id}/trace                                    -> trace records (JSON)
    GET    /v1/sessions/{id}/trace.html                               -> the HTML trace view

Errors are JSON `{"error": {"message", "type"}}`: 404 for an unknown or
expired session, 409 for a command that does not fit the session's state,
400 for a bad request, 422 for a body that fails validation. Bind it to
127.0.0.1: whoever can reach it can drive the person's browser.
"""
from __future__ import annotations

import threading

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from llmos.agent.service import Agent, CommandError, SessionNotFound
from llmos.agent.trace import read_trace
from llmos.agent.trace_view import render_html
from llmos.agent.views import SessionInfo, SessionOptions, StepResult, UserCommand


class CreateRequest(BaseModel):
    input: str = Field(..., min_length=1, description="the task, in plain language")
    url: str | None = None
    options: SessionOptions = Field(default_factory=SessionOptions)


class StepRequest(BaseModel):
    cmd: UserCommand | None = None


class RunRequest(StepRequest):
    max_steps: int | None = Field(None, ge=1)


def _error(status: int, message: str, kind: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"message": message, "type": kind}})


def create_agent_app(agent: Agent, sweep_every_s: float | None = 30.0, a2a: str | None = None) -> FastAPI:
    """A FastAPI app over `agent`; a daemon thread expires idle sessions every `sweep_every_s`.

    `a2a` (the server's public base URL) also serves the agent over A2A: its Agent Card at
    /.well-known/agent-card.json and JSON-RPC at /a2a (see `llmos.agent.a2a.server`).
    """
    app = FastAPI(title="llmos agent", version="1")
    app.state.agent = agent
    if a2a:
        from llmos.agent.a2a.server import mount_a2a
        mount_a2a(app, agent, a2a)

    if sweep_every_s:
        stop = threading.Event()

        def sweep():
            while not stop.wait(sweep_every_s):
                try:
                    agent.expire_idle()
                except RuntimeError:  # the agent was shut down
                    return
        app.router.on_startup.append(lambda: threading.Thread(target=sweep, daemon=True).start())
        app.router.on_shutdown.append(stop.set)

    @app.exception_handler(SessionNotFound)
    async def _not_found(_: Request, e: SessionNotFound):
        return _error(404, str(e), "session_not_found")

    @app.exception_handler(CommandError)
    async def _conflict(_: Request, e: CommandError):
        return _error(409, str(e), "invalid_command")

    @app.exception_handler(ValueError)
    async def _bad(_: Request, e: ValueError):
        return _error(400, str(e), "invalid_request")

    # Plain `def` endpoints run in FastAPI's thread pool; `Agent` hands the
    # work to its own browser thread, so the event loop never blocks on it.
    @app.post("/v1/sessions", response_model=SessionInfo, status_code=201)
    def create(body: CreateRequest):
        return agent.create(body.input, body.url, body.options)

    @app.get("/v1/sessions", response_model=list[SessionInfo])
    def list_sessions():
        return agent.list()

    @app.get("/v1/sessions/{sid}", response_model=SessionInfo)
    def retrieve(sid: str):
        return agent.retrieve(sid)

    @app.post("/v1/sessions/{sid}/step", response_model=StepResult)
    def step(sid: str, body: StepRequest | None = None):
        return agent.step(sid, body.cmd if body else None)

    @app.post("/v1/sessions/{sid}/run", response_model=StepResult)
    def run(sid: str, body: RunRequest | None = None):
        body = body or RunRequest()
        return agent.run(sid, body.cmd, body.max_steps)

    @app.delete("/v1/sessions/{sid}", status_code=204)
    def close(sid: str):
        agent.close(sid)
        return Response(status_code=204)

    @app.get("/v1/sessions/{sid}/trace")
    def trace(sid: str):
        return read_trace(agent.retrieve(sid).trace_path)

    @app.get("/v1/sessions/{sid}/trace.html", response_class=HTMLResponse)
    def trace_html(sid: str):
        info = agent.retrieve(sid)
        return render_html(info.trace_path)

    return app
