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

from contextlib import ExitStack

from llmos.agent.suite.app import SuiteState, create_suite_app
from llmos.background_server import serve_in_background


class SuiteServer:
    """The suite's sites in this process; `state` is the live server-side state."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, start_timeout: float = 10.0):
        self.state = SuiteState()
        self.app = create_suite_app(self.state)
        self.host, self.port = host, port
        self.start_timeout = start_timeout
        self._running: ExitStack | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def reset(self) -> None:
        self.state.reset()

    def start(self) -> "SuiteServer":
        if self._running is not None:
            raise RuntimeError("SuiteServer is already running; use one `with` block per server")
        stack = ExitStack()
        url = stack.enter_context(serve_in_background(self.app, self.host, self.port, timeout=self.start_timeout,
                                                      extra="agent", access_log=False, lifespan="off"))
        self.port = int(url.rsplit(":", 1)[1])
        self._running = stack
        return self

    def stop(self) -> None:
        if self._running is not None:
            self._running.close()
        self._running = None

    def __enter__(self) -> "SuiteServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
