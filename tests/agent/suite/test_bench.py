"""The suite through the agent's Action API: the oracle solves every task; a looping policy fails."""
from __future__ import annotations

import dataclasses
import os

import pytest

from llmos.agent.backends import ScriptedBackend
from llmos.agent.suite.bench import format_report, oracle_backend, run_suite, run_task
from llmos.agent.suite.server import SuiteServer
from llmos.agent.suite.tasks import get_task, load_tasks
from llmos.agent.views import ClickAction

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.access("/usr/bin/chromium", os.X_OK),
                                 reason="Chromium is not installed at /usr/bin/chromium")]


def test_scripted_oracle_solves_every_task_through_the_action_api(tmp_path):
    from llmos.agent.service import AgentConfig

    tasks = load_tasks()
    report = run_suite(oracle_backend, tasks, AgentConfig(trace_dir=tmp_path), progress=False)
    failed = [(r.task, r.status, r.reason) for r in report.runs if not r.success]
    assert failed == [], format_report(report)
    assert len(report.runs) == len(tasks) >= 30 and report.success_rate == 1.0
    assert all(r.status == "DONE" and 0 < r.steps <= get_task(r.task, tasks).max_steps
               for r in report.runs)
    summary = report.summary()
    assert summary["by_site"] == {"flights": 1.0, "forms": 1.0, "shop": 1.0}
    # Each session left a trace, and no trace holds the card number typed from a secret.
    traces = list(tmp_path.glob("*/trace.jsonl"))
    assert len(traces) == len(tasks)
    assert not any("4242 4242 4242 4242" in t.read_text() for t in traces)


def test_a_policy_that_repeats_itself_is_stopped_by_loop_detection(tmp_path):
    """Clicking "Search" on the same page forever must end FAILED, well before the step limit."""
    from llmos.agent.service import Agent, AgentConfig

    task = get_task("shop-price-question")
    task = dataclasses.replace(task, max_steps=30)

    def stubborn(request):
        search = next(e for e in request.context.observation.elements if e.label == "Search")
        return ClickAction(element=search.index)

    with SuiteServer() as suite, Agent(None, AgentConfig(trace_dir=tmp_path)) as agent:
        run = run_task(agent, suite, task, ScriptedBackend(stubborn))
    assert run.status == "FAILED" and not run.success
    assert "loop" in run.message.lower() or "repeat" in run.message.lower(), run.message
    assert run.steps < 10
