"""End to end: `llmos agent serve` (a real process) over HTTP, its model an OpenAI-compatible
server on 127.0.0.1, its browser a real Chromium."""
import json
import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest

from llmos.agent.client import AgentAPIError, AgentClient
from llmos.agent.views import StepStatus, UserCommand
from tests.agent.fake_openai import FakeOpenAI
from tests.agent.pages import page, serve_pages

pytestmark = pytest.mark.browser

HOME = page("""<h1>Tea shop</h1><form action="/results"><input name="q" aria-label="Search">
<button>Search</button></form>""", "Tea shop")


def results(params):
    return page(f"""<h1>Results for {params.get('q', '')}</h1><p>Green tea: 4 EUR</p>
<form action="/bought"><button>Buy now</button></form>""", "Results")


def element(prompt: str, role: str, label: str) -> int:
    return int(re.search(rf'\[(\d+)\] {role} "{label}"', prompt).group(1))


def model(messages):
    """What a capable model would answer, read from the prompt the agent sent."""
    prompt = messages[1]["content"]
    if re.search(r"^URL: \S+/bought", prompt, re.M):
        return '{"type": "done", "answer": "bought green tea for 4 EUR"}'
    if "Results for" in prompt:
        return f'I will buy it.\n```json\n{{"type": "click", "element": {element(prompt, "button", "Buy now")}}}\n```'
    if 'textbox "Search" value="green tea"' in prompt:
        return json.dumps({"type": "click", "element": element(prompt, "button", "Search")})
    return json.dumps({"type": "type", "element": element(prompt, "textbox", "Search"), "text": "green tea"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    site = serve_pages({"/": HOME, "/results": results, "/bought": page("Bought. Thank you!", "Receipt")})
    traces = tmp_path_factory.mktemp("traces")
    with FakeOpenAI(model) as fake:
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "llmos.cli.main", "agent", "serve", "--port", str(port),
             "--base-url", fake.base_url, "--model", "auto", "--trace-dir", str(traces),
             "idle_timeout_s=300"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "LLMOS_API_KEY": ""})
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/v1/sessions", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    pytest.fail(f"llmos agent serve did not start:\n{proc.stdout.read().decode()}")
                time.sleep(0.2)
        client = AgentClient(base)
        yield site, fake, client, base, traces
        client.shutdown()
        proc.terminate()
        proc.wait(20)
        site.close()


def test_session_over_http_with_an_openai_compatible_model(stack):
    site, fake, client, base, traces = stack
    info = client.create("Buy green tea", url=site.url("/"))
    assert info.status is StepStatus.CONTINUE and info.start_url == site.url("/")
    r1 = client.step(info.id)
    assert r1.status is StepStatus.CONTINUE and r1.action.type == "type"
    r = client.run(info.id)                           # search, then the purchase needs the person
    assert r.status is StepStatus.ASK_USER and r.verdict.action_class == "purchase"
    assert not site.hits("/bought")
    assert site.hits("/results")[-1] == {"q": "green tea"}
    r = client.run(info.id, UserCommand(kind="approve"))
    assert r.status is StepStatus.DONE and r.message == "bought green tea for 4 EUR"
    assert len(site.hits("/bought")) == 1
    assert fake.requests and all(req["model"] == "fake-model" for req in fake.requests)
    assert client.retrieve(info.id).steps == 5
    records = client.trace(info.id)
    steps = [rec for rec in records if rec["kind"] == "step"]
    assert [s["status"] for s in steps] == ["CONTINUE", "CONTINUE", "ASK_USER", "CONTINUE", "DONE"]
    assert steps[0]["tokens"]["prompt"] > 0 and steps[0]["timings"]["model"] > 0
    html = httpx.get(f"{base}/v1/sessions/{info.id}/trace.html").text
    assert "Buy green tea" in html and (traces / info.id / "trace.jsonl").is_file()


def test_http_errors_are_clear(stack):
    site, _, client, base, _ = stack
    with pytest.raises(AgentAPIError, match="404.*no session 'nope'"):
        client.step("nope")
    sessions = len(client.list())
    info = client.create("Buy green tea", url=site.url("/"))
    with pytest.raises(AgentAPIError, match="409.*not waiting for the person"):
        client.step(info.id, "approve")
    r = httpx.post(f"{base}/v1/sessions", json={"input": ""})
    assert r.status_code == 422 and [e["loc"] for e in r.json()["detail"]] == [["body", "input"]]
    r = httpx.post(f"{base}/v1/sessions", json={"input": "x", "options": {"policy": {"rules": {"buy": "allow"}}}})
    assert r.status_code == 422 and "buy" in r.text
    assert all(e["loc"][:3] == ["body", "options", "policy"] for e in r.json()["detail"])
    assert info.id in [s.id for s in client.list()] and len(client.list()) == sessions + 1   # none made
    r = httpx.post(f"{base}/v1/sessions", json={"input": "x", "url": "ftp://files.test/"})
    assert r.status_code == 400 and "cannot open the start url" in r.json()["error"]["message"]
    assert info.id in [s.id for s in client.list()]
    client.close(info.id)
    assert info.id not in [s.id for s in client.list()]
    with pytest.raises(AgentAPIError, match="404"):
        client.retrieve(info.id)
