"""An llmos agent as an A2A server (a2a-sdk 1.x): Agent Card, SendMessage, streaming, GetTask, CancelTask.

    app = create_agent_app(agent, a2a="http://127.0.0.1:8765")    # llmos.agent.server, or:
    mount_a2a(app, agent, "http://127.0.0.1:8765")

    GET  /.well-known/agent-card.json     the Agent Card, with its skill
    POST /a2a                             JSON-RPC 2.0: SendMessage, SendStreamingMessage, GetTask,
                                          CancelTask (and the SDK's other methods)

One A2A task is one agent session. The first message's text is the task; its
metadata may carry `url` (where to start) and `max_steps`. The session's
statuses map onto A2A's task states:

    CONTINUE -> WORKING      ASK_USER -> INPUT_REQUIRED      DONE -> COMPLETED
    FAILED   -> FAILED       aborted (CancelTask, or "abort" as the reply) -> CANCELED

While the task is INPUT_REQUIRED the next message on the same task answers
the agent: "approve" (or yes/ok) approves a pending action, "abort" ends it,
and any other text answers the agent's question (or, for a pending action,
refuses it). Malformed requests get the JSON-RPC error response the SDK
defines (parse error, invalid request, method not found, invalid params).
"""
from __future__ import annotations

import asyncio

from a2a.helpers import new_task_from_user_message, new_text_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill, Role, TaskState

from llmos.agent.service import Agent
from llmos.agent.views import SessionOptions, StepResult, StepStatus, UserCommand

RPC_PATH = "/a2a"
STATE_OF = {StepStatus.CONTINUE: TaskState.TASK_STATE_WORKING,
            StepStatus.ASK_USER: TaskState.TASK_STATE_INPUT_REQUIRED,
            StepStatus.DONE: TaskState.TASK_STATE_COMPLETED,
            StepStatus.FAILED: TaskState.TASK_STATE_FAILED}
ABORTED = TaskState.TASK_STATE_CANCELED
YES = {"approve", "yes", "y", "ok", "okay", "go ahead"}


def agent_card(base_url: str, name: str = "llmos agent") -> AgentCard:
    return AgentCard(
        name=name, version="1",
        description="A personal agent that does tasks in a real browser under the person's policy, "
                    "asking the person before purchases, logins and code.",
        supported_interfaces=[AgentInterface(url=base_url.rstrip("/") + RPC_PATH, protocol_binding="JSONRPC",
                                             protocol_version="1.0")],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"], default_output_modes=["text/plain"],
        skills=[AgentSkill(id="browser-task", name="Browser task",
                           description="Does a task on web sites: search, fill forms, book, buy, answer "
                                       "from pages. Message metadata `url` gives the start page.",
                           tags=["browser", "web", "forms"],
                           examples=["Book the 09:15 flight from Lisbon to Paris on 2025-06-12",
                                     "Buy a travel adapter under 20 euros"])])


def _command(text: str, waiting_on_action: bool) -> UserCommand:
    word = text.strip().lower()
    if word == "abort":
        return UserCommand(kind="abort")
    if waiting_on_action:
        return UserCommand(kind="approve") if word in YES else UserCommand(kind="abort", text=text)
    return UserCommand(kind="reply", text=text)


class SessionExecutor(AgentExecutor):
    """Runs each A2A task as an agent session, one step at a time, reporting every step."""

    def __init__(self, agent: Agent):
        self.agent = agent
        self.sessions: dict[str, str] = {}        # A2A task id -> session id
        self.paused: dict[str, StepResult] = {}   # task id -> the ASK_USER step it waits on

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id, ctx_id = context.task_id, context.context_id
        updater = TaskUpdater(event_queue, task_id, ctx_id)
        text = context.get_user_input()
        say = lambda m: new_text_message(m, context_id=ctx_id, task_id=task_id, role=Role.ROLE_AGENT)  # noqa: E731
        cmd = None
        if context.current_task is None:
            await event_queue.enqueue_event(new_task_from_user_message(context.message))
            meta = dict(context.message.metadata) if context.message.metadata else {}
            opts = SessionOptions(max_steps=int(meta.get("max_steps", 30)))
            try:
                info = await asyncio.to_thread(self.agent.create, text, meta.get("url"), opts)
            except ValueError as e:
                await updater.failed(say(f"cannot start: {e}"))
                return
            self.sessions[task_id] = info.id
            await updater.start_work(say(f"session {info.id} started"))
        else:
            paused = self.paused.pop(task_id, None)
            if task_id not in self.sessions or paused is None:
                await updater.failed(say("this task is not waiting for input"))
                return
            cmd = _command(text, paused.pending is not None)
        sid = self.sessions[task_id]
        aborted = cmd is not None and cmd.kind == "abort"
        while True:
            result = await asyncio.to_thread(self.agent.step, sid, cmd)
            cmd = None
            msg = say(f"step {result.step}: {result.message}")
            if result.status is StepStatus.CONTINUE:
                await updater.update_status(STATE_OF[result.status], msg)
            elif result.status is StepStatus.ASK_USER:
                self.paused[task_id] = result
                await updater.requires_input(say(result.message))
                return
            elif result.status is StepStatus.DONE:
                answer = getattr(result.action, "answer", "") or result.message
                await updater.add_artifact([_text_part(answer)], name="answer")
                await updater.complete(say(answer))
                self._end(task_id)
                return
            elif aborted:   # the caller said abort: the person's "aborted" is A2A's CANCELED
                await updater.update_status(ABORTED, say(result.message))
                self._end(task_id)
                return
            else:
                await updater.failed(say(result.message))
                self._end(task_id)
                return

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id = context.task_id
        updater = TaskUpdater(event_queue, task_id, context.context_id)
        self.paused.pop(task_id, None)
        self._end(task_id)
        await updater.cancel(new_text_message("aborted by the caller", context_id=context.context_id,
                                              task_id=task_id, role=Role.ROLE_AGENT))

    def _end(self, task_id: str) -> None:
        sid = self.sessions.pop(task_id, None)
        if sid is not None:
            try:
                self.agent.close(sid)
            except Exception:  # already expired or closed
                pass


def _text_part(text: str):
    from a2a.types import Part
    return Part(text=text)


def mount_a2a(app, agent: Agent, base_url: str, name: str = "llmos agent") -> SessionExecutor:
    """Add the Agent Card and the JSON-RPC endpoint to a FastAPI/Starlette `app`."""
    card = agent_card(base_url, name)
    executor = SessionExecutor(agent)
    handler = DefaultRequestHandler(agent_executor=executor, task_store=InMemoryTaskStore(), agent_card=card)
    for route in create_agent_card_routes(card) + create_jsonrpc_routes(handler, rpc_url=RPC_PATH):
        app.router.routes.append(route)
    return executor
