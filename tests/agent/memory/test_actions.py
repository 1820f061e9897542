"""The model's memory actions as the loop performs them: search, save (asking when unsure), update, off."""
from __future__ import annotations

from types import SimpleNamespace

from llmos.agent.memory.actions import OFF, applied_note, perform_memory
from llmos.agent.vault import Vault
from llmos.agent.views import (ClickAction, Element, MemorySaveAction, MemorySearchAction,
                               MemoryUpdateAction, Observation, SelectAction, StepStatus, parse_action)


def _session(memory):
    notes = []
    return SimpleNamespace(memory=memory, id="s1", steps=3, notes=notes, add_note=notes.append)


def test_the_actions_parse_from_the_models_json():
    a = parse_action('{"type": "memory_save", "text": "prefers aisle seats", "about": "seat", "value": "aisle"}')
    assert isinstance(a, MemorySaveAction) and a.about == "seat" and a.key() != ""
    assert isinstance(parse_action({"type": "memory_search", "query": "seat"}), MemorySearchAction)
    assert isinstance(parse_action({"type": "memory_update", "id": 3, "text": "x"}), MemoryUpdateAction)


def test_save_search_and_update(memory):
    s = _session(memory)
    status, msg = perform_memory(s, MemorySaveAction(text="prefers aisle seats", about="seat", value="aisle",
                                                     kind="preference"))
    assert status is StepStatus.CONTINUE and msg == "memory #1 added: prefers aisle seats"
    assert memory.store.get(1).session == "s1" and memory.store.get(1).step == 3   # provenance
    status, msg = perform_memory(s, MemorySearchAction(query="aisle seat", kind="preference"))
    assert "#1 [preference seat = aisle] prefers aisle seats" in msg and s.notes == [msg]
    status, msg = perform_memory(s, MemoryUpdateAction(id=1, text="prefers window seats"))
    assert msg.startswith("memory #2 superseded: prefers window seats (replacing #1")
    assert memory.preference("seat").value == "window"
    _, msg = perform_memory(s, MemoryUpdateAction(id=99, text="x"))
    assert msg.startswith("error:") and "#99" in msg


def test_an_unsure_save_asks_the_person_first(memory):
    status, msg = perform_memory(_session(memory), MemorySaveAction(text="prefers window seats", confidence=0.5))
    assert status is StepStatus.ASK_USER and "Shall I remember" in msg
    assert memory.store.count() == 0


def test_a_secret_is_refused_and_memory_off_does_nothing(memory):
    vault = Vault({"card_number": "4242424242424242"})
    s = _session(memory.with_scrub(vault.scrub))
    _, msg = perform_memory(s, MemorySaveAction(text="card is 4242424242424242"))
    assert msg.startswith("error: not kept") and memory.store.count() == 0
    assert perform_memory(_session(None), MemorySearchAction(query="x")) == (StepStatus.CONTINUE, OFF)


def test_a_choice_that_applies_a_preference_is_named(memory):
    memory.capture("I'm vegetarian and always take an aisle seat")
    obs = Observation(elements=[Element(index=4, tag="input", role="radio", label="Seat 12C, aisle"),
                                Element(index=5, tag="input", role="radio", label="Seat 12A, window")])
    assert applied_note(memory, ClickAction(element=4), obs) == " (applied preference #2: prefers aisle seats)"
    assert applied_note(memory, ClickAction(element=5), obs) == ""
    assert "diet: vegetarian" in applied_note(memory, SelectAction(element=1, option="Vegetarian"), obs)
