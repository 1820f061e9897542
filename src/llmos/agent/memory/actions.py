"""The model's own memory actions, performed for the agent loop.

    {"type": "memory_search", "query": "seat preference", "kind": "preference"}
    {"type": "memory_save", "text": "prefers aisle seats", "about": "seat", "value": "aisle", "kind": "preference"}
    {"type": "memory_update", "id": 12, "text": "lives in Boston", "value": "Boston"}

A search's results are the step's message and a note for the next prompts. A
save below `SURE` confidence is not kept: the step asks the person first
(ASK_USER), and the model saves again, sure, once they confirm. With memory
off (no memory for the session) each action's message says so and nothing
happens. `applied_note` names the preferences a page choice applied, for the
step's message.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from llmos.agent.memory.preferences import SURE
from llmos.agent.views import (Action, ClickAction, MemorySaveAction, MemorySearchAction,
                               MemoryUpdateAction, Observation, SelectAction, StepStatus, TypeAction)

if TYPE_CHECKING:
    from llmos.agent.session import Session

MEMORY_ACTIONS = (MemorySearchAction, MemorySaveAction, MemoryUpdateAction)
OFF = "error: memory is off for this session; nothing was searched or kept"


def format_hit(item) -> str:
    """'#2 [preference seat = aisle] prefers aisle seats (source stated, confidence 0.95)'."""
    key = f" {item.key}" if item.key else ""
    if item.value and not item.key.startswith("learned:"):
        key += f" = {item.value}"
    return (f"#{item.id} [{item.kind}{key}] {item.text} (source {item.source}, confidence "
            f"{item.confidence:.2f}{'' if item.live else ', superseded'})")


def perform_memory(s: Session, action: Action) -> tuple[StepStatus, str]:
    from llmos.agent.memory.memory import SecretInMemoryError

    memory = s.memory
    if memory is None:
        return StepStatus.CONTINUE, OFF
    if isinstance(action, MemorySearchAction):
        kinds = None if action.kind == "any" else [action.kind]
        hits = memory.search(action.query, k=action.k, kinds=kinds)
        if not hits:
            return StepStatus.CONTINUE, f"memory: nothing found for {action.query!r}"
        text = f"memory for {action.query!r}:\n" + "\n".join(format_hit(h.item) for h in hits)
        s.add_note(text)
        return StepStatus.CONTINUE, text
    try:
        if isinstance(action, MemorySaveAction):
            if action.confidence < SURE:
                return StepStatus.ASK_USER, (f"Shall I remember that {action.text!r}? "
                                             "(I am not sure enough to keep it without asking.)")
            saved = memory.save(action.text, key=action.about, value=action.value, kind=action.kind,
                                session=s.id, step=s.steps, confidence=action.confidence, source="agent")
        else:
            saved = memory.update(action.id, text=action.text or None, value=action.value or None,
                                  session=s.id)
    except SecretInMemoryError as e:
        return StepStatus.CONTINUE, f"error: not kept: {e}"
    except (KeyError, ValueError) as e:
        return StepStatus.CONTINUE, f"error: {str(e).strip(chr(39))}"
    was = f" (replacing #{saved.previous.id}: {saved.previous.text})" if saved.action == "superseded" else ""
    return StepStatus.CONTINUE, f"memory #{saved.item.id} {saved.action}: {saved.item.text}{was}"


def choice_text(action: Action, observation: Observation) -> str:
    """The text of what an action picks: a select's option, a clicked element's label, typed text."""
    if isinstance(action, SelectAction):
        return action.option
    if isinstance(action, TypeAction):
        return action.text
    if isinstance(action, ClickAction):
        el = observation.element(action.element)
        return el.label if el is not None else ""
    return ""


def applied_note(memory, action: Action, observation: Observation) -> str:
    """' (applied preference #2: prefers aisle seats)' when the action's choice applies a preference."""
    choice = choice_text(action, observation)
    if not choice:
        return ""
    applied = memory.applied(choice)
    if not applied:
        return ""
    return " (applied preference " + "; ".join(f"#{p.id}: {p.text}" for p in applied) + ")"
