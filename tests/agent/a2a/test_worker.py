"""The manager hires a remote A2A agent by URL: its claims are verified, its questions reach the person."""
import pytest

from llmos.agent.a2a.worker import RemoteWorker
from llmos.agent.team.manager import Manager, TeamConfig
from llmos.agent.team.plan import Plan, Subtask
from llmos.agent.team.spec import FieldCondition, Spec
from llmos.agent.team.worker import ScriptedWorker, WorkerReport
from llmos.agent.views import UserCommand
from tests.agent.a2a.conftest import free_port

pytestmark = pytest.mark.browser


def answer_spec(text):
    return Spec(conditions=[FieldCondition(source="answer", op="contains", value=text)])


def test_remote_worker_does_a_subtask_and_its_question_reaches_the_person(a2a_url, tmp_path):
    asked = []

    def person(worker, subtask, step):
        asked.append((worker, subtask, step.message))
        return UserCommand(kind="reply", text="window")
    plan = Plan(task="two remote jobs", subtasks=[
        Subtask(id="greet", instruction="say hello", spec=answer_spec("hello")),
        Subtask(id="seat", instruction="ask the person about the seat", spec=answer_spec("window"))])
    result = Manager([RemoteWorker("far", a2a_url)], config=TeamConfig(trace_dir=tmp_path),
                     ask_person=person).run(plan)
    assert result.ok, result.summary()
    assert asked == [("far", "seat", "Which seat do you want, aisle or window?")]
    assert result.subtasks["seat"].answer == "seat chosen: window"


def test_a_remote_worker_that_is_gone_fails_its_subtask_and_the_rest_go_on(tmp_path):
    gone = RemoteWorker("gone", f"http://127.0.0.1:{free_port()}", timeout_s=20)
    local = ScriptedWorker("here", lambda a, ask: WorkerReport(done=True, answer="hello"))
    plan = Plan(task="t", subtasks=[Subtask(id="far", instruction="x", worker="gone", spec=answer_spec("x")),
                                    Subtask(id="near", instruction="y", worker="here", spec=answer_spec("hello"))])
    result = Manager([gone, local], config=TeamConfig(trace_dir=tmp_path)).run(plan)
    assert result.subtasks["near"].state == "verified"
    assert result.subtasks["far"].state == "failed" and "went away" in result.subtasks["far"].reason
    assert not result.ok and "NOT complete" in result.summary()
