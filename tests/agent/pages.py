"""Tiny web sites for the agent's browser tests, served on 127.0.0.1 in a thread.

`serve_pages({"/": html, "/echo": lambda params: html})` answers GET and POST
with the page (404 otherwise; a callable page is made from the parameters) and
records every request, so a test can read what a form submitted (`requests`).
The same server answers as http://127.0.0.1:PORT and http://localhost:PORT,
which the policy sees as two different domains.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@dataclass
class Site:
    server: ThreadingHTTPServer
    pages: dict
    requests: list[tuple[str, str, dict]] = field(default_factory=list)  # (method, path, params)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def hits(self, path: str) -> list[dict]:
        return [params for _, p, params in self.requests if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_pages(pages: dict) -> Site:
    site: Site

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, params: dict) -> None:
            path = urlparse(self.path).path
            site.requests.append((self.command, path, params))
            body = site.pages.get(path)
            if callable(body):  # a page made from the request's parameters
                body = body(params)
            if body is None:
                self.send_response(404)
                body = "<html><body>not found</body></html>"
            else:
                self.send_response(200)
            data = body.encode()
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802
            self._answer({k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()})

        def do_POST(self):  # noqa: N802
            n = int(self.headers.get("Content-Length") or 0)
            self._answer({k: v[0] for k, v in parse_qs(self.rfile.read(n).decode()).items()})

        def log_message(self, *args):  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site = Site(server, dict(pages))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return site


def page(body: str, title: str = "Test page") -> str:
    return f"<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>"

