"""Workers' shared pieces: the assignment text a redo makes, and the person relay."""
import threading
import time

from llmos.agent.team.plan import Subtask
from llmos.agent.team.protocol import Redo
from llmos.agent.team.spec import FieldCondition, Spec
from llmos.agent.team.worker import Assignment, person_relay
from llmos.agent.views import StepResult, StepStatus, UserCommand


def test_a_redo_assignment_carries_plan_context_feedback_and_corrections():
    sub = Subtask(id="f", instruction="Book the flight.", spec=Spec(conditions=[
        FieldCondition(source="answer", op="contains", value="x")]))
    a = Assignment(sub, 2, Redo("search again", "attempt 1 booked the 13th", ["date is wrong"], {"date": "2025-06-12"}))
    assert a.text.startswith("Book the flight.\n\nRe-do this task. Plan: search again")
    assert "- date is wrong" in a.text and "date must be '2025-06-12'" in a.text
    assert Assignment(sub, 1, instruction="Replanned.").text == "Replanned."


def test_the_person_hears_one_worker_at_a_time():
    inside, overlaps = [], []

    def person(worker, subtask, step):
        if inside:
            overlaps.append(worker)
        inside.append(worker)
        time.sleep(0.05)
        inside.pop()
        return UserCommand(kind="approve")
    ask = person_relay(person)
    step = StepResult(session_id="s", step=1, status=StepStatus.ASK_USER, message="approve?")
    threads = [threading.Thread(target=ask, args=(f"w{i}", "t", step)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == []
