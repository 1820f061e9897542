"""One agent session's state: its task, browser tab, policy, vault and history.

The loop (`llmos.agent.loop`) moves a session from step to step; the service
(`llmos.agent.service`) keeps sessions by id and expires idle ones. A session
waiting for the person (`ASK_USER`) holds the pending action together with
the page snapshot it was chosen on, so an approval acts on exactly what was
asked about, or on nothing if the page has changed since.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from llmos.agent.backends import ModelBackend
from llmos.agent.browser import Snapshot, Tab
from llmos.agent.guards import CourseGuard
from llmos.agent.policy import Policy
from llmos.agent.trace import Tracer
from llmos.agent.vault import Vault
from llmos.agent.views import (Action, HistoryItem, PolicyVerdict, SessionInfo, SessionOptions,
                               StepResult, StepStatus)

MAX_NOTES = 8


@dataclass
class Pending:
    """What an ASK_USER step waits on: an action to approve, or a question to answer."""

    action: Action | None = None
    verdict: PolicyVerdict | None = None
    snapshot: Snapshot | None = None
    question: str | None = None


@dataclass
class Session:
    id: str
    input: str
    start_url: str | None
    options: SessionOptions
    tab: Tab
    policy: Policy
    vault: Vault
    guard: CourseGuard
    tracer: Tracer
    status: StepStatus = StepStatus.CONTINUE
    steps: int = 0
    created_at: float = field(default_factory=time.time)
    last_active: float = field(default_factory=time.time)
    history: list[HistoryItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pending: Pending | None = None
    last_result: StepResult | None = None
    denials: int = 0
    backend: ModelBackend | None = None   # this session's model, if not the agent's
    memory: Any = None                    # the person's long-term memory (agent.memory.Memory), if on
    tools: dict[str, Any] = field(default_factory=dict)  # mounted MCP tools by name (agent.mcp.mount)

    @property
    def finished(self) -> bool:
        return self.status in (StepStatus.DONE, StepStatus.FAILED)

    @property
    def url(self) -> str:
        try:
            return self.tab.url
        except Exception:  # the browser is gone (closed session)
            return self.last_result.url if self.last_result else ""

    def add_note(self, note: str) -> None:
        """Notes reach the model's next prompts (scrubbed); only the latest few are kept."""
        self.notes.append(self.vault.scrub(note))
        del self.notes[:-MAX_NOTES]

    def touch(self) -> None:
        self.last_active = time.time()

    def info(self) -> SessionInfo:
        return SessionInfo(id=self.id, input=self.input, start_url=self.start_url,
                           status=self.status, steps=self.steps, url=self.vault.scrub(self.url),
                           created_at=self.created_at, last_active=self.last_active,
                           trace_path=str(self.tracer.path))
