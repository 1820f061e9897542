"""`create_agent_app(..., a2a=URL)` in another process, driven by a2a-sdk's own client."""
import asyncio
import uuid

import httpx
import pytest
from a2a.client import ClientConfig, create_client
from a2a.helpers import get_artifact_text, get_message_text
from a2a.types import (CancelTaskRequest, GetTaskRequest, Message, Part, Role, SendMessageConfiguration,
                       SendMessageRequest, TaskState)

from llmos.agent.a2a.server import ABORTED, STATE_OF
from llmos.agent.views import StepStatus

pytestmark = pytest.mark.browser
S = TaskState


def msg(text, task_id="", context_id=""):
    return Message(message_id=uuid.uuid4().hex, role=Role.ROLE_USER, parts=[Part(text=text)],
                   task_id=task_id, context_id=context_id)


async def client(url, streaming):
    return await create_client(url, ClientConfig(streaming=streaming, httpx_client=httpx.AsyncClient(timeout=60)))


async def send(url, message, streaming=False, **config):
    c = await client(url, streaming)
    try:
        request = SendMessageRequest(message=message, configuration=SendMessageConfiguration(**config))
        return [r async for r in c.send_message(request)]
    finally:
        await c.close()


def test_state_mapping_is_the_issues():
    assert STATE_OF == {StepStatus.CONTINUE: S.TASK_STATE_WORKING, StepStatus.ASK_USER: S.TASK_STATE_INPUT_REQUIRED,
                        StepStatus.DONE: S.TASK_STATE_COMPLETED, StepStatus.FAILED: S.TASK_STATE_FAILED}
    assert ABORTED == S.TASK_STATE_CANCELED


def test_agent_card_names_the_skill_and_the_endpoint(a2a_url):
    card = httpx.get(a2a_url + "/.well-known/agent-card.json").json()
    assert card["skills"][0]["id"] == "browser-task" and card["capabilities"]["streaming"] is True
    assert card["supportedInterfaces"][0] == {"url": a2a_url + "/a2a", "protocolBinding": "JSONRPC",
                                              "protocolVersion": "1.0"}


def test_send_message_completes_with_the_answer(a2a_url):
    [resp] = asyncio.run(send(a2a_url, msg("say hello")))
    assert resp.task.status.state == S.TASK_STATE_COMPLETED
    assert get_artifact_text(resp.task.artifacts[0]) == "hello from the A2A worker"


def test_streaming_reports_working_then_completed(a2a_url):
    events = asyncio.run(send(a2a_url, msg("say hello"), streaming=True))
    states = [e.task.status.state if e.HasField("task") else e.status_update.status.state
              for e in events if e.HasField("task") or e.HasField("status_update")]
    assert states[0] == S.TASK_STATE_SUBMITTED and S.TASK_STATE_WORKING in states
    assert states[-1] == S.TASK_STATE_COMPLETED
    assert any(e.HasField("artifact_update") for e in events)


def test_input_required_then_reply_then_get_task(a2a_url):
    async def run():
        [first] = await send(a2a_url, msg("ask me about the seat"))
        assert first.task.status.state == S.TASK_STATE_INPUT_REQUIRED
        assert "Which seat" in get_message_text(first.task.status.message)
        t = first.task
        [second] = await send(a2a_url, msg("aisle", t.id, t.context_id))
        c = await client(a2a_url, False)
        try:
            got = await c.get_task(GetTaskRequest(id=t.id))
        finally:
            await c.close()
        return second, got
    second, got = asyncio.run(run())
    assert second.task.status.state == S.TASK_STATE_COMPLETED
    assert get_message_text(second.task.status.message) == "seat chosen: aisle"
    assert got.status.state == S.TASK_STATE_COMPLETED and len(got.history) >= 2


def test_an_action_awaiting_approval_is_input_required_and_approve_goes_on(a2a_url):
    async def run():
        [first] = await send(a2a_url, msg("compute the answer"))
        t = first.task
        [second] = await send(a2a_url, msg("approve", t.id, t.context_id))
        return first, second
    first, second = asyncio.run(run())
    assert first.task.status.state == S.TASK_STATE_INPUT_REQUIRED
    assert "approval needed for a run_code action" in get_message_text(first.task.status.message)
    assert second.task.status.state == S.TASK_STATE_COMPLETED
    assert "42" in get_message_text(second.task.status.message)


def test_abort_as_the_reply_cancels_the_task(a2a_url):
    async def run():
        [first] = await send(a2a_url, msg("ask me about the seat"))
        t = first.task
        [second] = await send(a2a_url, msg("abort", t.id, t.context_id))
        return second
    second = asyncio.run(run())
    assert second.task.status.state == S.TASK_STATE_CANCELED
    assert "aborted by the person" in get_message_text(second.task.status.message)


def test_cancel_a_running_task(a2a_url):
    async def run():
        [resp] = await send(a2a_url, msg("slow job"), return_immediately=True)
        c = await client(a2a_url, False)
        try:
            for _ in range(100):   # wait until it is really working
                t = await c.get_task(GetTaskRequest(id=resp.task.id))
                if t.status.state == S.TASK_STATE_WORKING:
                    break
                await asyncio.sleep(0.1)
            cancelled = await c.cancel_task(CancelTaskRequest(id=resp.task.id))
            await asyncio.sleep(0.5)
            after = await c.get_task(GetTaskRequest(id=resp.task.id))
        finally:
            await c.close()
        return t, cancelled, after
    t, cancelled, after = asyncio.run(run())
    assert t.status.state == S.TASK_STATE_WORKING
    assert cancelled.status.state == S.TASK_STATE_CANCELED and after.status.state == S.TASK_STATE_CANCELED


def test_a_failed_session_is_a_failed_task(a2a_url):
    [resp] = asyncio.run(send(a2a_url, msg("give up now")))
    assert resp.task.status.state == S.TASK_STATE_FAILED
    assert "cannot do that" in get_message_text(resp.task.status.message)


def test_malformed_messages_get_json_rpc_errors(a2a_url):
    rpc, headers = a2a_url + "/a2a", {"A2A-Version": "1.0"}
    bad_json = httpx.post(rpc, content=b"{not json", headers={**headers, "content-type": "application/json"})
    assert bad_json.json()["error"]["code"] == -32700
    unknown = httpx.post(rpc, json={"jsonrpc": "2.0", "id": 1, "method": "FlyToTheMoon", "params": {}},
                         headers=headers)
    assert unknown.json()["error"]["code"] == -32601
    no_message = httpx.post(rpc, json={"jsonrpc": "2.0", "id": 2, "method": "SendMessage",
                                       "params": {"message": {"parts": "not a list"}}}, headers=headers)
    assert no_message.json()["error"]["code"] in (-32602, -32600)
    missing = httpx.post(rpc, json={"jsonrpc": "2.0", "id": 3, "method": "GetTask", "params": {"id": "nope"}},
                         headers=headers)
    assert missing.json()["error"]["code"] == -32001   # TaskNotFoundError
