"""Turning a `StepContext` into chat messages, from the templates in `prompts/`.

Each step sends a fresh two-message conversation (system rules, then the task,
a compact history and the current page), so the context stays bounded however
long the session runs. A retry after an unreadable reply appends the reply and
the parse error, so the model sees what to fix.
"""
from __future__ import annotations

from functools import lru_cache

import jinja2

from llmos.agent.views import Action, ChatMessage, StepContext

MAX_HISTORY = 12      # most recent steps shown to the model


@lru_cache(maxsize=None)
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("llmos.agent", "prompts"),
                              trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=False, autoescape=False)


def describe_action(action: Action | None) -> str:
    """A one-line JSON form of an action (without its thought) for history lines."""
    if action is None:
        return "(no action)"
    return action.model_dump_json(exclude={"thought"})


def build_messages(context: StepContext) -> list[ChatMessage]:
    env = _env()
    system = env.get_template("system.jinja").render(secret_names=context.secret_names,
                                                     memory=bool(context.memory))
    history = [{"step": h.step, "action_text": describe_action(h.action), "outcome": h.outcome}
               for h in context.history[-MAX_HISTORY:]]
    user = env.get_template("step.jinja").render(
        task=context.task, history=history, notes=context.notes, step=context.step,
        obs=context.observation, memory=context.memory)
    return [ChatMessage(role="system", content=system.strip()),
            ChatMessage(role="user", content=user.strip())]


def retry_messages(messages: list[ChatMessage], reply: str, error: str) -> list[ChatMessage]:
    return messages + [
        ChatMessage(role="assistant", content=reply),
        ChatMessage(role="user", content=f"That reply could not be used: {error}\n"
                                         "Reply again with exactly one JSON action."),
    ]
