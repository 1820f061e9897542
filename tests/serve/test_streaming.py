"""A client that hangs up stops its generation: the engine frees the slot.

Each check waits for its condition with a generous deadline; what tells a
cancelled request from one that simply ran to the end is the engine's step
count (90 tokens take 90 steps), not the clock.
"""
import json
import socket
import time
from urllib.parse import urlparse

import httpx
import pytest

from tests.serve.conftest import wait_until


@pytest.fixture
def slow_engine(served, server):
    """Each engine step takes 50 ms more, so a request is still running when its client leaves
    (90 tokens take at least 4.5 s)."""
    model = served.engine.model
    forward = model.forward

    def slow(*args, **kwargs):
        time.sleep(0.05)
        return forward(*args, **kwargs)

    model.forward = slow
    yield served.engine
    model.forward = forward


def test_disconnected_streaming_client_frees_its_slot(server, slow_engine):
    body = {"model": "tiny", "prompt": "the", "max_tokens": 90, "temperature": 0, "stream": True, "ignore_eos": True}
    with httpx.stream("POST", f"{server}/v1/completions", json=body, timeout=30) as r:
        lines = r.iter_lines()
        got = [next(lines) for _ in range(4)]
        assert got[0].startswith("data: ")
        assert slow_engine.num_active == 1
        steps_at_hangup = slow_engine.steps
    # the response is closed: the server sees the disconnect and cancels the request
    wait_until(lambda: slow_engine.num_active == 0, timeout=30)
    assert slow_engine.steps - steps_at_hangup < 80      # short of the 90 tokens asked for
    assert_still_serving(server)


def test_client_that_gives_up_on_a_plain_request_frees_its_slot(server, slow_engine):
    body = json.dumps({"model": "tiny", "prompt": "the", "max_tokens": 90, "temperature": 0,
                       "ignore_eos": True}).encode()
    url = urlparse(server)
    # a raw socket, so the client hangs up exactly when the request is being decoded,
    # however slowly the server got to it
    with socket.create_connection((url.hostname, url.port), timeout=30) as conn:
        conn.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        wait_until(lambda: slow_engine.num_active == 1, timeout=30)
        steps_at_hangup = slow_engine.steps
    wait_until(lambda: slow_engine.num_active == 0, timeout=30)
    assert slow_engine.steps - steps_at_hangup < 80      # cancelled, not run to its 90 tokens
    assert_still_serving(server)


def test_health_reports_the_active_count(server, slow_engine):
    body = {"model": "tiny", "prompt": "the", "max_tokens": 60, "stream": True, "ignore_eos": True}
    with httpx.stream("POST", f"{server}/v1/completions", json=body, timeout=30) as r:
        lines = r.iter_lines()   # kept: a dropped iterator closes the stream
        next(lines)
        assert httpx.get(f"{server}/health").json()["active"] == 1
    wait_until(lambda: httpx.get(f"{server}/health").json()["active"] == 0, timeout=30)


def assert_still_serving(server):
    body = {"model": "tiny", "prompt": "the", "max_tokens": 2, "ignore_eos": True}
    ok = httpx.post(f"{server}/v1/completions", json=body, timeout=30)
    assert ok.status_code == 200 and ok.json()["usage"]["completion_tokens"] == 2
