"""The Python Action API: sessions by id, run, idle expiry, hooks, threads."""
import threading
import time

import pytest

from llmos.agent.backends import ScriptedBackend
from llmos.agent.hooks import AgentHooks
from llmos.agent.service import Agent, AgentConfig, SessionNotFound
from llmos.agent.views import StepStatus
from tests.agent.pages import page, serve_pages

pytestmark = pytest.mark.browser


class Recorder(AgentHooks):
    def __init__(self):
        self.events = []

    def on_session_start(self, session):
        self.events.append(("start", session.id))

    def before_model(self, session, context):
        self.events.append(("before_model", context.step))
        return context.model_copy(update={"notes": context.notes + ["remembered: likes green tea"]})

    def after_step(self, session, result, record):
        self.events.append(("step", result.status.value, "timings" in record))

    def on_session_end(self, session, result):
        self.events.append(("end", session.id, result.status.value if result else None))


@pytest.fixture(scope="module")
def site():
    s = serve_pages({"/": page("<h1>Home</h1><a href='/two'>Two</a>"), "/two": page("<h1>Two</h1>")})
    yield s
    s.close()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    hooks = Recorder()
    agent = Agent(ScriptedBackend(lambda r: {"type": "scroll"}),
                  AgentConfig(trace_dir=tmp_path_factory.mktemp("t"), idle_timeout_s=60), hooks=[hooks])
    yield agent, hooks
    agent.shutdown()


def test_sessions_are_listed_retrieved_and_closed(setup, site):
    agent, _ = setup
    a = agent.create("task a", url=site.url("/"))
    b = agent.create("task b")
    assert {a.id, b.id} <= {s.id for s in agent.list()}
    assert agent.retrieve(a.id).url == site.url("/") and agent.retrieve(b.id).url == "about:blank"
    agent.close(a.id)
    with pytest.raises(SessionNotFound, match="never created, was closed, or expired"):
        agent.retrieve(a.id)
    with pytest.raises(SessionNotFound):
        agent.step(a.id)
    with pytest.raises(ValueError, match="needs a task"):
        agent.create("  ")
    with pytest.raises(ValueError, match="cannot open the start url"):
        agent.create("x", url="javascript:alert(1)")


def test_run_steps_until_not_continue_or_max_steps(setup, site):
    agent, _ = setup
    sid = agent.create("t", url=site.url("/"), backend=ScriptedBackend(
        [{"type": "click", "element": 0}, {"type": "back"}, {"type": "done", "answer": "went and came back"}])).id
    r = agent.run(sid, max_steps=2)
    assert r.status is StepStatus.CONTINUE and r.step == 2 and r.url == site.url("/")
    r = agent.run(sid)
    assert (r.status, r.message, r.step) == (StepStatus.DONE, "went and came back", 3)
    assert agent.retrieve(sid).status is StepStatus.DONE


def test_idle_sessions_expire(setup, site):
    agent, hooks = setup
    sid = agent.create("t", url=site.url("/")).id
    agent._sessions[sid].last_active = time.time() - 61          # as if idle for a minute
    assert agent.expire_idle() == [sid]
    with pytest.raises(SessionNotFound):
        agent.retrieve(sid)
    assert hooks.events[-1] == ("end", sid, None)                 # ended without a result


def test_hooks_see_every_stage_and_can_add_context(setup, site):
    agent, hooks = setup
    backend = ScriptedBackend([{"type": "done", "answer": "ok"}])
    seen = len(hooks.events)            # the module's other tests used the same hooks before
    sid = agent.create("t", url=site.url("/"), backend=backend).id
    agent.step(sid)
    assert hooks.events[seen:] == [("start", sid), ("before_model", 1), ("step", "DONE", True),
                                   ("end", sid, "DONE")]
    assert "remembered: likes green tea" in backend.calls[0].messages[1].content


def test_calls_from_many_threads_are_serialised_onto_the_browser_thread(setup, site):
    agent, _ = setup
    ids = [agent.create(f"t{i}", url=site.url("/")).id for i in range(3)]
    results, errors = [], []

    def work(sid):
        try:
            results.append(agent.step(sid).status)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
    threads = [threading.Thread(target=work, args=(sid,)) for sid in ids]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert not errors and results == [StepStatus.CONTINUE] * 3
    assert [agent.retrieve(sid).steps for sid in ids] == [1, 1, 1]     # each session stepped once


def test_shut_down_agent_refuses_calls(tmp_path):
    agent = Agent(ScriptedBackend([]), AgentConfig(trace_dir=tmp_path))
    agent.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        agent.create("x")
