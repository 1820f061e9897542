"""An optional API key for the `/v1` routes (`Authorization: Bearer KEY`).

Checked in ASGI middleware, before the body is read, so a caller without the
key learns only that it needs one (401), whatever else is wrong with its
request. Keys are compared in constant time. `/health` stays open, so a
process supervisor can probe the server without the key.
"""
from __future__ import annotations

import secrets

from starlette.types import ASGIApp, Receive, Scope, Send

from llmos.serve.errors import error_response


class APIKeyMiddleware:
    def __init__(self, app: ASGIApp, api_key: str, protected_prefix: str = "/v1"):
        self.app, self.api_key, self.prefix = app, api_key, protected_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            headers = dict(scope["headers"])
            auth = headers.get(b"authorization", b"").decode("latin-1").strip()
            given = auth[7:].strip() if auth[:7].lower() == "bearer " else None
            if given is None:
                response = error_response(401, "no API key given; send it as the header "
                                               "'Authorization: Bearer YOUR_KEY'", code="invalid_api_key",
                                          headers={"WWW-Authenticate": "Bearer"})
                return await response(scope, receive, send)
            if not secrets.compare_digest(given.encode(), self.api_key.encode()):
                response = error_response(401, "incorrect API key provided", code="invalid_api_key",
                                          headers={"WWW-Authenticate": "Bearer"})
                return await response(scope, receive, send)
        await self.app(scope, receive, send)
