"""An ASGI app served by uvicorn from a background thread of this process.

For tests, notebooks and benchmarks that want a real server on a real socket
(the `openai` client, a browser, `curl`) without a second process. The OpenAI
API (`llmos.serve`) and the agent's web task suite both run this way, so it
sits below both layers:

    with serve_in_background(app) as base_url:       # http://127.0.0.1:PORT
        OpenAI(base_url=base_url + "/v1", api_key="none").models.list()

Port 0 (the default) takes any free port; the socket is bound before the
thread starts, so the URL is known and valid at once, and parallel test
workers never collide. On exit the server is told to stop and its thread joined.
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def serve_in_background(app: Any, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning",
                        timeout: float = 30.0, extra: str = "serve", **uvicorn_options: Any) -> Iterator[str]:
    """Serve `app` until the block ends; yields its base URL.

    uvicorn_options go to `uvicorn.Config`; `extra` is the llmos extra to name if uvicorn is missing.
    """
    from llmos.extras import require_extra
    uvicorn = require_extra("uvicorn", extra)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=1,
                                           **uvicorn_options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name=f"llmos-http-{sock.getsockname()[1]}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the HTTP server on {host}:{sock.getsockname()[1]} did not start "
                                   f"within {timeout:.0f} s; see the log above")
            time.sleep(0.01)
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
