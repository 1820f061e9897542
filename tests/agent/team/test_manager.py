"""The manager with scripted workers: DAG order, parallelism, verification, redo, escalation, faults."""
import threading
import time

import pytest

from llmos.agent.backends import ScriptedBackend
from llmos.agent.team.manager import Manager, TeamConfig
from llmos.agent.team.plan import Plan, Subtask
from llmos.agent.team.spec import FieldCondition, JudgedCondition, ModelJudge, Spec, Verifier
from llmos.agent.team.worker import ScriptedWorker, WorkerReport
from llmos.agent.trace import read_trace
from llmos.agent.views import StepResult, StepStatus, UserCommand


class Site:
    """A stand-in for the suite's sites: workers add records, the manager reads new ones itself."""

    def __init__(self):
        self.records: list[tuple[str, dict]] = []
        self.lock = threading.Lock()

    def add(self, name, **fields):
        with self.lock:
            self.records.append((name, fields))

    def snapshot(self):
        return len(self.records)

    def new_records(self, before):
        out = {}
        for name, rec in self.records[before:]:
            out[name] = rec
        return out


def field_spec(name, **want):
    return Spec(conditions=[FieldCondition(source=f"record:{name}", field=k, value=v) for k, v in want.items()])


def booker(site, wrong_first=None, delay=0.0):
    """Books a flight; its first attempt may get one field wrong; a redo applies the corrections."""
    def run(a, ask):
        time.sleep(delay)
        fields = dict(a.subtask.params)
        if a.attempt == 1 and wrong_first:
            fields.update(wrong_first)
        if a.redo:
            fields.update(a.redo.corrections)
        site.add("booking", **fields)
        return WorkerReport(done=True, answer=f"booked {fields}")
    return run


def plan_of(*subtasks):
    return Plan(task="trip", subtasks=list(subtasks))


def test_redo_fixes_a_wrong_field_and_the_trace_has_the_feedback(tmp_path):
    site = Site()
    w = ScriptedWorker("w1", booker(site, wrong_first={"date": "2025-06-13"}))
    sub = Subtask(id="flight", instruction="book it", params={"date": "2025-06-12", "seat": "aisle"},
                  spec=field_spec("booking", date="2025-06-12", seat="aisle"))
    result = Manager([w], config=TeamConfig(trace_dir=tmp_path), records=site).run(plan_of(sub))
    assert result.ok and result.subtasks["flight"].redos == 1 and len(w.calls) == 2
    assert w.calls[1].redo.corrections == {"date": "2025-06-12"}
    assert "date is '2025-06-13' but should be '2025-06-12'" in result.subtasks["flight"].feedback[0]
    records = read_trace(result.trace)
    kinds = [r["kind"] for r in records]
    assert kinds[0] == "team" and kinds[-1] == "result" and "ledger" in kinds
    verifies = [r for r in records if r["kind"] == "verify"]
    assert [v["ok"] for v in verifies] == [False, True]
    path = [(r["from"], r["to"]) for r in records if r["kind"] == "transition"]
    assert path == [("not done", "assigned"), ("assigned", "done"), ("done", "verify done"),
                    ("verify done", "redo"), ("redo", "not done"), ("not done", "assigned"),
                    ("assigned", "done"), ("done", "verify done"), ("verify done", "verified")]


def test_a_correct_claim_is_never_rejected_and_a_false_claim_never_accepted(tmp_path):
    site = Site()
    liar = ScriptedWorker("liar", lambda a, ask: WorkerReport(done=True, answer="all done, trust me"))
    sub = Subtask(id="order", instruction="buy", spec=field_spec("order", item="adapter"))
    cfg = TeamConfig(trace_dir=tmp_path, max_redos=1, on_redo_limit="fail")
    result = Manager([liar], config=cfg, records=site).run(plan_of(sub))
    assert not result.ok and result.subtasks["order"].state == "failed"
    assert "no new order" in result.subtasks["order"].reason and len(liar.calls) == 2
    honest = ScriptedWorker("honest", lambda a, ask: (site.add("order", item="adapter"),
                                                      WorkerReport(done=True))[1])
    result = Manager([honest], config=cfg, records=site).run(plan_of(sub))
    assert result.ok and result.subtasks["order"].redos == 0


def test_independent_subtasks_run_at_once_and_dependents_wait(tmp_path):
    site, spans = Site(), {}

    def timed(name):
        def run(a, ask):
            t = time.monotonic()
            time.sleep(0.5)
            spans[a.subtask.id] = (t, time.monotonic())
            site.add(a.subtask.id, ok=True)
            return WorkerReport(done=True)
        return ScriptedWorker(name, run)
    subs = [Subtask(id=i, instruction=i, spec=field_spec(i, ok=True)) for i in ("a", "b", "c")]
    subs.append(Subtask(id="d", instruction="d", after=["a", "b"], spec=field_spec("d", ok=True)))
    result = Manager([timed(f"w{i}") for i in range(3)], config=TeamConfig(trace_dir=tmp_path),
                     records=site).run(plan_of(*subs))
    assert result.ok
    # a, b and c were all running at one moment; d started only after a and b ended.
    assert max(spans[i][0] for i in "abc") < min(spans[i][1] for i in "abc")
    assert spans["d"][0] >= max(spans["a"][1], spans["b"][1])
    serial = Manager([timed("solo")], config=TeamConfig(trace_dir=tmp_path, parallel=False),
                     records=site).run(plan_of(*subs))
    assert serial.ok
    assert all(spans[x][1] <= spans[y][0] for x, y in zip("abc", "bcd"))  # one after another


def test_crash_and_hang_fail_their_subtask_and_the_rest_go_on(tmp_path):
    site, release = Site(), threading.Event()

    def crash(a, ask):
        raise ConnectionError("remote worker at http://127.0.0.1:1 went away")

    def hang(a, ask):
        release.wait(10)
        return WorkerReport(done=True)
    good = ScriptedWorker("good", lambda a, ask: (site.add("c", ok=True), WorkerReport(done=True))[1])
    subs = [Subtask(id="a", instruction="a", worker="crasher", spec=field_spec("a", ok=True)),
            Subtask(id="b", instruction="b", worker="hanger", spec=field_spec("b", ok=True)),
            Subtask(id="c", instruction="c", worker="good", spec=field_spec("c", ok=True)),
            Subtask(id="e", instruction="e", after=["a"], spec=field_spec("e", ok=True))]
    m = Manager([ScriptedWorker("crasher", crash), ScriptedWorker("hanger", hang), good],
                config=TeamConfig(trace_dir=tmp_path, worker_timeout_s=0.8), records=site)
    result = m.run(plan_of(*subs))
    release.set()
    r = result.subtasks
    assert not result.ok and r["c"].state == "verified"
    assert r["a"].state == "failed" and "went away" in r["a"].reason
    assert r["b"].state == "failed" and "hung" in r["b"].reason
    assert r["e"].state == "failed" and "waits for a" in r["e"].reason
    assert "1 of 4 subtasks verified — the task is NOT complete" in result.summary()


def test_redo_limit_escalates_to_the_person(tmp_path):
    site, asked = Site(), []

    def person(worker, subtask, step):
        asked.append((worker, subtask, step.message))
        return UserCommand(kind="reply", text="accept")
    stubborn = ScriptedWorker("w", booker(site, wrong_first={"seat": "window"}))
    stubborn.fn = lambda a, ask: (site.add("booking", seat="window"), WorkerReport(done=True))[1]
    sub = Subtask(id="flight", instruction="book", spec=field_spec("booking", seat="aisle"))
    result = Manager([stubborn], config=TeamConfig(trace_dir=tmp_path, max_redos=1), records=site,
                     ask_person=person).run(plan_of(sub))
    assert asked and asked[0][0] == "manager" and "still wrong after 1 redo" in asked[0][2]
    assert result.subtasks["flight"].state == "verified" and "accepted it unverified" in result.subtasks["flight"].reason
    states = [r["to"] for r in read_trace(result.trace) if r["kind"] == "transition"]
    assert "escalated" in states


def test_a_workers_approval_request_reaches_the_person(tmp_path):
    site, asked = Site(), []

    def asking(a, ask):
        cmd = ask("w1", a.subtask.id, StepResult(session_id="s", step=3, status=StepStatus.ASK_USER,
                                                 message="approval needed for a purchase"))
        if cmd.kind == "approve":
            site.add("order", item="adapter")
        return WorkerReport(done=True, asks=1)
    person = lambda w, s, step: (asked.append((w, s, step.message)), UserCommand(kind="approve"))[1]  # noqa: E731
    sub = Subtask(id="buy", instruction="buy", spec=field_spec("order", item="adapter"))
    result = Manager([ScriptedWorker("w1", asking)], config=TeamConfig(trace_dir=tmp_path),
                     records=site, ask_person=person).run(plan_of(sub))
    assert result.ok and asked == [("w1", "buy", "approval needed for a purchase")]


def test_judged_condition_goes_to_the_verifier_model(tmp_path):
    judge = ModelJudge(ScriptedBackend(['{"ok": false, "reason": "the page says pending"}',
                                        'not json at all', '{"ok": true, "reason": "confirmed"}']))
    w = ScriptedWorker("w", lambda a, ask: WorkerReport(done=True, page_text="Registration confirmed"))
    sub = Subtask(id="reg", instruction="register", spec=Spec(conditions=[JudgedCondition(text="it is confirmed")]))
    result = Manager([w], Verifier(judge), TeamConfig(trace_dir=tmp_path, max_redos=2)).run(plan_of(sub))
    assert result.ok and len(w.calls) == 3   # a "no" and an unreadable verdict both meant redo
    fb = result.subtasks["reg"].feedback
    assert "pending" in fb[0] and "no clear verdict" in fb[1]
    assert "it is confirmed" in judge.backend.calls[0].messages[0].content


def test_stalled_rounds_replan_the_instruction(tmp_path):
    w = ScriptedWorker("w", lambda a, ask: WorkerReport(done=True, answer="same"))
    sub = Subtask(id="x", instruction="do x", spec=Spec(conditions=[FieldCondition(source="answer", op="contains",
                                                                                    value="right")]))
    cfg = TeamConfig(trace_dir=tmp_path, max_redos=4, stall_limit=2, on_redo_limit="fail")
    result = Manager([w], config=cfg).run(plan_of(sub))
    records = read_trace(result.trace)
    ledgers = [r for r in records if r["kind"] == "ledger"]
    assert ledgers[0]["progress"] and not ledgers[0]["in_loop"]
    assert ledgers[1]["in_loop"] and not ledgers[1]["progress"]   # the same failure came back
    replans = [r for r in records if r["kind"] == "replan"]
    assert replans and "Lessons so far" in replans[0]["instruction"]
    assert "Lessons so far" in w.calls[-1].text and result.subtasks["x"].state == "failed"


def test_bad_plans_are_refused():
    spec = field_spec("a", ok=True)
    with pytest.raises(ValueError, match="cycle"):
        plan_of(Subtask(id="a", instruction="a", after=["b"], spec=spec),
                Subtask(id="b", instruction="b", after=["a"], spec=spec))
    with pytest.raises(ValueError, match="unknown subtask"):
        plan_of(Subtask(id="a", instruction="a", after=["zz"], spec=spec))
    with pytest.raises(ValueError, match="unique"):
        Manager([ScriptedWorker("w", None), ScriptedWorker("w", None)])


def test_the_person_can_ask_for_another_round_past_the_limit(tmp_path):
    site, answers = Site(), iter(["retry", "accept"])

    def work(a, ask):
        site.add("booking", seat="aisle" if a.attempt >= 3 else "window")
        return WorkerReport(done=True)
    w = ScriptedWorker("w", work)
    person = lambda worker, subtask, step: UserCommand(kind="reply", text=next(answers))  # noqa: E731
    sub = Subtask(id="flight", instruction="book", spec=field_spec("booking", seat="aisle"))
    result = Manager([w], config=TeamConfig(trace_dir=tmp_path, max_redos=1), records=site,
                     ask_person=person).run(plan_of(sub))
    r = result.subtasks["flight"]
    assert result.ok and r.attempts == 3 and "every condition" in r.reason   # verified, not merely accepted
    moves = [(t["from"], t["to"]) for t in read_trace(result.trace) if t["kind"] == "transition"]
    assert ("escalated", "not done") in moves and moves[-1] == ("verify done", "verified")


def test_team_config_checks_itself_when_built():
    from llmos.config import ConfigError
    with pytest.raises(ConfigError, match="on_redo_limit must be one of \\['ask', 'fail'\\], got 'retry'"):
        TeamConfig(on_redo_limit="retry")
    with pytest.raises(ConfigError, match="worker_timeout_s must be > 0"):
        TeamConfig(worker_timeout_s=0)
    with pytest.raises(ConfigError, match="max_redos must be >= 0"):
        TeamConfig(max_redos=-1)
