"""The manager: runs a plan's DAG with parallel workers, verifies every claim, redoes, escalates.

    plan -> ready subtasks (dependencies verified) -> free workers, at once
    worker report -> done? -> VERIFY_DONE: spec checked (programs, verifier model)
                 -> VERIFIED | REDO with feedback (back to NOT_DONE) | past the limit: ASK_USER or FAILED
    every round -> progress ledger; after N stalled rounds -> replan the stuck subtasks

A worker that crashes (raises), hangs (no report within `worker_timeout_s`)
or goes away (a remote worker's connection fails) leaves its subtask FAILED
with the reason; the other subtasks go on, and the result says honestly which
parts were done and which were not. Subtasks that wait on a failed one fail too.
"""
from __future__ import annotations

import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from llmos.agent.team.ledger import ProgressLedger
from llmos.agent.team.plan import Plan, RulePlanner
from llmos.agent.team.protocol import Redo, SubtaskProtocol, TaskState, Transition
from llmos.agent.team.spec import Evidence, Verifier
from llmos.agent.team.worker import AskPerson, Assignment, Worker, WorkerReport
from llmos.agent.trace import Tracer
from llmos.agent.views import StepResult, StepStatus, UserCommand
from llmos.config import require, require_at_least, require_choice


@dataclass
class TeamConfig:
    max_redos: int = 2                        # redo rounds per subtask before the limit
    on_redo_limit: Literal["ask", "fail"] = "ask"
    worker_timeout_s: float = 600.0           # no report in this long: the worker hung
    stall_limit: int = 2                      # stalled ledger rounds before a replan
    parallel: bool = True                     # False: one subtask at a time (the serial baseline)
    trace_dir: Path = Path("runs/agent")

    def __post_init__(self) -> None:
        require_at_least(self, 0, "max_redos")
        require_at_least(self, 1, "stall_limit")
        require(self.worker_timeout_s > 0, "worker_timeout_s", "> 0", self.worker_timeout_s)
        require_choice(self, "on_redo_limit")


class RecordReader(Protocol):
    """Reads what the sites themselves say, so the manager need not believe the worker."""

    def snapshot(self) -> Any: ...

    def new_records(self, before: Any) -> dict[str, dict | None]: ...


@dataclass
class SubtaskResult:
    id: str
    state: str
    reason: str
    worker: str
    attempts: int
    redos: int
    answer: str = ""
    feedback: list[str] = field(default_factory=list)


@dataclass
class TeamResult:
    team: str
    task: str
    subtasks: dict[str, SubtaskResult]
    seconds: float
    trace: str

    @property
    def ok(self) -> bool:
        return all(r.state == TaskState.VERIFIED.value for r in self.subtasks.values())

    def summary(self) -> str:
        done = [r for r in self.subtasks.values() if r.state == TaskState.VERIFIED.value]
        lines = [f"{len(done)} of {len(self.subtasks)} subtasks verified"
                 + ("" if self.ok else " — the task is NOT complete")]
        for r in self.subtasks.values():
            lines.append(f"  {r.id}: {r.state} by {r.worker or '-'} after {r.attempts} attempt(s): {r.reason}")
        return "\n".join(lines)


def _default_person(worker: str, subtask: str, step: StepResult) -> UserCommand:
    """With no person attached, nothing is approved on their behalf."""
    return UserCommand(kind="abort", text="no person is attached to this team run")


class Manager:
    def __init__(self, workers: list[Worker], verifier: Verifier | None = None,
                 config: TeamConfig | None = None, records: RecordReader | None = None,
                 ask_person: AskPerson | None = None, planner=None):
        if not workers:
            raise ValueError("a team needs at least one worker")
        names = [w.name for w in workers]
        if len(set(names)) != len(names):
            raise ValueError(f"worker names must be unique: {names}")
        self.workers = {w.name: w for w in workers}
        self.verifier = verifier or Verifier()
        self.config = config or TeamConfig()
        self.records = records
        self.ask_person = ask_person or _default_person
        self.planner = planner or RulePlanner()

    # ------------------------------------------------------------------ the run

    def run(self, plan: Plan) -> TeamResult:
        cfg = self.config
        team = "team-" + uuid.uuid4().hex[:10]
        tracer = Tracer(Path(cfg.trace_dir) / team)
        t0 = time.perf_counter()
        tracer.write({"kind": "team", "team": team, "input": plan.task, "workers": list(self.workers),
                      "parallel": cfg.parallel, "max_redos": cfg.max_redos,
                      "subtasks": [s.model_dump(mode="json") for s in plan.subtasks]})
        emit = lambda t: tracer.write(t.record())  # noqa: E731
        protos = {s.id: SubtaskProtocol(s.id, cfg.max_redos, emit) for s in plan.subtasks}
        instructions = {s.id: s.instruction for s in plan.subtasks}
        feedback: dict[str, list[str]] = {s.id: [] for s in plan.subtasks}
        answers: dict[str, str] = {}
        ledger = ProgressLedger(cfg.stall_limit)
        free = list(self.workers)
        lost: set[str] = set()
        running: dict[Future, tuple[str, str, float, Any]] = {}  # future -> (subtask, worker, deadline, before)
        pool = ThreadPoolExecutor(len(self.workers) if cfg.parallel else 1, thread_name_prefix="llmos-team")
        try:
            while not all(p.final for p in protos.values()):
                self._dispatch(plan, protos, instructions, free, lost, running, pool)
                if not running:
                    if not all(p.final for p in protos.values()):  # nothing can run: no live worker
                        for p in protos.values():
                            if not p.final:
                                p.fail("no live worker could take it: " + (", ".join(sorted(lost)) + " lost"
                                                                            if lost else "none matched"))
                    break
                now = time.monotonic()
                timeout = max(0.0, min(d for _, _, d, _ in running.values()) - now)
                done, _ = wait(list(running), timeout=timeout, return_when=FIRST_COMPLETED)
                failures: dict[str, list[str]] = {}
                loops: dict[str, int] = {}
                if not done:  # a deadline passed: that worker hung
                    for fut, (sid, wname, deadline, _) in list(running.items()):
                        if time.monotonic() >= deadline:
                            del running[fut]
                            lost.add(wname)
                            protos[sid].fail(f"worker {wname} hung: no report within "
                                             f"{cfg.worker_timeout_s:g} s")
                for fut in done:
                    sid, wname, _, before = running.pop(fut)
                    if wname not in lost:
                        free.append(wname)
                    report, error = None, None
                    try:
                        report = fut.result()
                    except Exception as e:  # the worker crashed or went away
                        error = f"{type(e).__name__}: {e}"
                    failures[sid], loops[sid] = self._settle(plan, protos[sid], wname, report, error,
                                                             before, tracer, answers)
                    feedback[sid] += failures[sid]
                self._ledger_round(plan, protos, ledger, failures, loops, feedback, instructions, tracer)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        results = {sid: SubtaskResult(sid, p.state.value, p.reason, p.worker, p.attempt, p.redos,
                                      answers.get(sid, ""), feedback[sid]) for sid, p in protos.items()}
        out = TeamResult(team, plan.task, results, round(time.perf_counter() - t0, 3), str(tracer.path))
        tracer.write({"kind": "result", "team": team, "ok": out.ok, "seconds": out.seconds,
                      "summary": out.summary(), "subtasks": {k: v.__dict__ for k, v in results.items()}})
        return out

    # ------------------------------------------------------------------ steps of a round

    def _dispatch(self, plan, protos, instructions, free, lost, running, pool) -> None:
        for sid in plan.order():
            p = protos[sid]
            if p.state is not TaskState.NOT_DONE or any(r[0] == sid for r in running.values()):
                continue
            deps = [protos[d] for d in plan.get(sid).after]
            if bad := [d.subtask for d in deps if d.state is TaskState.FAILED]:
                p.fail(f"it waits for {', '.join(bad)}, which failed")
                continue
            if any(d.state is not TaskState.VERIFIED for d in deps):
                continue
            want = plan.get(sid).worker
            if want is not None and want not in self.workers:
                p.fail(f"no worker named {want!r} in the team ({', '.join(self.workers)})")
                continue
            choice = next((w for w in free if want is None or w == want), None)
            if choice is None:
                continue
            free.remove(choice)
            p.assign(choice)
            assignment = Assignment(plan.get(sid), p.attempt, p.last_redo, instructions[sid])
            before = self.records.snapshot() if self.records else None
            fut = pool.submit(self.workers[choice].run, assignment, self.ask_person)
            running[fut] = (sid, choice, time.monotonic() + self.config.worker_timeout_s, before)

    def _settle(self, plan, p: SubtaskProtocol, wname: str, report: WorkerReport | None,
                error: str | None, before, tracer: Tracer, answers: dict) -> tuple[list[str], int]:
        """A worker came back: fail it, or verify its claim; returns (feedback, loop signals)."""
        if error is not None:
            p.fail(f"worker {wname} crashed or went away: {error}")
            return [], 0
        assert report is not None
        answers[p.subtask] = report.answer
        if not report.done:
            p.fail(f"worker {wname} could not do it: {report.answer}")
            return [], report.loop_signals
        p.claim_done(report.answer, session=report.session, trace=report.trace, steps=report.steps,
                     asks=report.asks)
        p.start_verify()
        records = self.records.new_records(before) if self.records else {}
        evidence = Evidence(report.answer, report.page_text, report.url, report.claimed, records)
        verdict = self.verifier.verify(plan.get(p.subtask).spec, evidence)
        tracer.write({"kind": "verify", "subtask": p.subtask, "attempt": p.attempt, "worker": wname,
                      "ok": verdict.ok, "results": verdict.record(), "records": records})
        if verdict.ok:
            p.verified("every condition of the spec holds: "
                       + "; ".join(r.reason for r in verdict.results)[:400])
            return [], report.loop_signals
        fb = [f"{r.condition}: {r.reason}" for r in verdict.failures]
        if not p.redo_limit_reached:
            p.redo(Redo(plan=f"do the subtask again from {plan.get(p.subtask).start_url or 'the start'}, "
                             "fixing what the check found",
                        context=f"attempt {p.attempt} by {wname} ended at {report.url}; its answer: "
                                f"{report.answer[:200]}",
                        feedback=fb, corrections=verdict.corrections))
            return fb, report.loop_signals
        self._limit(p, fb)
        return fb, report.loop_signals

    def _limit(self, p: SubtaskProtocol, fb: list[str]) -> None:
        if self.config.on_redo_limit == "fail":
            p.fail(f"still wrong after {p.redos} redo(s): " + "; ".join(fb))
            return
        question = (f"Subtask {p.subtask!r} is still wrong after {p.redos} redo(s): {'; '.join(fb)}. "
                    "Reply 'accept' to take it as it is, 'retry' for another round, or anything else to fail it.")
        p.escalate(question)
        cmd = self.ask_person("manager", p.subtask,
                              StepResult(session_id=p.subtask, step=p.attempt, status=StepStatus.ASK_USER,
                                         message=question))
        answer = (cmd.text or cmd.kind).strip().lower()
        if cmd.kind != "abort" and answer.startswith("accept"):
            p.person_accepts(f"the person accepted it unverified: {'; '.join(fb)}"[:400])
        elif cmd.kind != "abort" and answer.startswith("retry"):
            p.person_retries(cmd.text)
        else:
            p.fail(f"escalated to the person, who did not accept it ({cmd.kind} {cmd.text!r}): " + "; ".join(fb))

    def _ledger_round(self, plan, protos, ledger, failures, loops, feedback, instructions, tracer) -> None:
        states = {sid: p.state.value for sid, p in protos.items()}
        pending = [sid for sid, p in protos.items() if not p.final]
        nxt = ("redo " + ", ".join(s for s in failures if failures[s]) if any(failures.values())
               else f"wait for {', '.join(pending)}" if pending else "report the result")
        entry = ledger.update(states, failures, loops, nxt)
        tracer.write(entry.record())
        if entry.replan:
            for sid, p in protos.items():
                if p.state is TaskState.NOT_DONE and feedback[sid]:
                    instructions[sid] = self.planner.replan(plan.get(sid), feedback[sid])
                    tracer.write({"kind": "replan", "subtask": sid, "instruction": instructions[sid]})


__all__ = ["Manager", "TeamConfig", "TeamResult", "SubtaskResult", "RecordReader", "Transition"]
