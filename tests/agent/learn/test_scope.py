"""The policy's scope: a `done` on a request that names what it never learned nor saw becomes a question."""
from __future__ import annotations

import json

from llmos.agent.learn.backend import PolicyBackend
from llmos.agent.learn.scope import SCOPE_FILE, page_words, read_scope, unfamiliar, words, write_scope
from llmos.agent.views import ClickAction, Element, HistoryItem, ModelRequest, Observation, StepContext

LEARNED = ["Add 2 x Ceramic Mug to my Corner Shop cart.", "Remove everything from my Corner Shop cart."]


def ctx(task: str, labels=("Search", "Cart"), step: int = 1) -> StepContext:
    obs = Observation(url="http://x/shop/", title="Corner Shop", text="Welcome",
                      elements=[Element(index=i, tag="a", role="link", label=label) for i, label in enumerate(labels)])
    history = [HistoryItem(step=s, action=ClickAction(element=0), outcome="ok") for s in range(1, step)]
    return StepContext(task=task, step=step, observation=obs, history=history)


class Scripted(PolicyBackend):
    """The backend's guards around a policy that always answers `done`."""

    def __init__(self, scope):
        self.scope, self._seen, self._asked = scope, {}, set()
        self.min_confidence, self.last_confidence, self.calls, self.seed = 0.0, 1.0, 0, None

    def propose(self, ctx, temperature=None, seed=None):
        return json.dumps({"type": "done", "answer": "The cart is empty."}), 10, 5


def reply(backend, context) -> dict:
    return json.loads(backend.complete(ModelRequest(messages=[], context=context)).text)


def test_words_are_alphabetic_case_folded_and_three_letters_or_more():
    assert words("Add 2 x Ceramic Mug, by 2025-06-12; card_number") == {"add", "ceramic", "mug", "card", "number"}
    assert page_words(ctx("t", labels=("Gooseneck Kettle",))) >= {"gooseneck", "kettle", "corner", "shop", "welcome"}


def test_the_scope_is_saved_beside_the_policy_and_read_back(tmp_path):
    info = write_scope(tmp_path, LEARNED)
    assert info["requests"] == 2 and (tmp_path / SCOPE_FILE).exists()
    assert read_scope(tmp_path) == words(" ".join(LEARNED))
    assert read_scope(tmp_path / "elsewhere") is None


def test_unfamiliar_words_are_neither_learned_nor_seen_in_the_order_said():
    scope = words(" ".join(LEARNED))
    assert unfamiliar("Renew my passport, my PASSPORT, through Corner Shop", scope, set()) == \
        ["renew", "passport", "through"]
    assert unfamiliar("Add 3 x Gooseneck Kettle to my cart", scope, {"gooseneck", "kettle"}) == []


def test_the_first_done_on_an_unfamiliar_request_becomes_a_question_then_the_person_decides():
    backend = Scripted(words(" ".join(LEARNED)))
    task = "Buy a mountain bike in the Corner Shop."
    asked = reply(backend, ctx(task))
    assert asked["type"] == "ask_user" and "mountain, bike" in asked["question"]
    assert reply(backend, ctx(task, step=2))["type"] == "done"            # asked once: the person answered
    assert reply(backend, ctx(task))["type"] == "ask_user"               # a new run of the task asks again


def test_a_familiar_request_or_a_word_seen_on_a_page_passes():
    backend = Scripted(words(" ".join(LEARNED)))
    assert reply(backend, ctx("Remove everything from my Corner Shop cart."))["type"] == "done"
    task = "Add 1 x Gooseneck Kettle to my Corner Shop cart."
    backend.propose = lambda c, temperature=None, seed=None: ('{"type": "click", "element": 0}', 10, 5)
    assert reply(backend, ctx(task, labels=("Gooseneck Kettle",)))["type"] == "click"   # seen here...
    del backend.propose
    assert reply(backend, ctx(task, step=2))["type"] == "done"           # ... counts later in the task
    assert reply(Scripted(None), ctx("Renew my passport."))["type"] == "done"   # no scope: nothing checked
