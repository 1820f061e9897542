"""One scripted llmos agent served over A2A in its own process, shared by the A2A tests."""
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def a2a_url(tmp_path_factory):
    if not os.access("/usr/bin/chromium", os.X_OK):
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.agent.a2a.app", str(port),
                             str(tmp_path_factory.mktemp("a2a-traces"))])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # a loaded machine starts Chromium slowly
    while True:
        try:
            httpx.get(url + "/.well-known/agent-card.json", timeout=2).raise_for_status()
            break
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("the A2A test server did not start")
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(10)
