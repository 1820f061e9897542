"""Serve the suite on 127.0.0.1 from a background thread, for tests and benchmarks.

    with SuiteServer() as suite:
        page.goto(suite.url("/shop/"))
        ...
        suite.state.shop.orders     # read by the task checks
        suite.reset()               # before the next task

The port is picked by the kernel (bind to port 0), so parallel test workers
never collide, and the server is stopped and joined on exit.
"""
from __future__ import annotations

import socket
import threading
import time

import uvicorn

from llmos.agent.suite.app import SuiteState, create_app


class SuiteServer:
    """The suite's sites in this process; `state` is the live server-side state."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, start_timeout: float = 10.0):
        self.state = SuiteState()
        self.app = create_app(self.state)
        self.host, self.port = host, port
        self.start_timeout = start_timeout
        self._server: uvicorn.Server | None = None
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def reset(self) -> None:
        self.state.reset()

    def start(self) -> "SuiteServer":
        if self._thread is not None:
            raise RuntimeError("SuiteServer is already running; use one `with` block per server")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._socket = sock  # uvicorn serves on this very socket; closed after the server stops
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"suite-server-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the suite server on {self.base_url} did not start "
                                   f"within {self.start_timeout:.0f} s")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> "SuiteServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
