"""The oracle policy on hand-made observations: label matching, picking, retrying, waiting."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from llmos.agent.suite.oracle import OracleError, OraclePolicy, expand, find, pick
from llmos.agent.suite.tasks import Task
from llmos.agent.views import (ClickAction, DoneAction, Element, ExtractAction, HistoryItem,
                               Observation, ScrollAction, SelectAction, StepContext, TypeAction)


def el(index, label, role="button", **kw):
    tag = {"button": "button", "link": "a", "textbox": "input", "combobox": "select",
           "radio": "input", "checkbox": "input"}[role]
    return Element(index=index, tag=tag, role=role, label=label, **kw)


def obs(*elements, text="", url="http://127.0.0.1:9/x"):
    return Observation(url=url, elements=list(elements), text=text)


def ctx(observation, history=()):
    return StepContext(task="t", step=len(history), observation=observation, history=list(history))


def policy(*plan, **kw):
    task = Task(id="t", site="shop", difficulty="easy", instruction="t", start="/shop/",
                max_steps=10, check={"kind": "answer", "contains": []}, oracle=list(plan))
    return OraclePolicy(task, **kw)


RESULTS = obs(el(0, "Select SL102, departs 06:40, nonstop, €156"),
              el(1, "Select SL107, departs 09:15, nonstop, €123"),
              el(2, "Select SL112, departs 13:05, 1 stop, €135"),
              el(3, "Select SL117, departs 18:30, nonstop, €127", disabled=True),
              el(4, "Search flights", "link"))


def test_find_prefers_exact_then_prefix_then_substring():
    o = obs(el(0, "Add Ceramic Mug to cart, €9.00"), el(1, "Ceramic Mug", "link"),
            el(2, "Search products", "textbox"), el(3, "Search"))
    assert [e.index for e in find(o, "ceramic mug")] == [1]
    assert [e.index for e in find(o, "Add Ceramic")] == [0]
    assert [e.index for e in find(o, "Mug to cart")] == [0]
    assert [e.index for e in find(o, "Search")] == [3]
    assert [e.index for e in find(o, "Search", role="textbox")] == [2]
    assert [e.index for e in find(o, pattern=r"^Select SL1\d7")] == []
    assert find(o, "Gift card") == []


def test_pick_by_price_and_time_skips_disabled_and_unpriced():
    assert pick(RESULTS, {"pick": "^Select", "by": "price"}, "pick").index == 1
    assert pick(RESULTS, {"pick": "^Select", "by": "time", "order": "max"}, "pick").index == 2
    assert pick(RESULTS, {"pick": "nonstop", "by": "time"}, "pick").index == 0
    assert pick(RESULTS, {"pick": "^Search", "by": "price"}, "pick") is None


def test_steps_become_actions_by_label_not_by_number():
    o = obs(el(5, "First name", "textbox"), el(2, "Meal", "combobox", options=["Vegan"]),
            el(7, "Continue to payment"))
    p = policy({"type": "First name", "text": "Ada"}, {"select": "Meal", "option": "Vegan"},
               {"click": "Continue to payment"})
    a = p(ctx(o))
    assert a == TypeAction(element=5, text="Ada")
    h = [HistoryItem(step=1, action=a, outcome="typed into textbox 'First name'")]
    a2 = p(ctx(o, h))
    assert a2 == SelectAction(element=2, option="Vegan")
    h.append(HistoryItem(step=2, action=a2, outcome="selected 'Vegan'"))
    assert p(ctx(o, h)) == ClickAction(element=7)


def test_a_failed_or_stale_action_is_retried_against_the_new_page():
    p = policy({"click": "Add to cart"}, {"done": "ok"})
    first = p(ctx(obs(el(3, "Add to cart"))))
    stale = HistoryItem(step=1, action=first, outcome="element 3 (button 'Add to cart') changed or "
                        "disappeared since the page was observed; nothing was done")
    again = p(ctx(obs(el(0, "Banner"), el(4, "Add to cart")), [stale]))
    assert again == ClickAction(element=4)
    ok = HistoryItem(step=2, action=again, outcome="clicked button 'Add to cart'")
    assert p(ctx(obs(), [stale, ok])) == DoneAction(answer="ok")


def test_fields_already_right_are_left_alone():
    o = obs(el(0, "Email", "textbox", value="ada@example.com"), el(1, "Vegan", "checkbox", checked=True),
            el(2, "Country", "combobox", value="Portugal", options=["Portugal"]), el(3, "Next"))
    p = policy({"type": "Email", "text": "ada@example.com"}, {"check": "Vegan"},
               {"select": "Country", "option": "portugal"}, {"click": "Next"})
    assert p(ctx(o)) == ClickAction(element=3)


def test_secret_placeholders_are_always_typed():
    o = obs(el(0, "Card number", "textbox", value="{{secret:card_number}}"))
    a = policy({"type": "Card number", "text": "{{secret:card_number}}"})(ctx(o))
    assert a == TypeAction(element=0, text="{{secret:card_number}}")


def test_missing_target_waits_then_gives_up(monkeypatch):
    # the oracle's own clock, moved by hand: the outcome cannot depend on how fast this machine is
    now = [100.0]
    monkeypatch.setattr("llmos.agent.suite.oracle.time",
                        SimpleNamespace(monotonic=lambda: now[0], sleep=lambda s: None))
    p = policy({"click": "Add French Press 1 L to cart"}, patience_s=4.0)
    loading = ctx(obs(el(0, "Loading")))
    waits = []
    for _ in range(2):
        waits.append(p(loading))
        now[0] += 1.9
    assert {type(w) for w in waits} == {ExtractAction, ScrollAction}
    assert type(p(loading)) in (ExtractAction, ScrollAction)      # 3.8 s: still within its patience
    assert p.waits == 3
    now[0] += 0.3
    final = p(loading)                                             # 4.1 s: it gives up
    assert isinstance(final, DoneAction) and not final.success and "French Press" in final.answer


def test_answer_steps_read_the_page_text():
    p = policy({"answer": r"SL191 departs \S+, arrives (\d\d:\d\d)"})
    o = obs(text="SL186 departs 09:15, arrives 11:30 ... SL191 departs 13:05, arrives 16:55, 1 stop")
    assert p(ctx(o)) == DoneAction(answer="16:55")
    assert policy({"answer_pick": "^Select", "by": "price"})(ctx(RESULTS)).answer.startswith("Select SL107")


def test_macros_expand_and_unknown_steps_are_refused():
    steps = expand([{"card": "Ada"}, {"search_flights": {"from": "A", "to": "B", "date": "D"}}])
    assert steps[1] == {"type": "Card number", "text": "{{secret:card_number}}"}
    assert steps[-1] == {"click": "Search flights", "role": "button"}
    with pytest.raises(OracleError, match="none of the operations"):
        expand([{"dance": "now"}])
