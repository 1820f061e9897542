"""Limits, loop detection and no-progress detection."""
import time

from llmos.agent.guards import CourseGuard, GuardConfig, Verdict


def test_same_action_on_same_state_nudges_then_fails():
    g = CourseGuard(GuardConfig(loop_repeats=3, max_nudges=1))
    assert [g.see_action("a", "s")[0] for _ in range(2)] == [Verdict.OK, Verdict.OK]
    verdict, note = g.see_action("a", "s")
    assert verdict is Verdict.NUDGE and "3 times" in note
    assert g.see_action("b", "s")[0] is Verdict.OK             # something else is fine
    assert g.see_action("a", "s")[0] is Verdict.FAIL


def test_same_action_on_changing_states_is_not_a_loop():
    g = CourseGuard(GuardConfig(loop_repeats=2))
    assert {g.see_action("next", f"page{i}")[0] for i in range(10)} == {Verdict.OK}


def test_alternating_cycle_is_caught_and_window_forgets():
    g = CourseGuard(GuardConfig(loop_repeats=3, max_nudges=0, loop_window=20))
    seq = [g.see_action(a, s)[0] for a, s in [("x", "A"), ("y", "B")] * 3]
    assert seq[-2:] == [Verdict.FAIL, Verdict.FAIL]
    g = CourseGuard(GuardConfig(loop_repeats=2, loop_window=3))
    seq = [g.see_action(a, "s")[0] for a in ["x", "p", "q", "r", "x"]]
    assert seq == [Verdict.OK] * 5                            # the first x left the window


def test_no_progress_nudges_then_fails():
    g = CourseGuard(GuardConfig(no_progress_steps=3, no_progress_grace=2))
    assert g.see_state("a")[0] is Verdict.OK
    assert [g.see_state("a")[0] for _ in range(3)] == [Verdict.OK, Verdict.OK, Verdict.NUDGE]
    assert g.see_state("a")[0] is Verdict.OK
    assert g.see_state("a")[0] is Verdict.FAIL
    g2 = CourseGuard(GuardConfig(no_progress_steps=3))
    assert {g2.see_state(f"s{i % 5}")[0] for i in range(5)} == {Verdict.OK}


def test_step_and_time_limits():
    g = CourseGuard(max_steps=3, max_seconds=60)
    assert g.limit_reached(2) is None
    assert "step limit" in g.limit_reached(3)
    g = CourseGuard(max_steps=100, max_seconds=0.01)
    time.sleep(0.02)
    assert "time limit" in g.limit_reached(0)
