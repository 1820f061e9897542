"""The Action API in Python: create, step, run, list, retrieve, close.

    agent = Agent(OpenAIBackend("http://127.0.0.1:8000/v1", "my-model"))
    s = agent.create("Find the cheapest flight to Oslo", url="http://127.0.0.1:8100/")
    r = agent.run(s.id)                      # steps until DONE, ASK_USER or FAILED
    if r.status == "ASK_USER":
        r = agent.step(s.id, "approve")       # or UserCommand(kind="edit", action=...)

Playwright's sync API belongs to the thread that started it, and a web
server calls in from many threads, so every session operation runs on the
agent's own worker thread (one at a time). Sessions idle for longer than
`idle_timeout_s` are closed at the next call; a server also sweeps them.
"""
from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

from llmos.agent.backends import ModelBackend
from llmos.agent.browser import Browser, BrowserConfig, BrowserError
from llmos.agent.guards import CourseGuard, GuardConfig
from llmos.agent.hooks import AgentHooks
from llmos.agent.loop import AgentLoop, CommandError, LoopConfig
from llmos.agent.policy import Policy
from llmos.agent.session import Session
from llmos.agent.trace import Tracer
from llmos.agent.vault import Vault
from llmos.agent.views import (SessionInfo, SessionOptions, StepResult, StepStatus,
                               UserCommand)
from llmos.config import require

T = TypeVar("T")


class SessionNotFound(KeyError):
    """No live session has this id (never created, closed, or expired)."""

    def __str__(self) -> str:
        return f"no session {self.args[0]!r}: it was never created, was closed, or expired after idling"


@dataclass
class AgentConfig:
    trace_dir: Path = Path("runs/agent")
    idle_timeout_s: float = 900.0
    browser: BrowserConfig = field(default_factory=BrowserConfig)
    guard: GuardConfig = field(default_factory=GuardConfig)
    loop: LoopConfig = field(default_factory=LoopConfig)

    def __post_init__(self) -> None:
        require(self.idle_timeout_s > 0, "idle_timeout_s", "> 0", self.idle_timeout_s)


def as_command(cmd: UserCommand | str | dict | None) -> UserCommand | None:
    """Accept "approve"/"abort" shorthands and dicts as well as a `UserCommand`."""
    if cmd is None or isinstance(cmd, UserCommand):
        return cmd
    if isinstance(cmd, str):
        return UserCommand(kind=cmd)
    return UserCommand.model_validate(cmd)


class Agent:
    def __init__(self, backend: ModelBackend | None = None, config: AgentConfig | None = None,
                 hooks: list[AgentHooks] | tuple = ()):
        self.config = config or AgentConfig()
        self.hooks = list(hooks)
        self.loop = AgentLoop(backend, self.config.loop, self.hooks)
        self.browser = Browser(self.config.browser)
        self._sessions: dict[str, Session] = {}
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="llmos-agent")
        self._worker: threading.Thread | None = None
        self._closed = False

    # ------------------------------------------------------------------ threading

    def _call(self, fn: Callable[..., T], *args) -> T:
        if self._closed:
            raise RuntimeError("this Agent has been shut down")
        if threading.current_thread() is self._worker:
            return fn(*args)
        return self._pool.submit(self._on_worker, fn, *args).result()

    def _on_worker(self, fn, *args):
        self._worker = threading.current_thread()
        return fn(*args)

    # ------------------------------------------------------------------ API

    def create(self, input: str, url: str | None = None,
               options: SessionOptions | dict | None = None,
               backend: ModelBackend | None = None) -> SessionInfo:
        """Start a session on a task, optionally opening `url` first.

        `backend` gives this session its own model (else the agent's).
        """
        if not input or not input.strip():
            raise ValueError("a session needs a task: `input` is empty")
        opts = options if isinstance(options, SessionOptions) else SessionOptions.model_validate(options or {})
        return self._call(self._create, input, url, opts, backend)

    def _create(self, input: str, url: str | None, opts: SessionOptions,
                backend: ModelBackend | None) -> SessionInfo:
        self._expire_idle()
        sid = uuid.uuid4().hex[:12]
        vault = Vault(opts.secrets)
        tracer = Tracer(Path(self.config.trace_dir) / sid, scrub=vault.scrub)
        tab = self.browser.new_tab()
        s = Session(id=sid, input=input, start_url=url, options=opts, tab=tab,
                    policy=Policy(opts.policy, url), vault=vault,
                    guard=CourseGuard(self.config.guard, opts.max_steps, opts.max_seconds),
                    tracer=tracer, backend=backend)
        model = backend or self.loop.backend
        tracer.write({"kind": "session", "session": sid, "input": input, "start_url": url,
                      "backend": getattr(model, "name", type(model).__name__),
                      "policy": opts.policy.model_dump(mode="json"), "secret_names": vault.names,
                      "max_steps": opts.max_steps, "max_seconds": opts.max_seconds})
        if url:
            try:
                tab.navigate(url)
            except BrowserError as e:
                tab.close()
                raise ValueError(f"cannot open the start url: {e}") from None
        self._sessions[sid] = s
        for h in self.hooks:
            h.on_session_start(s)
        return s.info()

    def _get(self, session: str | SessionInfo) -> Session:
        sid = session.id if isinstance(session, SessionInfo) else session
        self._expire_idle()
        if sid not in self._sessions:
            raise SessionNotFound(sid)
        return self._sessions[sid]

    def step(self, session: str | SessionInfo, cmd: UserCommand | str | dict | None = None
             ) -> StepResult:
        """Advance one step; `cmd` answers an ASK_USER (approve, edit, reply, abort)."""
        command = as_command(cmd)
        return self._call(lambda: self.loop.step(self._get(session), command))

    def run(self, session: str | SessionInfo, cmd: UserCommand | str | dict | None = None,
            max_steps: int | None = None) -> StepResult:
        """Step until the status is not CONTINUE (or `max_steps` more steps were taken)."""
        result = self.step(session, cmd)
        n = 1
        while result.status is StepStatus.CONTINUE and (max_steps is None or n < max_steps):
            result = self.step(session)
            n += 1
        return result

    def retrieve(self, session: str | SessionInfo) -> SessionInfo:
        return self._call(lambda: self._get(session).info())

    def list(self) -> list[SessionInfo]:
        def _list():
            self._expire_idle()
            return [s.info() for s in self._sessions.values()]
        return self._call(_list)

    def close(self, session: str | SessionInfo) -> None:
        def _close():
            s = self._get(session)
            self._drop(s, "closed")
        self._call(_close)

    def expire_idle(self) -> list[str]:
        """Close sessions idle past `idle_timeout_s`; returns their ids."""
        return self._call(self._expire_idle)

    def _expire_idle(self) -> list[str]:
        now = time.time()
        gone = [s for s in self._sessions.values()
                if now - s.last_active > self.config.idle_timeout_s]
        for s in gone:
            self._drop(s, f"expired after {self.config.idle_timeout_s:.0f}s idle")
        return [s.id for s in gone]

    def _drop(self, s: Session, why: str) -> None:
        self._sessions.pop(s.id, None)
        s.tracer.write({"kind": "closed", "session": s.id, "reason": why, "status": s.status.value})
        s.tab.close()
        if not s.finished:
            for h in self.hooks:
                h.on_session_end(s, None)

    def shutdown(self) -> None:
        if self._closed:
            return

        def _shutdown():
            for s in list(self._sessions.values()):
                self._drop(s, "agent shut down")
            self.browser.close()
        try:
            self._call(_shutdown)
        finally:
            self._closed = True
            self._pool.shutdown(wait=True)

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()


__all__ = ["Agent", "AgentConfig", "CommandError", "SessionNotFound", "as_command"]
