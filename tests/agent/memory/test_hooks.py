"""The memory hooks: what a session tells memory and what each step's prompt gets back."""
from __future__ import annotations

from types import SimpleNamespace

from llmos.agent.memory.hooks import MemoryBank, MemoryHooks, choice_among, option_features
from llmos.agent.vault import Vault
from llmos.agent.views import (ClickAction, Element, Observation, SessionOptions, StepContext, StepResult,
                               StepStatus)


def _session(sid, task, vault=None):
    notes = []
    return SimpleNamespace(id=sid, input=task, options=SessionOptions(person="ada"), vault=vault or Vault(),
                           memory=None, notes=notes, add_note=notes.append)


FLIGHTS = Observation(url="http://127.0.0.1:1/flights/results", elements=[
    Element(index=i, tag="button", role="button", label=f"Select SL10{i}, departs {t}, nonstop, €{p}")
    for i, (t, p) in enumerate([("06:40", 120), ("09:15", 99), ("18:30", 80)])])


def test_a_session_leaves_its_task_steps_preferences_and_outcome_in_memory(tmp_path, hash_embedder):
    bank = MemoryBank(tmp_path, hash_embedder)
    hooks = MemoryHooks(bank)
    s = _session("s1", "I'm vegetarian. Book a flight to Paris; maybe a window seat.",
                 Vault({"card": "4242424242424242"}))
    hooks.on_session_start(s)
    assert s.memory.preference("diet").value == "vegetarian"
    assert s.memory.preference("seat") is None and "ask them" in s.notes[0]     # unsure: ask first
    ctx = hooks.before_model(s, StepContext(task=s.input, step=1, observation=FLIGHTS))
    assert "diet: vegetarian" in ctx.memory
    result = StepResult(session_id="s1", step=1, status=StepStatus.CONTINUE, message="clicked",
                        action=ClickAction(element=1))
    hooks.after_step(s, result, {"user_command": {"kind": "reply", "text": "Yes, I always take a window seat, "
                                                                     "card 4242424242424242"}})
    assert s.memory.preference("seat").value == "window"
    hooks.on_session_end(s, result.model_copy(update={"status": StepStatus.DONE, "message": "booked"}))
    kinds = {i.kind for i in s.memory.store.items()}
    assert kinds >= {"session", "step", "outcome", "message", "preference"}
    assert not any("4242" in i.text for i in s.memory.store.items())
    # the click among three flights was a choice, recorded with the options' features
    (choice,) = s.memory.store.choices()
    assert choice["chosen"] == 1 and choice["options"][1]["departure"] == "morning"
    # a later session of the same person sees it; another person does not
    later = _session("s2", "Book another flight")
    hooks.on_session_start(later)
    ctx = hooks.before_model(later, StepContext(task=later.input, step=1, observation=Observation()))
    assert "prefers window seats" in ctx.memory and "diet: vegetarian" in ctx.memory
    other = SimpleNamespace(**{**vars(_session("s3", "hello")), "options": SessionOptions(person="bob")})
    hooks.on_session_start(other)
    assert "vegetarian" not in hooks.before_model(other, StepContext(task="hello", step=1,
                                                                    observation=Observation())).memory
    bank.close()


def test_option_features_and_choices_among_like_elements():
    assert option_features("Select SL101, departs 09:15, 1 stop, €99") == {
        "price": 99.0, "departure": "morning", "stops": "with stops",
        "_label": "Select SL101, departs 09:15, 1 stop, €99"}
    f = option_features("Add Colombian Coffee Beans 250 g to cart, €10.90")
    assert f["item"] == "Colombian Coffee Beans 250 g" and f["price"] == 10.9
    domain, options, chosen = choice_among(ClickAction(element=2), FLIGHTS)
    assert domain == "flights" and len(options) == 3 and chosen == 2 and options[2]["departure"] == "evening"
    lone = Observation(elements=[Element(index=0, tag="button", role="button", label="Pay €99")])
    assert choice_among(ClickAction(element=0), lone) is None


def test_the_bank_opens_each_file_with_the_embedder_it_was_written_with(tmp_path, hash_embedder):
    from llmos.agent.memory import HashEmbedder, MemoryStore

    MemoryStore.open_person(tmp_path, "old", HashEmbedder(32)).close()
    bank = MemoryBank(tmp_path, hash_embedder)
    assert bank.memory("old").store.embedder.name == "hash-32"
    assert bank.memory("new").store.embedder.name == "hash-64"
    assert bank.people() == ["new", "old"]
    bank.close()
