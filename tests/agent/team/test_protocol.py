"""The verification protocol's state machine: every allowed transition, and the refused ones."""
import pytest

from llmos.agent.team.protocol import ALLOWED, ProtocolError, Redo, SubtaskProtocol, TaskState as S


def _walk(p: SubtaskProtocol):
    p.assign("w1")
    p.claim_done("booked")
    p.start_verify()


def test_scenario_1_verified_through_every_state():
    seen = []
    p = SubtaskProtocol("flight", on_transition=seen.append)
    _walk(p)
    p.verified("date and seat as asked")
    assert [(t.source, t.target) for t in seen] == [
        (S.NOT_DONE, S.ASSIGNED), (S.ASSIGNED, S.DONE), (S.DONE, S.VERIFY_DONE),
        (S.VERIFY_DONE, S.VERIFIED)]
    assert p.final and seen[0].worker == "w1" and seen[0].attempt == 1
    assert seen[0].record()["from"] == "not done" and seen[-1].record()["to"] == "verified"


def test_scenario_2_redo_goes_back_to_not_done_with_plan_context_feedback():
    seen = []
    p = SubtaskProtocol("flight", max_redos=1, on_transition=seen.append)
    _walk(p)
    redo = Redo("search again", "attempt 1 booked the 13th", ["date is 2025-06-13"], {"date": "2025-06-12"})
    p.redo(redo)
    assert p.state is S.NOT_DONE and p.redos == 1
    assert [t.target for t in seen[-2:]] == [S.REDO, S.NOT_DONE]
    assert seen[-2].data["corrections"] == {"date": "2025-06-12"}
    t = p.assign("w2")
    assert p.attempt == 2 and "date must be '2025-06-12'" in t.data["redo"] and "Plan: search again" in t.data["redo"]
    p.claim_done()
    p.start_verify()
    with pytest.raises(ProtocolError, match="used its 1 redo"):
        p.redo(redo)
    assert p.redo_limit_reached


def test_escalation_accept_retry_fail():
    for answer, final in (("accept", S.VERIFIED), ("retry", S.NOT_DONE), ("fail", S.FAILED)):
        p = SubtaskProtocol("x", max_redos=0)
        _walk(p)
        p.escalate("still wrong; accept?")
        assert p.state is S.ESCALATED
        {"accept": p.person_accepts, "retry": p.person_retries, "fail": p.fail}[answer]("because")
        assert p.state is final
    assert p.history[-1].target is S.FAILED


def test_worker_failure_and_dependency_failure():
    p = SubtaskProtocol("x")
    p.assign("w")
    p.fail("worker w hung")
    assert p.state is S.FAILED and p.reason == "worker w hung"
    q = SubtaskProtocol("y")
    q.fail("waits for x, which failed")
    assert q.state is S.FAILED


@pytest.mark.parametrize("src", list(S))
def test_every_disallowed_transition_is_refused(src):
    """No shortcut exists: in particular 'done' never becomes 'verified' without verification."""
    for target in S:
        if target in ALLOWED[src]:
            continue
        p = SubtaskProtocol("z")
        p.state = src
        with pytest.raises(ProtocolError, match=f"{src.value} -> {target.value} is not allowed"):
            p._move(target)
    assert S.VERIFIED not in ALLOWED[S.DONE] and S.VERIFIED not in ALLOWED[S.ASSIGNED]


def test_only_an_escalated_task_can_be_accepted_by_the_person():
    p = SubtaskProtocol("z")
    _walk(p)
    with pytest.raises(ProtocolError, match="only when escalated"):
        p.person_accepts()
