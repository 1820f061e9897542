"""The manager/worker verification protocol, as a typed state machine.

    NOT_DONE --assign--> ASSIGNED --claim--> DONE --verify--> VERIFY_DONE
    VERIFY_DONE --pass--> VERIFIED                                  (scenario 1)
    VERIFY_DONE --fail--> REDO(plan, context, feedback) --> NOT_DONE (scenario 2)
    VERIFY_DONE --fail, past the redo limit--> ESCALATED (ASK_USER) or FAILED
    ESCALATED --person accepts--> VERIFIED | --person retries--> NOT_DONE | --else--> FAILED
    ASSIGNED --worker crashed, hung, went away--> FAILED
    NOT_DONE --a dependency failed--> FAILED

A worker's "done" is only a claim: the one way to VERIFIED is through
VERIFY_DONE (the manager's check) or the person's own acceptance. Every
transition is a `Transition` record handed to `on_transition` (the team
trace), so a run can be replayed from its trace.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable


class TaskState(str, Enum):
    NOT_DONE = "not done"
    ASSIGNED = "assigned"
    DONE = "done"                # the worker's claim, not yet checked
    VERIFY_DONE = "verify done"
    VERIFIED = "verified"
    REDO = "redo"
    ESCALATED = "escalated"      # waiting for the person (ASK_USER)
    FAILED = "failed"


S = TaskState
ALLOWED: dict[TaskState, set[TaskState]] = {
    S.NOT_DONE: {S.ASSIGNED, S.FAILED},
    S.ASSIGNED: {S.DONE, S.FAILED},
    S.DONE: {S.VERIFY_DONE},
    S.VERIFY_DONE: {S.VERIFIED, S.REDO, S.ESCALATED, S.FAILED},
    S.REDO: {S.NOT_DONE},
    S.ESCALATED: {S.VERIFIED, S.NOT_DONE, S.FAILED},
    S.VERIFIED: set(),
    S.FAILED: set(),
}
FINAL = (S.VERIFIED, S.FAILED)


class ProtocolError(RuntimeError):
    """A transition the protocol does not allow (e.g. VERIFIED straight from DONE)."""


@dataclass(frozen=True)
class Redo:
    """What the manager sends with "Re-do Task X": a plan, context, and feedback with corrections."""

    plan: str
    context: str
    feedback: list[str]
    corrections: dict[str, Any] = field(default_factory=dict)   # field -> the value the spec wants

    def as_text(self) -> str:
        lines = [f"Re-do this task. Plan: {self.plan}", f"Context: {self.context}", "Feedback:"]
        lines += [f"- {f}" for f in self.feedback]
        if self.corrections:
            lines.append("Corrections: " + ", ".join(f"{k} must be {v!r}" for k, v in self.corrections.items()))
        return "\n".join(lines)


@dataclass(frozen=True)
class Transition:
    subtask: str
    source: TaskState
    target: TaskState
    attempt: int
    worker: str = ""
    detail: str = ""
    data: dict = field(default_factory=dict)
    time: float = field(default_factory=time.time)

    def record(self) -> dict[str, Any]:
        return {"kind": "transition", "subtask": self.subtask, "from": self.source.value,
                "to": self.target.value, "attempt": self.attempt, "worker": self.worker,
                "detail": self.detail, "data": self.data, "time": self.time}


class SubtaskProtocol:
    """One subtask's protocol state, the manager's and the worker's view alike."""

    def __init__(self, subtask: str, max_redos: int = 2,
                 on_transition: Callable[[Transition], None] = lambda t: None):
        if max_redos < 0:
            raise ValueError(f"max_redos must be >= 0, not {max_redos}")
        self.subtask = subtask
        self.max_redos = max_redos
        self.state = S.NOT_DONE
        self.attempt = 0              # assignments so far
        self.redos = 0
        self.worker = ""
        self.last_redo: Redo | None = None
        self.reason = ""              # why it failed, or how it was verified
        self.history: list[Transition] = []
        self._emit = on_transition

    @property
    def final(self) -> bool:
        return self.state in FINAL

    @property
    def redo_limit_reached(self) -> bool:
        return self.redos >= self.max_redos

    def _move(self, target: TaskState, detail: str = "", **data) -> Transition:
        if target not in ALLOWED[self.state]:
            raise ProtocolError(f"subtask {self.subtask!r}: {self.state.value} -> {target.value} is not "
                                f"allowed; from {self.state.value} it may go to "
                                f"{sorted(t.value for t in ALLOWED[self.state]) or 'nowhere (final)'}")
        t = Transition(self.subtask, self.state, target, self.attempt, self.worker, detail, data)
        self.state = target
        self.history.append(t)
        self._emit(t)
        return t

    # The manager's moves and the worker's claim, in protocol order.

    def assign(self, worker: str) -> Transition:
        self.worker = worker
        self.attempt += 1
        redo = self.last_redo.as_text() if self.last_redo else ""
        return self._move(S.ASSIGNED, f"handed to {worker}", redo=redo)

    def claim_done(self, answer: str = "", **data) -> Transition:
        return self._move(S.DONE, f"{self.worker} reports done: {answer}"[:300], **data)

    def start_verify(self) -> Transition:
        return self._move(S.VERIFY_DONE, "the manager checks the work against the spec")

    def verified(self, detail: str, **data) -> Transition:
        self.reason = detail
        return self._move(S.VERIFIED, detail, **data)

    def redo(self, redo: Redo) -> Transition:
        """Scenario 2: send the redo, and the task is back to NOT_DONE for both sides."""
        if self.redo_limit_reached:
            raise ProtocolError(f"subtask {self.subtask!r} has used its {self.max_redos} redo(s); "
                                "escalate it or fail it")
        self.redos += 1
        self.last_redo = redo
        t = self._move(S.REDO, "; ".join(redo.feedback)[:500], plan=redo.plan, context=redo.context,
                       feedback=redo.feedback, corrections=redo.corrections)
        self._move(S.NOT_DONE, "back to not done for the manager and the worker")
        return t

    def escalate(self, question: str) -> Transition:
        return self._move(S.ESCALATED, question)

    def person_accepts(self, detail: str = "the person accepted the work") -> Transition:
        if self.state is not S.ESCALATED:
            raise ProtocolError(f"subtask {self.subtask!r}: only the person can accept unverified work, "
                                f"and only when escalated (it is {self.state.value})")
        self.reason = detail
        return self._move(S.VERIFIED, detail, by="person")

    def person_retries(self, feedback: str = "") -> Transition:
        if self.state is not S.ESCALATED:
            raise ProtocolError(f"subtask {self.subtask!r} is not escalated")
        self.redos = 0   # the person grants a fresh round of redos
        return self._move(S.NOT_DONE, feedback or "the person asked for another try")

    def fail(self, reason: str) -> Transition:
        self.reason = reason
        return self._move(S.FAILED, reason)
