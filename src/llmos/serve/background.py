"""Run the HTTP server in a background thread of this process.

For tests, notebooks and benchmarks that want a real server on a real socket
(the `openai` client, a browser, `curl`) without a second process:

    with serve_in_background(create_app(served)) as base_url:   # http://127.0.0.1:PORT
        OpenAI(base_url=base_url + "/v1", api_key="none").models.list()

Port 0 (the default) takes any free port; the socket is bound before the
thread starts, so the URL is known and valid at once.
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn


@contextmanager
def serve_in_background(app, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning",
                        timeout: float = 30.0) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="llmos-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the HTTP server did not start; see the log above")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
