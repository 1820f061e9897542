"""Workers: whoever does a subtask and reports back (a local agent, a script, a remote A2A agent).

A worker gets an `Assignment` (the subtask, the attempt number, the manager's
redo with plan, context and feedback) and returns a `WorkerReport`: its claim
(done or failed), its answer, the page it ended on, values it extracted, and
how often its own loop detector fired. When its session needs the person
(ASK_USER: an approval or a question) it calls `ask_person`, which every
worker of a team shares, so a request from any worker reaches the person.

`LocalWorker` runs an llmos `Agent` of its own (its own Chromium, browser
context and thread), with the same Action API, policy and ASK_USER as a
single agent.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from llmos.agent.backends import ModelBackend
from llmos.agent.hooks import AgentHooks
from llmos.agent.team.plan import Subtask
from llmos.agent.team.protocol import Redo
from llmos.agent.views import DoneAction, SessionOptions, StepResult, StepStatus, UserCommand


@dataclass
class Assignment:
    subtask: Subtask
    attempt: int
    redo: Redo | None = None
    instruction: str = ""                # the (re)planned instruction; default the subtask's

    @property
    def text(self) -> str:
        body = self.instruction or self.subtask.instruction
        return body + ("\n\n" + self.redo.as_text() if self.redo else "")


@dataclass
class WorkerReport:
    done: bool                           # the worker's claim
    answer: str = ""
    url: str = ""
    page_text: str = ""
    claimed: dict[str, Any] = field(default_factory=dict)
    steps: int = 0
    loop_signals: int = 0                # the worker's loop/no-progress nudges
    session: str = ""
    trace: str = ""
    asks: int = 0


# (worker name, subtask id, the paused step) -> the person's answer
AskPerson = Callable[[str, str, StepResult], UserCommand]


class Worker(Protocol):
    name: str

    def run(self, assignment: Assignment, ask_person: AskPerson) -> WorkerReport: ...


class ScriptedWorker:
    """A worker whose reports come from a function: for protocol tests and fault drills."""

    def __init__(self, name: str, fn: Callable[[Assignment, AskPerson], WorkerReport]):
        self.name = name
        self.fn = fn
        self.calls: list[Assignment] = []

    def run(self, assignment: Assignment, ask_person: AskPerson) -> WorkerReport:
        self.calls.append(assignment)
        return self.fn(assignment, ask_person)


def person_relay(answer: Callable[[str, str, StepResult], UserCommand]) -> AskPerson:
    """Serialize the person: one request at a time reaches them, whichever worker asks."""
    lock = threading.Lock()

    def ask(worker: str, subtask: str, step: StepResult) -> UserCommand:
        with lock:
            return answer(worker, subtask, step)
    return ask


class _EvidenceHook(AgentHooks):
    """At a session's end (on the agent's own thread): the final page's text and the guard's nudges."""

    def __init__(self):
        self.seen: dict[str, tuple[str, int]] = {}

    def on_session_end(self, session, result) -> None:
        try:
            text = session.tab.extract(session.tab.observe(), "")
        except Exception as e:  # the page may be gone; the manager still checks the site itself
            text = f"(could not read the final page: {e})"
        self.seen[session.id] = (session.vault.scrub(text)[:8000],
                                 session.guard.loop_nudges + int(session.guard.progress_nudged))


class LocalWorker:
    """An llmos agent in this process, with its own Chromium; `backend_for` makes each attempt's model."""

    def __init__(self, name: str, backend_for: Callable[[Assignment], ModelBackend],
                 trace_dir: Path, options: Callable[[Assignment], SessionOptions] | None = None,
                 max_asks: int = 6):
        from llmos.agent.service import Agent, AgentConfig

        self.name = name
        self.backend_for = backend_for
        self.options = options or (lambda a: SessionOptions())
        self.max_asks = max_asks
        self._evidence = _EvidenceHook()
        self.agent = Agent(None, AgentConfig(trace_dir=Path(trace_dir)), hooks=[self._evidence])

    def run(self, assignment: Assignment, ask_person: AskPerson) -> WorkerReport:
        agent, sub = self.agent, assignment.subtask
        info = agent.create(assignment.text, url=sub.start_url, options=self.options(assignment),
                            backend=self.backend_for(assignment))
        result, asks = agent.run(info.id), 0
        while result.status is StepStatus.ASK_USER and asks < self.max_asks:
            asks += 1
            result = agent.run(info.id, ask_person(self.name, sub.id, result))
        if result.status is StepStatus.ASK_USER:
            result = agent.step(info.id, UserCommand(kind="abort", text="too many questions"))
        final = agent.retrieve(info.id)
        agent.close(info.id)
        page, loops = self._evidence.seen.pop(info.id, ("", 0))
        answer = result.action.answer if isinstance(result.action, DoneAction) else result.message
        return WorkerReport(done=result.status is StepStatus.DONE, answer=answer, url=result.url,
                            page_text=page, steps=final.steps, loop_signals=loops, session=info.id,
                            trace=final.trace_path or "", asks=asks)

    def warm(self) -> None:
        """Start this worker's Chromium now (an empty session opened and closed), not on the first task."""
        self.agent.close(self.agent.create("start the browser").id)

    def close(self) -> None:
        self.agent.shutdown()


__all__ = ["Assignment", "WorkerReport", "Worker", "ScriptedWorker", "LocalWorker", "person_relay"]
