"""A client that hangs up stops its generation: the engine frees the slot."""
import time

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
    wait_until(lambda: slow_engine.num_active == 0, timeout=4)
    assert slow_engine.steps - steps_at_hangup < 80      # short of the 90 tokens asked for
    ok = httpx.post(f"{server}/v1/completions", json={"model": "tiny", "prompt": "the", "max_tokens": 2}, timeout=30)
    assert ok.status_code == 200


def test_client_that_gives_up_on_a_plain_request_frees_its_slot(server, slow_engine):
    body = {"model": "tiny", "prompt": "the", "max_tokens": 90, "temperature": 0, "ignore_eos": True}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{server}/v1/completions", json=body, timeout=0.3)
    assert slow_engine.num_active == 1
    wait_until(lambda: slow_engine.num_active == 0, timeout=4)


def test_health_reports_the_active_count(server, slow_engine):
    body = {"model": "tiny", "prompt": "the", "max_tokens": 60, "stream": True, "ignore_eos": True}
    with httpx.stream("POST", f"{server}/v1/completions", json=body, timeout=30) as r:
        lines = r.iter_lines()   # kept: a dropped iterator closes the stream
        next(lines)
        assert httpx.get(f"{server}/health").json()["active"] == 1
    wait_until(lambda: httpx.get(f"{server}/health").json()["active"] == 0, timeout=4)
