"""The progress ledger: satisfied, in a loop, progress, next instruction; replan after stalled rounds."""
from llmos.agent.team.ledger import ProgressLedger


def test_a_workers_loop_detector_marks_the_round_as_a_loop():
    ledger = ProgressLedger(stall_limit=2)
    e = ledger.update({"a": "not done"}, {}, {"a": 2}, "wait for a")
    assert e.in_loop and not e.progress and not e.satisfied and e.stalled_rounds == 1


def test_stalled_rounds_trigger_a_replan_and_progress_resets_the_count():
    ledger = ProgressLedger(stall_limit=2)
    first = ledger.update({"a": "not done"}, {"a": ["date wrong"]}, {}, "redo a")
    assert first.progress and not first.in_loop and not first.replan       # a new failure is news
    again = ledger.update({"a": "not done"}, {"a": ["date wrong"]}, {}, "redo a")
    assert again.in_loop and not again.progress and again.stalled_rounds == 1 and not again.replan
    third = ledger.update({"a": "not done"}, {"a": ["date wrong"]}, {}, "redo a")
    assert third.replan                                                     # 2 stalled rounds
    done = ledger.update({"a": "verified"}, {}, {}, "report")
    assert done.satisfied and done.progress and done.next_instruction == "the request is satisfied"
    assert [e.round for e in ledger.entries] == [1, 2, 3, 4] and done.record()["kind"] == "ledger"
