"""Extension points in the agent loop, for memory, personalization and teams.

A hook sees each session start, can add to what the model is told before
every model call (retrieved memories, the person's preferences, a manager's
feedback), sees every finished step with its trace record, and sees the end.
The loop calls hooks in order; the defaults do nothing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmos.agent.views import StepContext, StepResult

if TYPE_CHECKING:
    from llmos.agent.session import Session


class AgentHooks:
    def on_session_start(self, session: Session) -> None:
        """A session was created (its start page, if any, is open)."""

    def before_model(self, session: Session, context: StepContext) -> StepContext:
        """Return the context the model decides from (e.g. with notes added)."""
        return context

    def after_step(self, session: Session, result: StepResult, record: dict[str, Any]) -> None:
        """A step finished; `record` is its (scrubbed) trace record."""

    def on_session_end(self, session: Session, result: StepResult | None) -> None:
        """The session reached DONE or FAILED (result), or was closed or expired (None)."""
