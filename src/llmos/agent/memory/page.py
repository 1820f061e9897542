"""The /memory page and its JSON API: the person sees, searches, corrects, deletes and exports.

    GET    /memory                              the page (HTML; its script calls the API below)
    GET    /memory/api/people                   whose memories this server keeps
    GET    /memory/api/items?person=&q=&kind=&history=   newest first, or search results for q
    GET    /memory/api/items/{id}?person=       one item, its history, and a learned one's choices
    PATCH  /memory/api/items/{id}?person=       {"text"?, "value"?}: a correction (history kept)
    DELETE /memory/api/items/{id}?person=       forget it and its history (row, words, vector)
    GET    /memory/api/preferences?person=      stated and learned preferences, with evidence
    GET    /memory/api/export?person=           the JSON export (a download)

Everything sits behind the server's API key: `Authorization: Bearer KEY`, or
a cookie the page sets when opened once as /memory?key=KEY (then the key
leaves the address bar). Serve it on 127.0.0.1 only.
"""
from __future__ import annotations

import functools
import hmac
import json
from importlib import resources

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict

from llmos.agent.memory.hooks import MemoryBank
from llmos.agent.memory.store import KINDS, StoreError

COOKIE = "llmos_memory_key"


class Correction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | None = None
    value: str | None = None


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"message": message, "type": "memory"}})


def memory_router(bank: MemoryBank, api_key: str) -> APIRouter:
    if not api_key:
        raise ValueError("the /memory page needs an API key")
    api = APIRouter()

    def allowed(request: Request) -> bool:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip() \
            or request.cookies.get(COOKIE, "")
        return hmac.compare_digest(given.encode(), api_key.encode())

    def memory(person: str):
        try:
            return bank.memory(person or "me")
        except StoreError as e:
            raise ValueError(str(e)) from None

    def guarded(fn):
        """The key check and the error mapping (unknown id 404, bad input 400) around an endpoint."""
        @functools.wraps(fn)   # FastAPI reads the endpoint's parameters through __wrapped__
        def wrapper(request: Request, *args, **kwargs):
            if not allowed(request):
                return _error(401, "this page needs the agent server's API key: open /memory?key=KEY "
                                   "or send Authorization: Bearer KEY")
            try:
                return fn(request, *args, **kwargs)
            except KeyError as e:
                return _error(404, str(e).strip("'\""))
            except ValueError as e:
                return _error(400, str(e))
        return wrapper

    @api.get("/memory", response_class=HTMLResponse)
    def page(request: Request, key: str = ""):
        if key:
            if not hmac.compare_digest(key.encode(), api_key.encode()):
                return HTMLResponse("<p>Wrong key.</p>", status_code=401)
            resp = RedirectResponse("/memory", status_code=303)
            resp.set_cookie(COOKIE, key, httponly=True, samesite="strict")
            return resp
        if not allowed(request):
            return HTMLResponse("<p>This page needs the agent server's API key: open "
                                "<code>/memory?key=KEY</code>.</p>", status_code=401)
        return HTMLResponse(resources.files("llmos.agent.memory").joinpath("page.html").read_text())

    @api.get("/memory/api/people")
    @guarded
    def people(request: Request):
        return {"people": bank.people() or ["me"]}

    @api.get("/memory/api/items")
    @guarded
    def items(request: Request, person: str = "me", q: str = "", kind: str = "", history: bool = False):
        if kind and kind not in KINDS:
            raise ValueError(f"kind {kind!r} is not one of {KINDS}")
        m = memory(person)
        kinds = [kind] if kind else None
        if q.strip():
            return {"items": [h.to_dict() for h in m.search(q, k=50, kinds=kinds, include_history=history)]}
        return {"items": [i.to_dict() for i in m.store.items(kinds=kinds, live=None if history else True,
                                                                 limit=500)],
                "core": m.core()}

    @api.get("/memory/api/items/{item_id}")
    @guarded
    def item(request: Request, item_id: int, person: str = "me"):
        m = memory(person)
        chain = m.history(item_id)
        out = {"item": chain[0].to_dict(), "history": [i.to_dict() for i in chain[1:]]}
        if chain[0].key.startswith("learned:"):
            out["choices"] = m.store.choices(chain[0].key.split(":")[1])
        return out

    @api.patch("/memory/api/items/{item_id}")
    @guarded
    def correct(request: Request, item_id: int, body: Correction, person: str = "me"):
        if body.text is None and body.value is None:
            raise ValueError("a correction needs text or value")
        saved = memory(person).update(item_id, text=body.text, value=body.value, source="person")
        return {"item": saved.item.to_dict(), "replaced": saved.previous.id if saved.previous else None}

    @api.delete("/memory/api/items/{item_id}")
    @guarded
    def forget(request: Request, item_id: int, person: str = "me"):
        return {"forgotten": memory(person).forget(item_id)}

    @api.get("/memory/api/preferences")
    @guarded
    def preferences(request: Request, person: str = "me"):
        out = []
        for p in memory(person).preferences():
            evidence = json.loads(p.value) if p.source == "learned" else None
            out.append({**p.to_dict(), "evidence": evidence})
        return {"preferences": out}

    @api.get("/memory/api/export")
    @guarded
    def export(request: Request, person: str = "me"):
        body = json.dumps(memory(person).export(), indent=1, ensure_ascii=False)
        return Response(body, media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{person}-memory.json"'})

    return api


def mount_memory(app: FastAPI, bank: MemoryBank, api_key: str) -> None:
    """Serve the /memory page and its API on `app` (the agent server)."""
    app.include_router(memory_router(bank, api_key))
