"""Generated task variants: valid suite tasks, deterministic, split so held-out values and templates stay out of training."""
from __future__ import annotations

import pytest

from llmos.agent.learn.generator import (FIRST, HELD_OUT_TEMPLATES, SPLITS, TRAIN_TEMPLATES, _held, generate,
                                         template_of)
from llmos.agent.suite.app import SuiteState
from llmos.agent.suite.checks import run_check
from llmos.agent.suite.tasks import SITES


def test_the_same_seed_gives_the_same_variants_and_another_seed_others():
    a, b, c = generate("train", 24, seed=3), generate("train", 24, seed=3), generate("train", 24, seed=4)
    assert [t.instruction for t in a] == [t.instruction for t in b]
    assert [t.instruction for t in a] != [t.instruction for t in c]
    assert len({t.id for t in a}) == 24


def test_every_template_covers_all_three_sites_and_each_site_keeps_a_template_out():
    assert {name.split("-")[0] for name in TRAIN_TEMPLATES} == set(SITES)
    assert {name.split("-")[0] for name in HELD_OUT_TEMPLATES} == set(SITES)
    assert not set(TRAIN_TEMPLATES) & set(HELD_OUT_TEMPLATES)
    held = generate("held_out_templates", 9)
    assert {template_of(t) for t in held} == set(HELD_OUT_TEMPLATES)
    assert not {template_of(t) for t in generate("train", 60)} & set(HELD_OUT_TEMPLATES)


def _names(tasks):
    return {f"{a} {b}" for t in tasks for a in FIRST for b in t.instruction.split(a + " ")[1:2]
            for b in [b.split()[0].strip(",().")] if f"{a} {b}" in t.instruction}


def test_held_out_values_never_reuse_a_training_person_or_route_day():
    train, held = generate("train", 240), generate("held_out_values", 120)
    people_train, people_held = _names(train), _names(held)
    assert people_held and people_train
    assert not people_train & people_held
    assert all(_held(p) for p in people_held) and not any(_held(p) for p in people_train)
    routes = lambda ts: {(s["from"], s["to"], s["date"]) for t in ts for s in
                         (st.get("search_flights") for st in t.oracle) if s}
    assert routes(held) and not routes(train) & routes(held)


@pytest.mark.parametrize("split", SPLITS)
def test_every_variant_is_judged_by_the_suite_check_and_is_not_done_on_a_fresh_state(split):
    """The check specs are well formed for the sites (no CheckSpecError) and nothing passes before acting."""
    state = SuiteState()
    for task in generate(split, 45, seed=1):
        task.apply_setup(state)
        verdict = run_check(state, task.check, answer="")
        assert not verdict.ok, (task.id, verdict.reason)
        state.reset()


def test_an_unknown_split_is_refused_by_name():
    with pytest.raises(ValueError, match="held_out_values"):
        generate("test", 3)
