"""Tasks that span sessions: the oracle solves them through memory, and fails them with memory off."""
from __future__ import annotations

import os

import pytest

from llmos.agent.memory import HashEmbedder
from llmos.agent.suite.bench import format_report
from llmos.agent.suite.memory_tasks import load_memory_tasks, run_memory_suite
from llmos.agent.suite.tasks import TaskError

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.access("/usr/bin/chromium", os.X_OK),
                                 reason="Chromium is not installed at /usr/bin/chromium")]


def test_memory_tasks_are_valid_and_each_needs_an_earlier_session():
    tasks = load_memory_tasks()
    assert {t.id for t, _ in tasks} == {"memory-flight-preferences", "memory-usual-coffee",
                                        "memory-changed-address"}
    assert all(earlier and any("recall" in step for step in t.oracle) for t, earlier in tasks)
    with pytest.raises(TaskError, match="earlier session"):
        load_memory_tasks('{"tasks": [{"id": "x", "earlier": [{"told": 1}]}]}')


def test_the_oracle_solves_every_memory_task_with_memory_on_and_none_with_it_off(tmp_path):
    from llmos.agent.service import AgentConfig

    on = run_memory_suite(memory=True, embedder=HashEmbedder(128),
                          agent_config=AgentConfig(trace_dir=tmp_path / "on"))
    assert [r.success for r in on.runs] == [True, True, True], format_report(on)
    off = run_memory_suite(memory=False, embedder=HashEmbedder(128),
                           agent_config=AgentConfig(trace_dir=tmp_path / "off"))
    assert [r.success for r in off.runs] == [False, False, False], format_report(off)
    assert all("memory is off" in r.message for r in off.runs)
    # the booking's steps say which stated preferences they applied
    traces = "".join(p.read_text() for p in (tmp_path / "on").glob("*/trace.jsonl"))
    assert "applied preference" in traces and "prefers aisle seats" in traces and "diet: vegetarian" in traces
    assert "4242 4242 4242 4242" not in traces
