"""llmos.agent.team: a manager and workers that check each other's work.

    plan = Plan(task="plan my trip", subtasks=[Subtask(id="flight", instruction=..., spec=Spec(...)), ...])
    result = Manager([LocalWorker("w1", ...), LocalWorker("w2", ...)], records=reader).run(plan)
    print(result.summary())           # honest: which subtasks were verified, which failed and why

Modules: `protocol` (the state machine: not done -> assigned -> done -> verify
done -> verified | redo -> not done; escalation), `spec` (required specs and
their verification: programs first, a verifier model for the rest), `plan`
(the subtask DAG, model planning and replanning), `ledger` (the progress
ledger), `worker` (local, scripted; `llmos.agent.a2a` adds remote ones),
`manager` (parallel dispatch, verification, redo, faults), `trace_view` (a
team run in `llmos agent trace`), `cli` (`llmos agent team`). The suite's
composite trip errand, with injected faults, is `llmos.agent.suite.errand`.
"""
from importlib import import_module

_EXPORTS = {
    "TaskState": "llmos.agent.team.protocol", "SubtaskProtocol": "llmos.agent.team.protocol",
    "ProtocolError": "llmos.agent.team.protocol", "Redo": "llmos.agent.team.protocol",
    "Spec": "llmos.agent.team.spec", "FieldCondition": "llmos.agent.team.spec",
    "JudgedCondition": "llmos.agent.team.spec", "Verifier": "llmos.agent.team.spec",
    "ModelJudge": "llmos.agent.team.spec", "Plan": "llmos.agent.team.plan",
    "Subtask": "llmos.agent.team.plan", "ModelPlanner": "llmos.agent.team.plan",
    "Manager": "llmos.agent.team.manager", "TeamConfig": "llmos.agent.team.manager",
    "TeamResult": "llmos.agent.team.manager", "LocalWorker": "llmos.agent.team.worker",
    "ScriptedWorker": "llmos.agent.team.worker", "WorkerReport": "llmos.agent.team.worker",
    "Assignment": "llmos.agent.team.worker", "ProgressLedger": "llmos.agent.team.ledger",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'llmos.agent.team' has no attribute {name!r}")


__all__ = list(_EXPORTS)
