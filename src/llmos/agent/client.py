"""The Action API from another process: `AgentClient` speaks to `llmos agent serve`.

It mirrors `Agent` (create, step, run, list, retrieve, close) and returns the
same typed `views`, so code written against one works against the other.
"""
from __future__ import annotations

import httpx

from llmos.agent.views import SessionInfo, SessionOptions, StepResult, UserCommand


class AgentAPIError(RuntimeError):
    def __init__(self, status: int, message: str):
        super().__init__(f"agent server answered {status}: {message}")
        self.status = status


class AgentClient:
    def __init__(self, base_url: str = "http://127.0.0.1:8765", timeout_s: float = 600.0):
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)

    def _send(self, method: str, path: str, **kw) -> httpx.Response:
        r = self._http.request(method, path, **kw)
        if r.status_code >= 400:
            try:
                message = r.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = r.text[:500]
            raise AgentAPIError(r.status_code, message)
        return r

    @staticmethod
    def _cmd(cmd: UserCommand | str | None) -> dict | None:
        if cmd is None:
            return None
        cmd = UserCommand(kind=cmd) if isinstance(cmd, str) else cmd
        return cmd.model_dump(mode="json")

    def create(self, input: str, url: str | None = None,
               options: SessionOptions | dict | None = None) -> SessionInfo:
        opts = options.model_dump(mode="json") if isinstance(options, SessionOptions) else (options or {})
        r = self._send("POST", "/v1/sessions", json={"input": input, "url": url, "options": opts})
        return SessionInfo.model_validate(r.json())

    def step(self, session: str, cmd: UserCommand | str | None = None) -> StepResult:
        r = self._send("POST", f"/v1/sessions/{session}/step", json={"cmd": self._cmd(cmd)})
        return StepResult.model_validate(r.json())

    def run(self, session: str, cmd: UserCommand | str | None = None,
            max_steps: int | None = None) -> StepResult:
        r = self._send("POST", f"/v1/sessions/{session}/run",
                       json={"cmd": self._cmd(cmd), "max_steps": max_steps})
        return StepResult.model_validate(r.json())

    def list(self) -> list[SessionInfo]:
        return [SessionInfo.model_validate(s) for s in self._send("GET", "/v1/sessions").json()]

    def retrieve(self, session: str) -> SessionInfo:
        return SessionInfo.model_validate(self._send("GET", f"/v1/sessions/{session}").json())

    def close(self, session: str) -> None:
        self._send("DELETE", f"/v1/sessions/{session}")

    def trace(self, session: str) -> list[dict]:
        return self._send("GET", f"/v1/sessions/{session}/trace").json()

    def shutdown(self) -> None:
        self._http.close()

    def __enter__(self) -> AgentClient:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
