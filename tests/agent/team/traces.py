"""A finished team run's trace, for the team trace-view and CLI tests (not a test module)."""
from llmos.agent.team.manager import Manager, TeamConfig
from llmos.agent.team.plan import Plan, Subtask
from llmos.agent.team.spec import FieldCondition, Spec
from llmos.agent.team.worker import ScriptedWorker, WorkerReport


def team_trace(tmp_path):
    def work(a, ask):
        return WorkerReport(done=True, answer="seat 12C" if a.redo else "seat 12A", session="s9", steps=7)
    sub = Subtask(id="flight", instruction="book", spec=Spec(conditions=[
        FieldCondition(source="answer", op="contains", value="12C", about="seat")]))
    result = Manager([ScriptedWorker("alice", work)], config=TeamConfig(trace_dir=tmp_path)).run(
        Plan(task="plan my <trip>", subtasks=[sub]))
    return result.trace
