"""The agent loop: one call to `step` is one decision and at most one action.

    observe page -> guard (progress) -> prompt -> model -> parse (retry) ->
    guard (loop) -> policy -> allow: act | ask: ASK_USER | deny: refuse -> trace

A session paused at `ASK_USER` moves on only with the person's `UserCommand`:
approve (do the pending action), edit (do theirs instead, still under the
deny rules and the allowlist), reply (answer the agent's question) or abort.
Every step, whatever its outcome, is written to the trace with its timings;
`overhead` in the timings is all the time not spent waiting for the model.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass

from llmos.agent.backends import BackendError, ModelBackend
from llmos.agent.browser import BrowserError, Snapshot, StaleElementError
from llmos.agent.guards import Verdict
from llmos.agent.hooks import AgentHooks
from llmos.agent.parsing import ActionParseError, parse_reply
from llmos.agent.prompting import build_messages, describe_action, retry_messages
from llmos.agent.session import Pending, Session
from llmos.agent.vault import SecretError
from llmos.agent.memory.actions import MEMORY_ACTIONS, applied_note, perform_memory
from llmos.agent.views import (Action, ActionClass, AskUserAction, BackAction, ClickAction, Decision,
                               DoneAction, ExtractAction, HistoryItem, ModelRequest,
                               NavigateAction, Observation, PolicyVerdict, RunCodeAction,
                               ScrollAction, SelectAction, StepContext, StepResult, StepStatus,
                               ToolAction, TypeAction, UserCommand)
from llmos.config import require_at_least

MAX_EXTRACT_NOTE = 1500


class CommandError(ValueError):
    """A command that does not fit the session's state (e.g. approve when nothing waits)."""


@dataclass
class LoopConfig:
    max_parse_retries: int = 2   # extra model calls after an unreadable reply
    max_denials: int = 3         # denied actions before the session fails

    def __post_init__(self) -> None:
        require_at_least(self, 0, "max_parse_retries")
        require_at_least(self, 1, "max_denials")


@dataclass(frozen=True)
class ModelAnswer:
    """One turn of the model: the action it chose, or (action None) why there is none."""
    action: Action | None
    failure: str = ""

    @classmethod
    def none(cls, why: str) -> "ModelAnswer":
        return cls(None, why)


def _check_answer(pending: Pending, cmd: UserCommand) -> None:
    """Refuse a command that does not fit what is waiting (before the session is touched)."""
    if cmd.kind == "abort":
        return
    if pending.question is not None:
        if cmd.kind == "edit":
            raise CommandError("the agent asked a question; answer with reply (or approve/abort)")
    elif cmd.kind == "reply":
        raise CommandError("an action is waiting for approval; approve, edit or abort it")
    elif cmd.kind == "edit" and cmd.action is None:
        raise CommandError("edit needs the replacement action in `action`")


class _Clock:
    def __init__(self):
        self.times: dict[str, float] = {}
        self.t0 = time.perf_counter()

    @contextmanager
    def phase(self, name: str):
        t = time.perf_counter()
        try:
            yield
        finally:
            self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - t

    def summary(self) -> dict[str, float]:
        total = time.perf_counter() - self.t0
        return {**{k: round(v, 5) for k, v in self.times.items()}, "total": round(total, 5),
                "overhead": round(total - self.times.get("model", 0.0), 5)}


class AgentLoop:
    def __init__(self, backend: ModelBackend | None, config: LoopConfig | None = None,
                 hooks: list[AgentHooks] | tuple = ()):
        self.backend = backend
        self.config = config or LoopConfig()
        self.hooks = list(hooks)

    # ------------------------------------------------------------------ entry

    def step(self, s: Session, cmd: UserCommand | None = None) -> StepResult:
        s.touch()
        if s.finished:
            if cmd is not None:
                raise CommandError(f"session {s.id} has ended ({s.status.value}); it takes no commands")
            return s.last_result
        clock, rec = _Clock(), {"kind": "step"}
        if s.status is StepStatus.ASK_USER:
            if cmd is None:
                return s.last_result  # still waiting for the person
            rec["user_command"] = cmd.model_dump(mode="json")
            result = self._answer(s, cmd, clock, rec)
        elif cmd is not None:
            raise CommandError(f"session {s.id} is not waiting for the person; step it without a command")
        else:
            result = self._decide(s, clock, rec)
        return self._finish(s, result, clock, rec)

    # ------------------------------------------------------------------ helpers

    def _result(self, s: Session, status: StepStatus, message: str, action: Action | None = None,
                verdict: PolicyVerdict | None = None, pending: Action | None = None) -> StepResult:
        return StepResult(session_id=s.id, step=s.steps, status=status,
                          message=s.vault.scrub(message), url=s.vault.scrub(s.url), action=action,
                          verdict=verdict, pending=pending)

    def _finish(self, s: Session, result: StepResult, clock: _Clock, rec: dict) -> StepResult:
        if s.options.screenshots and not result.screenshot:
            with clock.phase("screenshot"):
                try:
                    result.screenshot = s.tab.screenshot(s.vault.values())
                    rec["screenshot"] = s.tracer.save_screenshot(result.step, result.screenshot)
                except Exception as e:  # a screenshot is a nicety, never a failure
                    rec["screenshot_error"] = str(e).splitlines()[0]
        s.status = result.status
        s.last_result = result
        rec.update(session=s.id, step=result.step, status=result.status.value,
                   message=result.message, url=result.url,
                   action=result.action.model_dump(mode="json") if result.action else None,
                   verdict=result.verdict.model_dump(mode="json") if result.verdict else None,
                   pending=result.pending.model_dump(mode="json") if result.pending else None)
        rec["timings"] = clock.summary()
        rec["timings"]["trace"] = round(s.tracer.write(rec), 5)
        for h in self.hooks:
            h.after_step(s, result, rec)
            if s.finished:
                h.on_session_end(s, result)
        return result

    def _observe(self, s: Session, clock: _Clock) -> Snapshot:
        with clock.phase("observe"):
            return s.tab.observe()

    def _fail(self, s: Session, message: str, action: Action | None = None,
              verdict: PolicyVerdict | None = None) -> StepResult:
        return self._result(s, StepStatus.FAILED, message, action, verdict)

    # ------------------------------------------------------------------ the person's turn

    def _answer(self, s: Session, cmd: UserCommand, clock: _Clock, rec: dict) -> StepResult:
        pending = s.pending or Pending()
        _check_answer(pending, cmd)          # a command that does not fit changes nothing
        s.pending = None
        s.steps += 1
        if cmd.kind == "abort":
            s.history.append(HistoryItem(step=s.steps, action=pending.action, outcome="aborted by the person"))
            return self._fail(s, "aborted by the person" + (f": {cmd.text}" if cmd.text else ""))
        if pending.question is not None:
            answer = cmd.text or ("yes" if cmd.kind == "approve" else "")
            s.add_note(f"You asked the person: {pending.question!r}. They answered: {answer!r}")
            s.history.append(HistoryItem(step=s.steps, action=None, outcome=f"the person answered {answer!r}"))
            return self._result(s, StepStatus.CONTINUE, f"the person answered: {answer}")
        snap = pending.snapshot or Snapshot(Observation(url=s.url))
        if cmd.kind == "approve":
            action, verdict = pending.action, pending.verdict
            if verdict.action_class is ActionClass.NAVIGATE or isinstance(action, ClickAction):
                s.policy.approve_host(_target_url(action, snap))
        else:  # edit: the person's own action, which needs no further "ask" but obeys "deny"
            action = cmd.action
            with clock.phase("policy"):
                verdict = s.policy.check(action, snap.observation, snap.safety)
            if verdict.decision is Decision.DENY:
                s.pending = pending  # still waiting: the person may edit again or abort
                return self._result(s, StepStatus.ASK_USER, f"the edited action is denied by the "
                                    f"policy ({verdict.reason}); edit again or abort",
                                    action, verdict, pending.action)
            s.policy.approve_host(_target_url(action, snap))
        rec["approved_by_person"] = True
        return self._act(s, action, verdict, snap, clock)

    # ------------------------------------------------------------------ the model's turn

    def _decide(self, s: Session, clock: _Clock, rec: dict) -> StepResult:
        stop = s.guard.limit_reached(s.steps)
        if stop:
            return self._fail(s, stop)
        s.steps += 1
        snap = self._observe(s, clock)
        state = snap.observation.fingerprint()
        verdict_, note = s.guard.see_state(state)
        if verdict_ is Verdict.FAIL:
            return self._fail(s, note)
        if verdict_ is Verdict.NUDGE:
            s.add_note(note)
        answer = self._ask_model(s, snap, clock, rec)
        if answer.action is None:
            return self._fail(s, answer.failure)
        action = answer.action
        verdict_, note = s.guard.see_action(action.key(), state)
        if verdict_ is Verdict.FAIL:
            return self._fail(s, note, action)
        if verdict_ is Verdict.NUDGE:
            s.add_note(note)
            s.history.append(HistoryItem(step=s.steps, action=action, outcome="not done: repeated loop",
                                         url=s.vault.scrub(snap.observation.url)))
            return self._result(s, StepStatus.CONTINUE, "loop detected: the action was not repeated; "
                                "the model was told to change approach", action)
        with clock.phase("policy"):
            verdict = s.policy.check(action, snap.observation, snap.safety)
        if verdict.decision is Decision.DENY:
            s.denials += 1
            outcome = f"DENIED by the person's policy ({verdict.reason}); do not try it again"
            s.history.append(HistoryItem(step=s.steps, action=action, outcome=outcome,
                                         url=s.vault.scrub(snap.observation.url)))
            if s.denials >= self.config.max_denials:
                return self._fail(s, f"{s.denials} actions denied by the policy; last: {verdict.reason}",
                                  action, verdict)
            return self._result(s, StepStatus.CONTINUE, f"denied by the policy: {verdict.reason}",
                                action, verdict)
        if verdict.decision is Decision.ASK:
            s.pending = Pending(action=action, verdict=verdict, snapshot=snap)
            return self._result(s, StepStatus.ASK_USER,
                                f"approval needed for a {verdict.action_class.value} action: "
                                f"{_describe(action, snap)} ({verdict.reason}); approve, edit or abort",
                                action, verdict, pending=action)
        return self._act(s, action, verdict, snap, clock)

    def _ask_model(self, s: Session, snap: Snapshot, clock: _Clock, rec: dict) -> ModelAnswer:
        with clock.phase("prompt"):
            obs = Observation.model_validate(s.vault.scrub(snap.observation.model_dump()))
            context = StepContext(task=s.input, step=s.steps, observation=obs, history=s.history,
                                  notes=list(s.notes), secret_names=s.vault.names)
            for h in self.hooks:
                context = h.before_model(s, context)
            messages = build_messages(context)
        rec["prompt"] = [m.model_dump() for m in messages]
        rec["model_output"], tokens = [], {"prompt": 0, "completion": 0}
        rec["tokens"] = tokens
        error = ""
        backend = s.backend or self.backend
        if backend is None:
            return ModelAnswer.none("no model backend: give the Agent one, or the session (create(..., backend=))")
        for _ in range(1 + self.config.max_parse_retries):
            try:
                with clock.phase("model"):
                    reply = backend.complete(ModelRequest(messages=messages, context=context))
            except BackendError as e:
                return ModelAnswer.none(f"model backend failed: {e}")
            rec["model_output"].append(reply.text)
            tokens["prompt"] += reply.prompt_tokens or 0
            tokens["completion"] += reply.completion_tokens or 0
            if reply.action is not None:
                return ModelAnswer(reply.action)
            with clock.phase("parse"):
                try:
                    return ModelAnswer(parse_reply(reply.text))
                except ActionParseError as e:
                    error = str(e)
                    messages = retry_messages(messages, reply.text, error)
        return ModelAnswer.none(f"the model gave no usable action in {1 + self.config.max_parse_retries} tries: "
                                f"{error}")

    # ------------------------------------------------------------------ acting

    def _act(self, s: Session, action: Action, verdict: PolicyVerdict, snap: Snapshot,
             clock: _Clock) -> StepResult:
        status, message = StepStatus.CONTINUE, ""
        with clock.phase("act"):
            try:
                status, message = self._perform(s, action, snap)
            except StaleElementError as e:
                message = f"{e}; the page will be observed afresh: choose from the new listing"
            except (BrowserError, SecretError) as e:
                message = f"error: {e}"
        if s.memory is not None and status is StepStatus.CONTINUE and not message.startswith("error:"):
            message += applied_note(s.memory, action, snap.observation)  # "applied preference #2: ..."
        outcome = s.vault.scrub(message)
        s.history.append(HistoryItem(step=s.steps, action=action, outcome=outcome[:300],
                                     url=s.vault.scrub(snap.observation.url)))
        pending = None
        if status is StepStatus.ASK_USER:
            s.pending = Pending(question=getattr(action, "question", None) or message)
        return self._result(s, status, message, action, verdict, pending)

    def _perform(self, s: Session, action: Action, snap: Snapshot) -> tuple[StepStatus, str]:
        tab = s.tab
        if isinstance(action, ClickAction):
            return StepStatus.CONTINUE, tab.click(snap, action.element)
        if isinstance(action, TypeAction):
            text = s.vault.fill(action.text)  # the only place a secret value exists
            return StepStatus.CONTINUE, tab.type(snap, action.element, text, action.press_enter)
        if isinstance(action, SelectAction):
            return StepStatus.CONTINUE, tab.select(snap, action.element, action.option)
        if isinstance(action, ScrollAction):
            return StepStatus.CONTINUE, tab.scroll(action.direction, action.pages)
        if isinstance(action, NavigateAction):
            return StepStatus.CONTINUE, tab.navigate(_target_url(action, snap))
        if isinstance(action, BackAction):
            return StepStatus.CONTINUE, tab.back()
        if isinstance(action, ExtractAction):
            text = s.vault.scrub(tab.extract(snap, action.query))
            s.add_note(f"Extracted from {snap.observation.url}"
                       f"{' about ' + repr(action.query) if action.query else ''}:\n"
                       f"{text[:MAX_EXTRACT_NOTE]}")
            return StepStatus.CONTINUE, text
        if isinstance(action, DoneAction):
            if action.success:
                return StepStatus.DONE, action.answer or "done"
            return StepStatus.FAILED, f"the agent gave up: {action.answer or 'no reason given'}"
        if isinstance(action, AskUserAction):
            return StepStatus.ASK_USER, action.question
        if isinstance(action, RunCodeAction):
            return StepStatus.CONTINUE, _run_code(action)
        if isinstance(action, MEMORY_ACTIONS):
            return perform_memory(s, action)
        if isinstance(action, ToolAction):
            return StepStatus.CONTINUE, _call_tool(s, action)
        raise BrowserError(f"unknown action {action!r}")


def _target_url(action: Action, snap: Snapshot) -> str:
    from urllib.parse import urljoin

    if isinstance(action, NavigateAction):
        here = snap.observation.url
        return urljoin(here, action.url) if here.startswith("http") else action.url
    if isinstance(action, ClickAction):
        el = snap.observation.element(action.element)
        if el is not None and el.href:
            return el.href
    return ""


def _describe(action: Action, snap: Snapshot) -> str:
    el = snap.observation.element(getattr(action, "element", -1))
    target = f" on {el.role} {el.label!r}" if el is not None else ""
    return describe_action(action) + target


def _call_tool(s: Session, action: ToolAction) -> str:
    """A mounted MCP tool's result is the step's message; its failures are the model's to read."""
    tool = s.tools.get(action.name)
    if tool is None:
        raise BrowserError(f"no mounted tool {action.name!r}; mounted: {', '.join(sorted(s.tools)) or 'none'}")
    try:
        return s.vault.scrub(tool.call(action.arguments))
    except Exception as e:  # a bad argument, a server error: told to the model, never a crash
        raise BrowserError(str(e)) from None


def _run_code(action: RunCodeAction) -> str:
    """Run code in the sandboxed code tool; its exit status and output are the step's message."""
    from llmos.agent.tools.code_runner import SandboxUnavailable, run_code

    try:
        return str(run_code(action.code))
    except (SandboxUnavailable, ValueError) as e:
        raise BrowserError(f"the code tool did not run the code: {e}") from None
