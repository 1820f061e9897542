"""Hire a remote agent by its URL: a team worker that speaks A2A (a2a-sdk's own client).

    worker = RemoteWorker("far", "http://127.0.0.1:8766")    # the agent's base URL (its card is there)
    Manager([worker, ...]).run(plan)

Each attempt is one A2A task, streamed: WORKING updates are counted as steps;
INPUT_REQUIRED goes to the person (`ask_person`, shared by the team) and their
answer is sent back on the same task; COMPLETED is the worker's claim of done
(its answer: the artifact's text); FAILED and CANCELED are its claim of failure.
A server that cannot be reached, or that drops the stream, raises
`RemoteWorkerError`, which the manager records as the worker having gone away.
"""
from __future__ import annotations

import asyncio
import uuid

import httpx

from a2a.client import ClientConfig, create_client
from a2a.helpers import get_message_text, get_stream_response_text
from a2a.types import Message, Part, Role, SendMessageRequest, TaskState

from llmos.agent.team.worker import AskPerson, Assignment, WorkerReport
from llmos.agent.views import StepResult, StepStatus


FINAL = (TaskState.TASK_STATE_COMPLETED, TaskState.TASK_STATE_FAILED, TaskState.TASK_STATE_CANCELED,
         TaskState.TASK_STATE_REJECTED)


class RemoteWorkerError(RuntimeError):
    """The remote agent could not be reached, or went away mid-task."""


def user_message(text: str, task_id: str = "", context_id: str = "", metadata: dict | None = None) -> Message:
    return Message(message_id=uuid.uuid4().hex, role=Role.ROLE_USER, parts=[Part(text=text)],
                   task_id=task_id, context_id=context_id, metadata=metadata or {})


class RemoteWorker:
    def __init__(self, name: str, url: str, timeout_s: float = 600.0, max_asks: int = 6):
        self.name = name
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.max_asks = max_asks

    def run(self, assignment: Assignment, ask_person: AskPerson) -> WorkerReport:
        try:
            return asyncio.run(asyncio.wait_for(self._run(assignment, ask_person), self.timeout_s))
        except RemoteWorkerError:
            raise
        except Exception as e:  # connection refused, reset, a malformed reply
            raise RemoteWorkerError(f"the A2A agent at {self.url} went away: {type(e).__name__}: {e}") from None

    async def _run(self, assignment: Assignment, ask_person: AskPerson) -> WorkerReport:
        meta = {"url": assignment.subtask.start_url} if assignment.subtask.start_url else {}
        http = httpx.AsyncClient(timeout=self.timeout_s)
        client = await create_client(self.url, ClientConfig(streaming=True, httpx_client=http))
        report = WorkerReport(done=False)
        try:
            message = user_message(assignment.text, metadata=meta)
            while True:
                state, text, task_id, ctx_id = await self._stream(client, message, report)
                if state == TaskState.TASK_STATE_INPUT_REQUIRED and report.asks < self.max_asks:
                    report.asks += 1
                    step = StepResult(session_id=task_id, step=report.steps, status=StepStatus.ASK_USER,
                                      message=text)
                    cmd = await asyncio.to_thread(ask_person, self.name, assignment.subtask.id, step)
                    answer = "abort" if cmd.kind == "abort" else ("approve" if cmd.kind == "approve" else cmd.text)
                    message = user_message(answer, task_id=task_id, context_id=ctx_id)
                    continue
                if state not in FINAL:
                    raise RemoteWorkerError(f"the A2A agent at {self.url} ended the stream before the task "
                                            f"ended (last state {TaskState.Name(state) if state else 'none'})")
                report.done = state == TaskState.TASK_STATE_COMPLETED
                report.answer = report.answer or text
                report.session = task_id
                return report
        finally:
            await client.close()
            await http.aclose()

    async def _stream(self, client, message: Message, report: WorkerReport):
        """Send one message and follow the task until it ends or needs input."""
        state, text, task_id, ctx_id = None, "", message.task_id, message.context_id
        async for resp in client.send_message(SendMessageRequest(message=message)):
            if resp.HasField("task"):
                task_id, ctx_id = resp.task.id, resp.task.context_id
                state = resp.task.status.state
                if resp.task.status.HasField("message"):
                    text = get_message_text(resp.task.status.message)
            elif resp.HasField("status_update"):
                task_id, ctx_id = resp.status_update.task_id, resp.status_update.context_id
                state = resp.status_update.status.state
                text = get_stream_response_text(resp)
                if state == TaskState.TASK_STATE_WORKING:
                    report.steps += 1
            elif resp.HasField("artifact_update"):
                report.answer = get_stream_response_text(resp)
            elif resp.HasField("message"):
                return TaskState.TASK_STATE_COMPLETED, get_message_text(resp.message), task_id, ctx_id
            if state in FINAL or state == TaskState.TASK_STATE_INPUT_REQUIRED:
                return state, text, task_id, ctx_id
        return state, text, task_id, ctx_id
