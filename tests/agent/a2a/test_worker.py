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


def test_a_remote_worker_that_dies_mid_task_fails_its_subtask(tmp_path):
    """A second server process, killed while its worker streams a long task."""
    import subprocess
    import sys
    import threading
    import time

    import httpx

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.agent.a2a.app", str(port), str(tmp_path / "t")])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                httpx.get(url + "/.well-known/agent-card.json", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline, "the A2A server did not start"
                time.sleep(0.2)
        worker = RemoteWorker("doomed", url, timeout_s=120)
        seen_steps = threading.Event()
        original = worker._stream

        async def stream_and_watch(client, message, report):   # kill the server once steps are flowing
            threading.Thread(target=lambda: (seen_steps.wait(60), proc.kill()), daemon=True).start()
            return await original(client, message, _Watched(report, seen_steps))
        worker._stream = stream_and_watch
        plan = Plan(task="t", subtasks=[Subtask(id="long", instruction="slow job", spec=answer_spec("x"))])
        result = Manager([worker], config=TeamConfig(trace_dir=tmp_path)).run(plan)
    finally:
        proc.kill()
        proc.wait(10)
    r = result.subtasks["long"]
    assert seen_steps.is_set() and r.state == "failed" and "went away" in r.reason, r.reason


class _Watched:
    """A report that signals when the remote task's first WORKING steps arrive."""

    def __init__(self, report, event):
        self.__dict__["_r"], self.__dict__["_e"] = report, event

    def __getattr__(self, name):
        return getattr(self._r, name)

    def __setattr__(self, name, value):
        setattr(self._r, name, value)
        if name == "steps" and value >= 2:
            self._e.set()
