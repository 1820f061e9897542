"""Errors in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`.

Clients written for OpenAI (its own Python library included) read this body
to tell the user what went wrong, so every refusal the server makes, from a
malformed JSON body to an unknown route, answers in it, with a message that
names the problem and what to do.
"""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

log = logging.getLogger(__name__)

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
          405: "invalid_request_error", 413: "invalid_request_error", 422: "invalid_request_error",
          429: "rate_limit_error"}


class APIError(Exception):
    """A refusal the server means to make, with OpenAI's error fields."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 type: str | None = None):
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code
        self.type = type or _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")


def error_body(message: str, type: str, param: str | None = None, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def error_response(status: int, message: str, param: str | None = None, code: str | None = None,
                   type: str | None = None, headers: dict | None = None) -> JSONResponse:
    e = APIError(status, message, param, code, type)
    return JSONResponse(error_body(e.message, e.type, e.param, e.code), status_code=status, headers=headers)


def _json_kind(value) -> str:
    return {list: "array", str: "string", bool: "boolean", int: "number", float: "number",
            type(None): "null"}.get(type(value), type(value).__name__)


_TYPE_TAGS = {"str", "int", "float", "bool", "dict", "list", "none"}


def _parts(loc: tuple) -> list:
    """('body', 'stop', 'list[constrained-str]', 1) -> ['stop', 1]: the field's path, without
    the names pydantic gives the members of a union it tried."""
    parts = loc[1:] if loc and loc[0] == "body" else loc
    return [p for p in parts if isinstance(p, int) or not (p in _TYPE_TAGS or any(c in p for c in "[(-"))]


def _member(loc: tuple) -> str | None:
    """The union member pydantic was trying when it failed ('list[constrained-int]'), if any."""
    parts = loc[1:] if loc and loc[0] == "body" else loc
    return next((p for p in parts if isinstance(p, str) and (p in _TYPE_TAGS or any(c in p for c in "[(-"))), None)


def _param(loc: tuple) -> str | None:
    """('body', 'messages', 0, 'role') -> 'messages[0].role'."""
    path = ""
    for part in _parts(loc):
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or None


def validation_message(errors: list[dict]) -> tuple[str, str | None]:
    """One readable sentence (and the parameter at fault) from pydantic's errors."""
    e = errors[0]
    kind, loc = e.get("type"), tuple(e.get("loc", ()))
    if kind == "json_invalid":
        detail = (e.get("ctx") or {}).get("error", "")
        where = f" at character {loc[1]}" if len(loc) > 1 and isinstance(loc[1], int) else ""
        return f"the request body is not valid JSON ({detail}{where}); send a JSON object", None
    if loc == ("body",) and kind == "missing":
        return "the request body is missing; send a JSON object with Content-Type: application/json", None
    if loc == ("body",) and kind in ("model_attributes_type", "model_type", "dict_type"):
        got = e.get("input")
        got = "raw bytes" if isinstance(got, (bytes, bytearray)) else f"a JSON {_json_kind(got)}"
        return f"the request body must be a JSON object (sent with Content-Type: application/json), not {got}", None
    cause = (e.get("ctx") or {}).get("error")
    if getattr(cause, "param", None):   # a check across fields that names the field at fault
        where = _param(loc)
        return str(cause), f"{where}.{cause.param}" if where else cause.param
    param = _param(loc)
    if kind == "extra_forbidden":
        return f"unrecognized request argument supplied: {param}", param
    # a field of several accepted types fails once per type: report the type that got furthest
    # (a list whose item 1 is wrong), or, when none did, every type it could have been
    same = [x for x in errors if _parts(tuple(x.get("loc", ())))[:1] == _parts(loc)[:1]]
    members: dict[str | None, list[dict]] = {}
    for x in same:
        members.setdefault(_member(tuple(x.get("loc", ()))), []).append(x)
    score = lambda xs: (len(xs), -len(_parts(tuple(xs[0].get("loc", ())))))  # noqa: E731
    least = min(score(xs) for xs in members.values())
    best = [xs[0] for xs in members.values() if score(xs) == least]
    param = _param(tuple(best[0].get("loc", ())))
    msg = " or ".join(dict.fromkeys(_sentence(x) for x in best))
    rest = len(errors) - len(same)
    more = f" (and {rest} more problem{'s' * (rest > 1)})" if rest else ""
    if not param:
        return f"{msg}{more}", None
    return (f"{param} {msg}{more}" if msg == "is required" else f"{param}: {msg}{more}"), param


def _sentence(e: dict) -> str:
    msg = e.get("msg", "is invalid")
    if e.get("type") == "missing":
        return "is required"
    if msg.startswith("Value error, "):
        return msg.removeprefix("Value error, ")
    return msg[0].lower() + msg[1:]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError):
        return JSONResponse(error_body(exc.message, exc.type, exc.param, exc.code), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        message, param = validation_message(list(exc.errors()))
        return error_response(400, message, param)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404:
            message = f"no route {request.method} {request.url.path}; see GET /v1/models, POST /v1/completions, " \
                      "POST /v1/chat/completions"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error_response(500, f"internal server error ({type(exc).__name__}); the request was valid, "
                                   "the server failed", type="server_error")
