"""Failure kinds of the policy bench and its report."""
from __future__ import annotations

from types import SimpleNamespace

from llmos.agent.learn.bench import PolicyReport, PolicyRun, failure_kind, format_policy_report
from llmos.agent.learn.rollouts import Rollout


def run(status="FAILED", message=""):
    return SimpleNamespace(status=status, message=message)


def rollout(action, oracle):
    return Rollout("t", False, [{"prompt": "", "action": {"type": "click", "element": 1}, "oracle":
                                 {"type": "click", "element": 1}, "in_sync": True},
                                {"prompt": "", "action": action, "oracle": oracle, "in_sync": True}], diverged_at=1)


def test_the_guards_and_limits_name_their_failures():
    assert failure_kind(run(message="loop: the same action on the same page state 3 times"), None) == "loop"
    assert failure_kind(run(message="no progress: 12 steps without reaching a new page state"), None) == "loop"
    assert failure_kind(run(message="step limit reached (8 steps) without finishing the task"), None) == "step limit"
    assert failure_kind(run(status="ASK_USER", message="which seat?"), None) == "gave up"
    assert failure_kind(run(message="the agent gave up: not on this site"), None) == "gave up"


def test_the_first_step_off_the_plan_says_wrong_element_or_wrong_value():
    want = {"type": "type", "element": 4, "text": "Lovelace"}
    assert failure_kind(run(status="DONE"), rollout({"type": "type", "element": 4, "text": "Lovelac"}, want)) \
        == "wrong value"
    assert failure_kind(run(status="DONE"), rollout({"type": "type", "element": 5, "text": "Lovelace"}, want)) \
        == "wrong element"
    assert failure_kind(run(status="DONE"), rollout({"type": "click", "element": 4}, want)) == "wrong element"
    assert failure_kind(run(), rollout(None, want)) == "gave up"
    assert failure_kind(run(status="DONE"), None) == "other"


def test_report_groups_success_by_site_difficulty_and_template_and_counts_failures():
    rep = PolicyReport("p", "held_out_values", [
        PolicyRun("a", "shop-add", "shop", "easy", True, 4, "DONE"),
        PolicyRun("b", "shop-add", "shop", "easy", False, 8, "FAILED", "loop"),
        PolicyRun("c", "forms-support", "forms", "medium", False, 6, "DONE", "wrong value")])
    s = rep.summary()
    assert s["success_rate"] == round(1 / 3, 4) and s["mean_steps"] == 6
    assert s["by_site"] == {"forms": 0.0, "shop": 0.5} and s["by_difficulty"] == {"easy": 0.5, "medium": 0.0}
    assert s["failures"] == {"loop": 1, "wrong value": 1}
    text = format_policy_report([rep])
    assert "33.3% of 3" in text and "failures: loop 1, wrong value 1" in text
