"""The task list: enough tasks on every site, valid definitions, checks that resolve."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from llmos.agent.suite.app import SuiteState
from llmos.agent.suite.checks import resolve_flight, run_check
from llmos.agent.suite.oracle import expand
from llmos.agent.suite.shop import BY_SLUG
from llmos.agent.suite.tasks import SECRETS, TaskError, get_task, load_tasks
from llmos.agent.suite.web import luhn_ok


def test_at_least_thirty_tasks_over_three_sites_and_all_levels():
    tasks = load_tasks()
    assert len(tasks) >= 30
    sites = Counter(t.site for t in tasks)
    assert set(sites) == {"flights", "shop", "forms"} and min(sites.values()) >= 8
    assert set(Counter(t.difficulty for t in tasks)) == {"easy", "medium", "hard"}
    assert any("hostile" in t.tags for t in tasks) and any("dynamic" in t.tags for t in tasks)


def test_no_task_passes_on_the_untouched_suite():
    """A check that passes before the agent acts would prove nothing."""
    for task in load_tasks():
        state = SuiteState()
        task.apply_setup(state)
        assert not run_check(state, task.check, "").ok, task.id


def test_every_flight_spec_resolves_and_plans_expand():
    state = SuiteState()
    for task in load_tasks():
        for booking in task.check.get("bookings", []):
            assert resolve_flight(state, booking["flight"], booking.get("cabin", "economy"))
        assert expand(task.oracle), task.id


def test_tasks_that_pay_declare_the_card_secrets_and_the_card_is_valid():
    assert luhn_ok(SECRETS["card_number"])
    for task in load_tasks():
        pays = "card_number" in task.instruction
        assert pays == ("card_number" in task.secrets), task.id
        assert SECRETS["card_number"] not in json.dumps(task.oracle)


def test_cheapest_kettle_is_the_stovetop_one():
    kettles = [p for p in BY_SLUG.values() if "Kettle" in p.name]
    assert min(kettles, key=lambda p: p.price).slug == "stovetop-kettle"
    assert get_task("shop-cheapest-kettle").check["items"] == {"stovetop-kettle": 1}


@pytest.mark.parametrize("mutate, message", [
    (lambda t: t.update(site="bank"), "site 'bank'"),
    (lambda t: t.update(start="/shop/"), "must be a path under /flights/"),
    (lambda t: t.update(check={"kind": "vibes"}), "check kind 'vibes'"),
    (lambda t: t.update(colour="red"), "unknown field"),
    (lambda t: t.update(secrets=["pin"]), "unknown secret"),
    (lambda t: t.update(setup={"cart": {"unicorn": 1}}), "unknown products"),
    (lambda t: t.update(max_steps=0), "max_steps"),
])
def test_malformed_tasks_are_named(mutate, message):
    task = {"id": "t1", "site": "flights", "difficulty": "easy", "instruction": "x",
            "start": "/flights/", "max_steps": 5, "check": {"kind": "answer", "contains": ["x"]}}
    mutate(task)
    with pytest.raises(TaskError, match=message) as err:
        load_tasks(json.dumps({"tasks": [task]}))
    assert "'t1'" in str(err.value)


def test_duplicate_ids_and_unknown_task():
    task = {"id": "t1", "site": "forms", "difficulty": "easy", "instruction": "x",
            "start": "/forms/", "max_steps": 5, "check": {"kind": "answer", "contains": ["x"]}}
    with pytest.raises(TaskError, match="duplicate"):
        load_tasks(json.dumps({"tasks": [task, task]}))
    with pytest.raises(TaskError, match="no task 'nope'"):
        get_task("nope")
