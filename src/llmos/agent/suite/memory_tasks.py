"""Suite tasks that span sessions: the last session needs what earlier ones left in memory.

    report = run_memory_suite(memory=True)    # the oracle solves every task through memory_search
    report = run_memory_suite(memory=False)   # the same oracle, memory off: every task fails

A memory task (`memory_tasks.json`) is a suite task plus `earlier`: sessions in
which the person said something (run as real agent sessions, so the memory
hooks capture their words as typed preferences) or made a choice among options
(recorded through the memory API, as the shop's order history would give it).
Each task gets a fresh memory folder, so nothing carries from one task to
another. The oracle's `recall` steps search memory with the memory_search
action and fill the plan from what they find; with memory off they find
nothing, and the oracle gives up rather than guess.
"""
from __future__ import annotations

import json
import tempfile
from importlib import resources
from pathlib import Path

from llmos.agent.backends import ScriptedBackend
from llmos.agent.suite.bench import SuiteReport, TaskRun, oracle_backend, run_task
from llmos.agent.suite.server import SuiteServer
from llmos.agent.suite.tasks import Task, TaskError, _validate
from llmos.agent.views import DoneAction, SessionOptions

PERSON = "suite-person"


def load_memory_tasks(text: str | None = None) -> list[tuple[Task, list[dict]]]:
    """(task, earlier sessions) for every memory task, validated like the suite's own tasks."""
    if text is None:
        text = resources.files("llmos.agent.suite").joinpath("memory_tasks.json").read_text()
    out = []
    for raw in json.loads(text)["tasks"]:
        raw = dict(raw)
        earlier = raw.pop("earlier", [])
        where = f"memory task {raw.get('id')!r}"
        for e in earlier:
            if not ({"said"} == set(e) or {"chose", "options", "chosen"} == set(e)):
                raise TaskError(f"{where}: an earlier session is {{said}} or {{chose, options, chosen}}, not {e}")
        out.append((_validate(raw, where), earlier))
    return out


def play_earlier(agent, suite: SuiteServer, earlier: list[dict], memory) -> None:
    """Live through the earlier sessions: words via real sessions, choices via the memory API."""
    said_done = ScriptedBackend(lambda _req: DoneAction(answer="noted"), name="earlier")
    for n, e in enumerate(earlier):
        if "said" in e:
            info = agent.create(e["said"], url=suite.url("/"), backend=said_done,
                                options=SessionOptions(person=PERSON, max_steps=2))
            agent.run(info.id)
            agent.close(info.id)
        elif memory is not None:
            memory.record_choice(e["chose"], [{"item": o} for o in e["options"]], e["chosen"],
                                 session=f"earlier-{n}")


def run_memory_suite(memory: bool = True, embedder=None, agent_config=None,
                     tasks: list[tuple[Task, list[dict]]] | None = None,
                     max_seconds: float = 300.0) -> SuiteReport:
    """Run the memory tasks with the oracle, memory on or off; judged by the tasks' checks."""
    from llmos.agent.memory.embedder import default_embedder
    from llmos.agent.memory.hooks import MemoryBank, MemoryHooks
    from llmos.agent.service import Agent, AgentConfig

    tasks = load_memory_tasks() if tasks is None else tasks
    report = SuiteReport(backend=f"oracle, memory {'on' if memory else 'off'}")
    embedder = embedder or default_embedder()
    with tempfile.TemporaryDirectory(prefix="llmos-memsuite-") as tmp, SuiteServer() as suite:
        config = agent_config or AgentConfig(trace_dir=Path(tmp) / "traces")
        hooks = MemoryHooks(MemoryBank(Path(tmp) / "none", embedder))
        with Agent(None, config, hooks=[hooks] if memory else []) as agent:
            for task, earlier in tasks:
                hooks.bank = MemoryBank(Path(tmp) / task.id, embedder)   # a fresh memory per task
                play_earlier(agent, suite, earlier, hooks.bank.memory(PERSON) if memory else None)
                report.runs.append(run_task(agent, suite, task, oracle_backend(task), max_seconds,
                                            person=PERSON))
                hooks.bank.close()
    return report


__all__ = ["load_memory_tasks", "run_memory_suite", "play_earlier", "TaskRun"]
